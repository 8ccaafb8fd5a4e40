package msts.model.sae;

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

    @Override
    public void decode(float[] f, int rows, float[] xhat) {
        ops.gemm(false, false, rows, cfg.dIn, cfg.dSae, 1f, f, 0, cfg.dSae, params.W_dec, 0, cfg.dIn, 0f, xhat, 0, cfg.dIn);
        SaeKernels.addRowVector(xhat, params.b_dec, cfg.dIn, 0, rows);
    }

    @Override public float[] decoderWeights() { return params.W_dec; }

    @Override public Map<String, Object> cfg() { return cfg.toMap(); }

    @Override
    public void save(Path dir) throws IOException {
        SaeIO.save(dir, cfg, params, threshold);
    }
}
