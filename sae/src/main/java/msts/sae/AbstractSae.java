package msts.sae;

import msts.engine.Ops;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Shared implementation of {@link Sae}: parameters in raw activation space + the forward kernels. */
public abstract class AbstractSae implements Sae {
    protected final SaeConfig cfg;
    protected final SaeParams params;
    protected final float[] threshold;
    private final Ops ops;
    private final SaeLoss forward;

    protected AbstractSae(SaeConfig cfg, SaeParams params, float[] threshold, Ops ops) {
        this.cfg = cfg;
        this.params = params;
        this.threshold = threshold;
        this.ops = ops;
        this.forward = new SaeLoss(cfg, ops, threshold);
    }

    public SaeConfig config() { return cfg; }

    public SaeParams params() { return params; }

    @Override public int dIn() { return cfg.dIn; }

    @Override public int dSae() { return cfg.dSae; }

    @Override public String architecture() { return cfg.architecture; }

    @Override
    public synchronized void encode(float[] x, int nSeq, int T, float[] f) {
        if (x.length < (long) nSeq * T * cfg.dIn) throw new IllegalArgumentException("x has " + x.length + " values, need " + (long) nSeq * T * cfg.dIn);
        forward.encode(params, x, nSeq, T);
        System.arraycopy(forward.features(), 0, f, 0, nSeq * T * cfg.dSae);
    }

    private final SparseRows sparse = new SparseRows();

    /** x̂ = f·W_dec + b_dec; skips the zero latents when f is sparse enough ({@link SaeLoss#autoSparseThreshold}). */
    @Override
    public synchronized void decode(float[] f, int rows, float[] xhat) {
        int d = cfg.dIn, n = cfg.dSae;
        if (sparse.count(f, rows, n) <= SaeLoss.autoSparseThreshold(n, d) * rows * n) {
            sparse.gather(f, false);
            Par.rows(rows, 8, (lo, hi) -> SaeVectorKernels.spmmRows(sparse.start, sparse.idx, sparse.val, params.W_dec, d, xhat, false, lo, hi));
        } else {
            ops.gemm(false, false, rows, d, n, 1f, f, 0, n, params.W_dec, 0, d, 0f, xhat, 0, d);
        }
        Par.rows(rows, 16, (lo, hi) -> SaeKernels.addRowVector(xhat, params.b_dec, d, lo, hi));
    }

    @Override public float[] decoderWeights() { return params.W_dec; }

    @Override public float[] encoderWeights() { return params.W_enc; }

    @Override public float[] encoderBias() { return params.b_enc; }

    @Override public Map<String, Object> cfg() { return cfg.toMap(); }

    @Override
    public void save(Path dir) throws IOException {
        SaeIO.save(dir, cfg, params, threshold);
    }
}
