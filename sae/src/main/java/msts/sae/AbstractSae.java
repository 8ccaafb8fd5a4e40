package msts.sae;

import msts.engine.Ops;
import msts.model.gemma.SaeSplice;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * What every SAE shares (formulas: docs/sae.md): parameters in their own space, the input stage
 * ({@link InputStage}), the encoder product, the decoder (dense GEMM or sparse product, {@link SparsePolicy}),
 * the MSE and its backward, batch statistics, and the separation loss of the decoder directions
 * ({@link SeparationLoss}). A subclass is one activation: it owns {@link #activate} and its own loss term
 * ({@link #penalty} / {@link #penaltyBackward}: L1 for {@link StandardSae}, AuxK for {@link TopKSae}).
 *
 * <p>A batch is nSeq sequences of T tokens (T = 1 for shuffled-token batches), rows r = s·T + t; rows with
 * t &lt; lossStart (BOS) feed the convolution but are left out of every loss term and statistic. Matrix
 * products go through {@link Ops#gemm}; everything else through {@link SaeKernels}, parallel over rows.
 * Buffers are reused across calls; the methods are synchronized (one call at a time per instance).
 */
public abstract class AbstractSae implements Sae {
    /** Per-call inputs of the training loss (SAELens' TrainStepInput). */
    public record LossInput(int lossStart, float l1, boolean[] dead, long sepSeed, SparsePolicy products) {
        public LossInput {
            if (products == null) products = SparsePolicy.AUTO;
        }
    }

    /** Loss terms and batch statistics of one call. */
    public record LossTerms(double loss, double mse, double l1, double aux, double sep, double l0,
                            double explainedVariance, int countedRows, int deadLatents) {}

    protected final SaeConfig cfg;
    protected final SaeParams params;
    protected final Ops ops;
    protected final InputStage input;
    protected final int d, n;
    private final SeparationLoss separation;

    private int cap = -1;
    protected float[] xc, z, pre, f, xhat, e, df;
    private float[] dz, dxc, zBuf;
    private double[] rowSq;
    protected final float[] norms, colF;
    protected final int[] fireCount;
    /** CSR (and CSC) of f when the last call took the sparse products (or the coactive separation needed it). */
    protected final SparseRows fS = new SparseRows();
    private final SparseRows dS = new SparseRows(), decodeRows = new SparseRows();
    private float[] dval, wT;
    private boolean lastSparse;
    /**
     * Test hook: AuxK fits this fixed residual instead of x − x̂ (the residual is detached, as in SAELens,
     * so finite differences of the loss must hold it constant).
     */
    float[] frozenResidual;

    protected AbstractSae(SaeConfig cfg, SaeParams params, Ops ops) {
        InputStage stage = InputStage.of(cfg);
        if (params.dIn != cfg.dIn() || params.dSae != cfg.dSae() || params.nScales != stage.nScales())
            throw new IllegalArgumentException("parameters " + params.dIn + "→" + params.dSae + " (" + params.nScales
                    + " conv scales) do not match the config " + cfg.dIn() + "→" + cfg.dSae() + " (" + stage.nScales() + ")");
        this.cfg = cfg;
        this.params = params;
        this.ops = ops;
        this.input = stage;
        this.d = cfg.dIn();
        this.n = cfg.dSae();
        this.separation = new SeparationLoss(cfg.separation(), ops, n, d);
        norms = new float[n];
        colF = new float[n];
        fireCount = new int[n];
    }

    public SaeConfig config() { return cfg; }

    /** The parameters this SAE computes with (not a copy: the trainer updates them in place). */
    public SaeParams params() { return params; }

    @Override public int dIn() { return d; }

    @Override public int dSae() { return n; }

    @Override public Architecture architecture() { return cfg.architecture(); }

    @Override public float[] decoderWeights() { return params.W_dec; }

    @Override public float[] encoderWeights() { return params.W_enc; }

    @Override public float[] encoderBias() { return params.b_enc; }

    @Override public Map<String, Object> cfg() { return cfg.toMap(); }

    /** Tensors beyond {@link SaeParams#NAMES} written to sae_weights.safetensors (JumpReLU: threshold). */
    public Map<String, float[]> extraTensors() { return Map.of(); }

    /** Training state beyond the parameters, kept in checkpoints (BatchTopK: its inference threshold). */
    public Map<String, Double> trainingState() { return Map.of(); }

    /** Restores {@link #trainingState} from a checkpoint. */
    public void restoreTrainingState(Map<String, ?> state) {}

    /**
     * The SAE as saved for inference, over folded (raw-space) parameters with config exportCfg: the same class by
     * default; BatchTopK becomes a JumpReLU SAE (SAELens' inference conversion).
     */
    public AbstractSae forInference(SaeConfig exportCfg, SaeParams folded) {
        return SaeRegistry.create(exportCfg, folded, extraTensors(), ops);
    }

    /**
     * This SAE's inference forward as plain arrays (the parameters themselves, not copies) for an engine that runs
     * an SAE splice on its device ({@link SaeSplice}); subclasses name their activation.
     */
    public SaeSplice.Encoder spliceEncoder() { return spliceEncoder(SaeSplice.Act.RELU, 0, null); }

    protected final SaeSplice.Encoder spliceEncoder(SaeSplice.Act act, int k, float[] threshold) {
        return new SaeSplice.Encoder(d, n, params.W_enc, params.b_enc, params.W_dec, params.b_dec,
                cfg.temporal() ? params.conv_w : new float[0], cfg.temporal() ? cfg.dilations() : new int[0],
                cfg.centred(), act, k, threshold);
    }

    /** Whether {@link #loss} is implemented (false: load and inference only). */
    public boolean trainable() { return true; }

    @Override
    public void save(Path dir) throws IOException {
        SaeIO.save(dir, cfg, params, extraTensors());
    }

    // ---- the activation's part ----

    /** f = act(pre) for rows [0, N) ([N, d_sae]). */
    protected abstract void activate(float[] pre, float[] f, int N);

    /** The activation's own loss term on the forward pass (L1, AuxK): sets pass.l1 / pass.aux. */
    protected abstract void penalty(Pass pass);

    /**
     * Adds the gradient of {@link #penalty} into pass.grad and pass.dpre; dpre already holds ∂MSE/∂pre
     * (masked to the active latents) and grad.W_dec, grad.b_dec the MSE part.
     */
    protected abstract void penaltyBackward(Pass pass);

    /**
     * Dense products only: sees the full ∂L/∂f = δ·W_decᵀ [N, d_sae] before it is masked to the active latents
     * (JumpReLU's θ pseudo-gradient needs it just below the threshold too).
     */
    protected void denseDf(Pass pass, float[] df) {}

    /** Mixes activation-specific active sets into {@link #activePatternHash} (AuxK selection). */
    protected long hashExtra(long h, int N) { return h; }

    /** State of one {@link #loss} call, shared with the activation's term. */
    protected static final class Pass {
        public final SaeParams p, grad;
        public final float[] x;
        public final int N, T, lossStart, counted;
        public final float invM;
        public final LossInput in;
        public final boolean sparse;
        /** x̂ − x (forward), then ∂L/∂x̂ (backward). */
        public float[] e;
        public float[] dpre;
        public double l1, aux;
        public int deadLatents;

        Pass(SaeParams p, float[] x, int nSeq, int T, LossInput in, boolean sparse, SaeParams grad, float[] e) {
            this.p = p;
            this.x = x;
            this.N = nSeq * T;
            this.T = T;
            this.lossStart = in.lossStart();
            this.counted = nSeq * (T - in.lossStart());
            this.invM = 1f / counted;
            this.in = in;
            this.sparse = sparse;
            this.grad = grad;
            this.e = e;
        }

        public boolean counted(int r) { return r % T >= lossStart; }
    }

    // ---- buffers ----

    private void ensure(int rows) {
        if (rows <= cap) return;
        cap = rows;
        xc = new float[rows * d];
        zBuf = input.needsDz() ? new float[rows * d] : null;
        pre = new float[rows * n];
        f = new float[rows * n];
        xhat = new float[rows * d];
        e = new float[rows * d];
        df = new float[rows * n];
        rowSq = new double[rows];
        if (input.needsDz()) {
            dz = new float[rows * d];
            dxc = new float[rows * d];
        }
        resized(rows);
    }

    /** Called when the row capacity grows (subclasses drop their row buffers). */
    protected void resized(int rows) {}

    /** Feature activations of the last call, [rows, d_sae] (valid until the next call). */
    public float[] features() { return f; }

    /** Reconstruction x̂ of the last call, [rows, d_in]. */
    public float[] reconstruction() { return xhat; }

    /** Per latent: number of counted rows of the last {@link #loss} call where it fired (f > 0). */
    public int[] fireCount() { return fireCount; }

    /** Whether the last {@link #loss} call used the sparse products. */
    public boolean lastCallSparse() { return lastSparse; }

    // ---- inference ----

    @Override
    public synchronized void encode(float[] x, int nSeq, int T, float[] out) {
        if (x.length < (long) nSeq * T * d) throw new IllegalArgumentException("x has " + x.length + " values, need " + (long) nSeq * T * d);
        forward(params, x, nSeq, T);
        System.arraycopy(f, 0, out, 0, nSeq * T * n);
    }

    /** Encoder: xc = x − b_dec, z = stage(xc), pre = z·W_enc + b_enc, f = act(pre), into this SAE's buffers. */
    public synchronized void forward(SaeParams p, float[] x, int nSeq, int T) {
        int N = nSeq * T;
        ensure(N);
        Par.rows(N, 16, (lo, hi) -> SaeKernels.subRowVector(x, p.b_dec, xc, d, lo, hi));
        z = input.forward(p, xc, N, T, zBuf);
        ops.gemm(false, false, N, n, d, 1f, z, 0, d, p.W_enc, 0, n, 0f, pre, 0, n);
        Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(pre, p.b_enc, n, lo, hi));
        activate(pre, f, N);
    }

    /** x̂ = f·W_dec + b_dec; skips the zero latents when f is sparse enough ({@link SparsePolicy#AUTO}). */
    @Override
    public synchronized void decode(float[] fIn, int rows, float[] out) {
        if (SparsePolicy.AUTO.sparse(decodeRows.count(fIn, rows, n), rows, n, d)) {
            decodeRows.gather(fIn, false);
            Par.rows(rows, 8, (lo, hi) -> SaeVectorKernels.spmmRows(decodeRows.start, decodeRows.idx, decodeRows.val, params.W_dec, d, out, false, lo, hi));
        } else {
            ops.gemm(false, false, rows, d, n, 1f, fIn, 0, n, params.W_dec, 0, d, 0f, out, 0, d);
        }
        Par.rows(rows, 16, (lo, hi) -> SaeKernels.addRowVector(out, params.b_dec, d, lo, hi));
    }

    // ---- training loss ----

    /** {@link #loss(SaeParams, float[], int, int, LossInput, SaeParams)} on this SAE's own parameters. */
    public LossTerms loss(float[] x, int nSeq, int T, LossInput in, SaeParams grad) {
        return loss(params, x, nSeq, T, in, grad);
    }

    /**
     * The training loss on batch x (and, if grad != null, its gradient w.r.t. every parameter into grad):
     * MSE + the activation's term + separation. p must have this SAE's shapes.
     */
    public synchronized LossTerms loss(SaeParams p, float[] x, int nSeq, int T, LossInput in, SaeParams grad) {
        if (!trainable()) throw new UnsupportedOperationException("the " + cfg.architecture() + " SAE has no training loss");
        int N = nSeq * T, lossStart = in.lossStart();
        if (nSeq * (T - lossStart) <= 0) throw new IllegalArgumentException("no rows counted in the loss (T=" + T + ", lossStart=" + lossStart + ")");
        forward(p, x, nSeq, T);
        boolean nnzCounted = in.products().effective(n, d) > 0; // DENSE skips the count, as before
        boolean sparse = nnzCounted && in.products().sparse(fS.count(f, N, n), N, n, d);
        lastSparse = sparse;
        Pass c = new Pass(p, x, nSeq, T, in, sparse, grad, e);
        if (sparse) {
            fS.gather(f, grad != null);
            Par.rows(N, 8, (lo, hi) -> {
                SaeVectorKernels.spmmRows(fS.start, fS.idx, fS.val, p.W_dec, d, xhat, false, lo, hi);
                SaeKernels.addRowVector(xhat, p.b_dec, d, lo, hi);
            });
        } else {
            ops.gemm(false, false, N, d, n, 1f, f, 0, n, p.W_dec, 0, d, 0f, xhat, 0, d);
            Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(xhat, p.b_dec, d, lo, hi));
        }
        Par.rows(N, 16, (lo, hi) -> SaeKernels.diffRowSq(xhat, x, e, rowSq, d, lo, hi));

        // statistics over counted rows: MSE, explained variance, L0, per-latent sums and fire counts
        double sse = 0;
        for (int r = 0; r < N; r++) if (c.counted(r)) sse += rowSq[r];
        double mse = sse / c.counted;
        double ev = 1 - sse / totalVariance(x, N, d, T, lossStart);
        Arrays.fill(colF, 0f);
        Arrays.fill(fireCount, 0);
        Par.forRange(0, n, Math.max(64, n / (Par.THREADS * 4)), (lo, hi) -> latentStats(T, lossStart, N, lo, hi));
        long active = 0;
        for (int j = 0; j < n; j++) active += fireCount[j];
        double l0 = (double) active / c.counted;
        Par.rows(n, 64, (lo, hi) -> SaeKernels.rowNorms(p.W_dec, d, norms, lo, hi));

        penalty(c);
        double sep = 0;
        if (separation.on()) {
            if (separation.needsActiveLists() && !sparse) {
                if (nnzCounted) fS.gather(f, false);
                else fS.build(f, N, n, false);
            }
            sep = separation.forward(p.W_dec, norms, fS, N, T, lossStart, in.sepSeed(), grad != null);
        }
        LossTerms res = new LossTerms(mse + c.l1 + c.aux + sep, mse, c.l1, c.aux, sep, l0, ev, c.counted, c.deadLatents);
        if (grad == null) return res;

        // ---- backward: MSE ----
        float[] dxhat = e;
        float s2 = 2f * c.invM;
        Par.rows(N, 16, (lo, hi) -> SaeKernels.scaleMaskRows(dxhat, s2, d, T, lossStart, lo, hi));
        Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.columnSums(dxhat, N, d, grad.b_dec, lo, hi));
        float[] dpre = df;
        c.dpre = dpre;
        if (sparse) {
            // dW_dec = fᵀ·δ over the active entries; ∂L/∂pre only where f > 0
            Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(fS.colStart, fS.rowIdx, fS.cval, dxhat, d, grad.W_dec, false, lo, hi));
            if (dval == null || dval.length < fS.nnz) dval = new float[Math.max(fS.nnz, 16)];
            float[] dv = dval;
            Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.sampledDot(fS.start, fS.idx, dxhat, p.W_dec, d, dv, lo, hi));
            Par.rows(N, 16, (lo, hi) -> {
                Arrays.fill(dpre, lo * n, hi * n, 0f);
                for (int r = lo; r < hi; r++)
                    for (int q = fS.start[r]; q < fS.start[r + 1]; q++) dpre[r * n + fS.idx[q]] = dv[q];
            });
        } else {
            ops.gemm(true, false, n, d, N, 1f, f, 0, n, dxhat, 0, d, 0f, grad.W_dec, 0, d);
            ops.gemm(false, true, N, n, d, 1f, dxhat, 0, d, p.W_dec, 0, d, 0f, dpre, 0, n);
            denseDf(c, dpre);
            Par.rows(N, 16, (lo, hi) -> SaeKernels.maskByActive(dpre, f, lo * n, hi * n));
        }
        penaltyBackward(c);

        // ---- backward: encoder ----
        Par.forRange(0, n, Math.max(64, n / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.columnSums(dpre, N, n, grad.b_enc, lo, hi));
        if (sparse) {
            // dW_enc = zᵀ·dpre accumulated per latent into [d_sae, d_in], then transposed
            dS.build(dpre, N, n, true);
            if (wT == null || wT.length < n * d) wT = new float[n * d];
            float[] zz = z, w = wT;
            Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(dS.colStart, dS.rowIdx, dS.cval, zz, d, w, false, lo, hi));
            Par.rows(n, 16, (lo, hi) -> SaeKernels.transpose(w, n, d, grad.W_enc, lo, hi));
        } else {
            ops.gemm(true, false, d, n, N, 1f, z, 0, d, dpre, 0, n, 0f, grad.W_enc, 0, n);
        }
        if (input.needsDz()) {
            if (sparse) {
                float[] w = wT;
                Par.rows(d, 16, (lo, hi) -> SaeKernels.transpose(p.W_enc, d, n, w, lo, hi));
                Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.spmmRows(dS.start, dS.idx, dS.val, w, d, dz, false, lo, hi));
            } else {
                ops.gemm(false, true, N, d, n, 1f, dpre, 0, n, p.W_enc, 0, n, 0f, dz, 0, d);
            }
        }
        input.backward(p, xc, dz, dxc, N, T, grad);
        if (separation.on()) separation.addGradient(norms, grad.W_dec);
        return res;
    }

    /** Column sums of f and fire counts over counted rows, for latents [lo, hi). */
    private void latentStats(int T, int lossStart, int N, int lo, int hi) {
        for (int r = 0; r < N; r++) {
            if (r % T < lossStart) continue;
            int o = r * n;
            for (int j = lo; j < hi; j++) {
                float v = f[o + j];
                if (v > 0f) {
                    colF[j] += v;
                    fireCount[j]++;
                }
            }
        }
    }

    /** Σ_r ‖x_r − mean(x)‖² over counted rows (the explained-variance denominator). */
    public static double totalVariance(float[] x, int N, int d, int T, int lossStart) {
        double[] mean = new double[d];
        int m = 0;
        for (int r = 0; r < N; r++) {
            if (r % T < lossStart) continue;
            m++;
            for (int c = 0; c < d; c++) mean[c] += x[r * d + c];
        }
        for (int c = 0; c < d; c++) mean[c] /= m;
        double s = 0;
        for (int r = 0; r < N; r++) {
            if (r % T < lossStart) continue;
            for (int c = 0; c < d; c++) {
                double v = x[r * d + c] - mean[c];
                s += v * v;
            }
        }
        return s;
    }

    /** A hash of the active sets (f > 0 and any activation-specific selection) of the last call; tests use it to detect kinks. */
    public long activePatternHash(int N) {
        long h = 1469598103934665603L;
        for (int i = 0; i < N * n; i++) h = (h ^ (f[i] > 0f ? 1 : 0)) * 1099511628211L;
        return hashExtra(h, N);
    }
}
