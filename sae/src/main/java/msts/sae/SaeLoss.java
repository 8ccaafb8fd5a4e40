package msts.sae;

import msts.engine.Ops;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Forward pass, loss terms and gradients of every SAE variant on one batch (formulas: docs/sae.md).
 * A batch is nSeq sequences of T tokens (T = 1 for shuffled-token batches), rows r = s·T + t; rows with
 * t &lt; lossStart (BOS) feed the convolution but are left out of every loss term and statistic.
 * Matrix products go through {@link Ops#gemm}; everything else through {@link SaeKernels}, parallel
 * over rows. Buffers are reused across calls (one instance per thread).
 */
public final class SaeLoss {
    /** Loss terms and batch statistics of one call. */
    public static final class Result {
        public double loss, mse, l1, aux, sep, l0, explainedVariance;
        public int countedRows, deadLatents;
    }

    private final SaeConfig cfg;
    private final Ops ops;
    private final int d, n;
    private int cap = -1;
    private float[] xc, z, pre, f, xhat, e, df, dz, dxc, aux, auxHat, dAux;
    private byte[] auxSel;
    private double[] rowSq, rowSqAux;
    private final float[] norms, colF, wL1, tmpD, tmpN;
    private final int[] fireCount;
    private float[] u, gram, du, scratch;
    private int[] actStart, actIdx;
    private final float[] threshold;
    /**
     * Test hook: AuxK fits this fixed residual instead of x − x̂ (the residual is detached, as in SAELens,
     * so finite differences of the loss must hold it constant).
     */
    float[] frozenResidual;

    /**
     * Use the sparse products when at most this fraction of f is non-zero (0 = always dense, > 1 = always
     * sparse, negative = automatic, see {@link #autoSparseThreshold}). System property msts.sae.sparse.
     */
    double sparseThreshold = Double.parseDouble(System.getProperty("msts.sae.sparse", "-1"));

    /**
     * Density below which the sparse products beat the GEMMs, from msts bench train on the 2-core dev
     * machine (docs/benchmarks.md): about 2.5 % while W_dec fits in cache (d_sae·d_in ≤ 4M), falling in
     * proportion beyond (≈ 0.27 % at 16384 × 2304, where each active latent costs DRAM traffic).
     */
    static double autoSparseThreshold(int dSae, int dIn) {
        return 0.025 * Math.min(1.0, 4e6 / ((double) dSae * dIn));
    }

    private final SparseRows fS = new SparseRows(), aS = new SparseRows(), dS = new SparseRows();
    private float[] dval, wT;
    private boolean lastSparse;

    /** Whether the last call used the sparse products. */
    public boolean lastCallSparse() { return lastSparse; }

    public SaeLoss(SaeConfig cfg, Ops ops) {
        this(cfg, ops, null);
    }

    /** threshold: JumpReLU thresholds [d_sae] (inference only) or null. */
    public SaeLoss(SaeConfig cfg, Ops ops, float[] threshold) {
        this.cfg = cfg;
        this.ops = ops;
        this.d = cfg.dIn;
        this.n = cfg.dSae;
        this.threshold = threshold;
        norms = new float[n];
        colF = new float[n];
        wL1 = new float[n];
        fireCount = new int[n];
        tmpD = new float[d];
        tmpN = new float[n];
    }

    private void ensure(int rows) {
        if (rows <= cap) return;
        cap = rows;
        xc = new float[rows * d];
        z = cfg.temporal() ? new float[rows * d] : xc;
        pre = new float[rows * n];
        f = new float[rows * n];
        xhat = new float[rows * d];
        e = new float[rows * d];
        df = new float[rows * n];
        rowSq = new double[rows];
        if (cfg.temporal()) {
            dz = new float[rows * d];
            dxc = new float[rows * d];
        }
        aux = null;
    }

    private void ensureAux(int rows) {
        if (aux != null && aux.length >= rows * n) return;
        aux = new float[rows * n];
        auxSel = new byte[rows * n];
        auxHat = new float[rows * d];
        dAux = new float[rows * n];
        rowSqAux = new double[rows];
    }

    /** Feature activations of the last call, [rows, d_sae] (valid until the next call). */
    public float[] features() { return f; }

    /** Reconstruction x̂ of the last call, [rows, d_in]. */
    public float[] reconstruction() { return xhat; }

    /** Per latent: number of counted rows of the last call where it fired (f > 0). */
    public int[] fireCount() { return fireCount; }

    /** Encoder stage: xc = x − b_dec, z = xc (+ conv), pre = z·W_enc + b_enc, f = act(pre). */
    public void encode(SaeParams p, float[] x, int nSeq, int T) {
        int N = nSeq * T;
        ensure(N);
        Par.rows(N, 16, (lo, hi) -> SaeKernels.subRowVector(x, p.b_dec, xc, d, lo, hi));
        if (cfg.temporal()) {
            boolean centred = cfg.centred();
            Par.rows(N, 16, (lo, hi) -> SaeKernels.convForward(xc, p.conv_w, cfg.dilations, centred, T, d, z, lo, hi));
        }
        ops.gemm(false, false, N, n, d, 1f, z, 0, d, p.W_enc, 0, n, 0f, pre, 0, n);
        Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(pre, p.b_enc, n, lo, hi));
        switch (cfg.act()) {
            case "topk" -> {
                Par.rows(N, 8, (lo, hi) -> SaeKernels.topk(pre, f, n, cfg.k, new float[n], lo, hi));
            }
            case "jumprelu" -> Par.rows(N, 16, (lo, hi) -> SaeKernels.jumpRelu(pre, threshold, f, n, lo, hi));
            default -> Par.rows(N, 16, (lo, hi) -> SaeKernels.relu(pre, f, lo * n, hi * n));
        }
    }

    /** x̂ = f·W_dec + b_dec into xhat. */
    public void decode(SaeParams p, int N) {
        ops.gemm(false, false, N, d, n, 1f, f, 0, n, p.W_dec, 0, d, 0f, xhat, 0, d);
        Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(xhat, p.b_dec, d, lo, hi));
    }

    /**
     * Computes the loss (and, if grad != null, its gradient w.r.t. every parameter into grad).
     *
     * @param l1    the current L1 coefficient λ (after warm-up); ignored for TopK
     * @param dead  dead-latent mask for AuxK (TopK only), or null
     * @param sepSeed seed of the pair sampling of the separation loss (sampled / coactive forms)
     */
    public Result compute(SaeParams p, float[] x, int nSeq, int T, int lossStart, float l1, boolean[] dead,
                          SaeParams grad, long sepSeed) {
        int N = nSeq * T;
        int counted = nSeq * (T - lossStart);
        if (counted <= 0) throw new IllegalArgumentException("no rows counted in the loss (T=" + T + ", lossStart=" + lossStart + ")");
        Result res = new Result();
        res.countedRows = counted;
        float invM = 1f / counted;

        encode(p, x, nSeq, T);
        double th = sparseThreshold >= 0 ? sparseThreshold : autoSparseThreshold(n, d);
        boolean sparse = th > 0 && fS.count(f, N, n) <= th * N * n;
        lastSparse = sparse;
        if (sparse) {
            fS.gather(f, grad != null);
            Par.rows(N, 8, (lo, hi) -> {
                SaeVectorKernels.spmmRows(fS.start, fS.idx, fS.val, p.W_dec, d, xhat, false, lo, hi);
                SaeKernels.addRowVector(xhat, p.b_dec, d, lo, hi);
            });
        } else {
            decode(p, N);
        }
        Par.rows(N, 16, (lo, hi) -> SaeKernels.diffRowSq(xhat, x, e, rowSq, d, lo, hi));

        // statistics over counted rows: MSE, explained variance, L0, per-latent sums and fire counts
        double sse = 0;
        for (int r = 0; r < N; r++) if (r % T >= lossStart) sse += rowSq[r];
        res.mse = sse / counted;
        res.explainedVariance = 1 - sse / totalVariance(x, N, d, T, lossStart);
        Arrays.fill(colF, 0f);
        Arrays.fill(fireCount, 0);
        Par.forRange(0, n, Math.max(64, n / (Par.THREADS * 4)), (lo, hi) -> latentStats(T, lossStart, N, lo, hi));
        long active = 0;
        for (int j = 0; j < n; j++) active += fireCount[j];
        res.l0 = (double) active / counted;

        // L1 (not for TopK / JumpReLU)
        boolean useL1 = "relu".equals(cfg.act()) && l1 != 0f;
        Par.rows(n, 64, (lo, hi) -> SaeKernels.rowNorms(p.W_dec, d, norms, lo, hi));
        if (useL1) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                wL1[j] = cfg.unitNorm() ? 1f : norms[j];
                s += (double) colF[j] * wL1[j];
            }
            res.l1 = l1 * s / counted;
        }

        // AuxK on dead latents (TopK only): ê = a·W_dec + b_dec fits the residual x − x̂
        int nDead = 0;
        if (dead != null) for (boolean b : dead) if (b) nDead++;
        res.deadLatents = nDead;
        boolean useAux = cfg.topk() && nDead > 0 && cfg.auxKCoefficient != 0f;
        float auxScale = 0f;
        if (useAux) {
            ensureAux(N);
            int kAux = Math.min(cfg.kAuxEffective(), nDead);
            auxScale = cfg.auxKCoefficient * Math.min((float) nDead / cfg.kAuxEffective(), 1f);
            final int nd = nDead;
            Par.rows(N, 8, (lo, hi) -> SaeKernels.topkDead(pre, dead, nd, aux, auxSel, n, kAux, new float[nd], lo, hi));
            if (sparse) {
                aS.build(aux, N, n, grad != null);
                Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.spmmRows(aS.start, aS.idx, aS.val, p.W_dec, d, auxHat, false, lo, hi));
            } else {
                ops.gemm(false, false, N, d, n, 1f, aux, 0, n, p.W_dec, 0, d, 0f, auxHat, 0, d);
            }
            Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(auxHat, p.b_dec, d, lo, hi));
            // auxHat − (x − x̂) = auxHat + e
            Par.rows(N, 16, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    double s = 0;
                    for (int c = r * d; c < (r + 1) * d; c++) {
                        float v = frozenResidual != null ? auxHat[c] - frozenResidual[c] : auxHat[c] + e[c];
                        auxHat[c] = v;
                        s += (double) v * v;
                    }
                    rowSqAux[r] = s;
                }
            });
            double sa = 0;
            for (int r = 0; r < N; r++) if (r % T >= lossStart) sa += rowSqAux[r];
            res.aux = auxScale * sa / counted;
        }

        // cosine separation of decoder directions
        if (cfg.sepWeight != 0f) res.sep = separation(p, grad, N, T, lossStart, sepSeed);

        res.loss = res.mse + res.l1 + res.aux + res.sep;
        if (grad == null) return res;

        // ---- backward ----
        float[] dxhat = e;
        Par.rows(N, 16, (lo, hi) -> SaeKernels.scaleMaskRows(dxhat, 2f * invM, d, T, lossStart, lo, hi));
        Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.columnSums(dxhat, N, d, grad.b_dec, lo, hi));
        float[] dpre = df;
        if (sparse) {
            // dW_dec = fᵀ·δ over the active entries; ∂L/∂pre only where f > 0
            Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(fS.colStart, fS.rowIdx, fS.cval, dxhat, d, grad.W_dec, false, lo, hi));
            if (dval == null || dval.length < fS.nnz) dval = new float[Math.max(fS.nnz, 16)];
            Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.sampledDot(fS.start, fS.idx, dxhat, p.W_dec, d, dval, lo, hi));
            float s = useL1 ? l1 * invM : 0f;
            Par.rows(N, 16, (lo, hi) -> {
                java.util.Arrays.fill(dpre, lo * n, hi * n, 0f);
                for (int r = lo; r < hi; r++) {
                    boolean isCounted = r % T >= lossStart;
                    for (int q = fS.start[r]; q < fS.start[r + 1]; q++)
                        dpre[r * n + fS.idx[q]] = dval[q] + (isCounted ? s * wL1[fS.idx[q]] : 0f);
                }
            });
            if (useL1 && !cfg.unitNorm())
                Par.rows(n, 64, (lo, hi) -> SaeKernels.addScaledRowsByNorm(grad.W_dec, p.W_dec, colF, norms, s, d, lo, hi));
        } else {
            ops.gemm(true, false, n, d, N, 1f, f, 0, n, dxhat, 0, d, 0f, grad.W_dec, 0, d);
            ops.gemm(false, true, N, n, d, 1f, dxhat, 0, d, p.W_dec, 0, d, 0f, df, 0, n);
            if (useL1) {
                float s = l1 * invM;
                Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVectorActive(df, wL1, s, f, n, T, lossStart, lo, hi));
                if (!cfg.unitNorm())
                    Par.rows(n, 64, (lo, hi) -> SaeKernels.addScaledRowsByNorm(grad.W_dec, p.W_dec, colF, norms, s, d, lo, hi));
            }
            Par.rows(N, 16, (lo, hi) -> SaeKernels.maskByActive(dpre, f, lo * n, hi * n));
        }
        if (useAux) {
            float s = 2f * auxScale * invM;
            Par.rows(N, 16, (lo, hi) -> SaeKernels.scaleMaskRows(auxHat, s, d, T, lossStart, lo, hi));
            Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.addColumnSums(auxHat, N, d, 1f, grad.b_dec, lo, hi));
            if (sparse) {
                Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(aS.colStart, aS.rowIdx, aS.cval, auxHat, d, grad.W_dec, true, lo, hi));
                if (dval.length < aS.nnz) dval = new float[aS.nnz];
                Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.sampledDot(aS.start, aS.idx, auxHat, p.W_dec, d, dval, lo, hi));
                Par.rows(N, 16, (lo, hi) -> {
                    for (int r = lo; r < hi; r++)
                        for (int q = aS.start[r]; q < aS.start[r + 1]; q++) dpre[r * n + aS.idx[q]] += dval[q];
                });
            } else {
                ops.gemm(true, false, n, d, N, 1f, aux, 0, n, auxHat, 0, d, 1f, grad.W_dec, 0, d);
                ops.gemm(false, true, N, n, d, 1f, auxHat, 0, d, p.W_dec, 0, d, 0f, dAux, 0, n);
                Par.rows(N, 16, (lo, hi) -> SaeKernels.addSelected(dpre, dAux, auxSel, lo * n, hi * n));
            }
        }
        Par.forRange(0, n, Math.max(64, n / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.columnSums(dpre, N, n, grad.b_enc, lo, hi));
        if (sparse) {
            // dW_enc = zᵀ·dpre accumulated per latent into [d_sae, d_in], then transposed
            dS.build(dpre, N, n, true);
            if (wT == null || wT.length < n * d) wT = new float[n * d];
            Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(dS.colStart, dS.rowIdx, dS.cval, z, d, wT, false, lo, hi));
            Par.rows(n, 16, (lo, hi) -> SaeKernels.transpose(wT, n, d, grad.W_enc, lo, hi));
        } else {
            ops.gemm(true, false, d, n, N, 1f, z, 0, d, dpre, 0, n, 0f, grad.W_enc, 0, n);
        }
        if (cfg.temporal()) {
            boolean centred = cfg.centred();
            if (sparse) {
                Par.rows(d, 16, (lo, hi) -> SaeKernels.transpose(p.W_enc, d, n, wT, lo, hi));
                Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.spmmRows(dS.start, dS.idx, dS.val, wT, d, dz, false, lo, hi));
            } else {
                ops.gemm(false, true, N, d, n, 1f, dpre, 0, n, p.W_enc, 0, n, 0f, dz, 0, d);
            }
            Par.rows(N, 16, (lo, hi) -> SaeKernels.convBackwardInput(dz, p.conv_w, cfg.dilations, centred, T, d, dxc, lo, hi));
            Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) ->
                    SaeKernels.convBackwardWeights(dz, xc, cfg.dilations, centred, N, T, d, grad.conv_w, lo, hi));
            Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.addColumnSums(dxc, N, d, -1f, grad.b_dec, lo, hi));
        } else {
            // xc = x − b_dec feeds only pre: ∂L/∂b_dec −= W_enc · Σ_r dpre_r
            Par.rows(d, 16, (lo, hi) -> SaeKernels.addMatVec(p.W_enc, grad.b_enc, n, -1f, grad.b_dec, lo, hi));
        }
        if (cfg.sepWeight != 0f) addSeparationGrad(p, grad);
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
    static double totalVariance(float[] x, int N, int d, int T, int lossStart) {
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

    // ---- separation loss ----

    private boolean sepHasGrad;

    /** L_sep = w · mean over pairs P of φ(cos(W_dec,i, W_dec,j)); leaves dL/dU in du when grad != null. */
    private double separation(SaeParams p, SaeParams grad, int N, int T, int lossStart, long seed) {
        float w = cfg.sepWeight;
        double m = cfg.sepMargin;
        if (u == null) {
            u = new float[n * d];
            du = new float[n * d];
        }
        Par.rows(n, 64, (lo, hi) -> SaeKernels.unitRows(p.W_dec, norms, u, d, lo, hi));
        sepHasGrad = false;
        if ("all".equals(cfg.sepForm)) {
            if (n < 2) return 0;
            if (gram == null) gram = new float[n * n];
            ops.gemm(false, true, n, n, d, 1f, u, 0, d, u, 0, d, 0f, gram, 0, n);
            double pairs = (double) n * (n - 1);
            float s = (float) (w / pairs);
            double[] part = new double[n];
            Par.rows(n, 16, (lo, hi) -> part[lo] = SaeKernels.sepGram(gram, n, m, s, lo, hi));
            double sum = 0;
            for (double v : part) sum += v;
            if (grad != null) {
                // dU = dG·U + dGᵀ·U
                ops.gemm(false, false, n, d, n, 1f, gram, 0, n, u, 0, d, 0f, du, 0, d);
                ops.gemm(true, false, n, d, n, 1f, gram, 0, n, u, 0, d, 1f, du, 0, d);
                sepHasGrad = true;
            }
            return w * sum / pairs;
        }
        int[] pi, pj;
        int P;
        SplittableRandom rnd = new SplittableRandom(seed);
        if ("sampled".equals(cfg.sepForm)) {
            if (n < 2) return 0;
            P = cfg.sepPairs;
            pi = new int[P];
            pj = new int[P];
            for (int q = 0; q < P; q++) {
                int i = rnd.nextInt(n), j = rnd.nextInt(n - 1);
                if (j >= i) j++;
                pi[q] = i;
                pj[q] = j;
            }
        } else { // coactive: pick a counted row with ≥ 2 active latents, then two distinct active latents
            buildActiveLists(N, T, lossStart);
            int[] rowsWithPairs = new int[N];
            int nr = 0;
            for (int r = 0; r < N; r++) if (actStart[r + 1] - actStart[r] >= 2) rowsWithPairs[nr++] = r;
            if (nr == 0) return 0;
            P = cfg.sepPairs;
            pi = new int[P];
            pj = new int[P];
            for (int q = 0; q < P; q++) {
                int r = rowsWithPairs[rnd.nextInt(nr)];
                int a = actStart[r], cnt = actStart[r + 1] - a;
                int x = rnd.nextInt(cnt), y = rnd.nextInt(cnt - 1);
                if (y >= x) y++;
                pi[q] = actIdx[a + x];
                pj[q] = actIdx[a + y];
            }
        }
        double sum = 0;
        double s = (double) w / P;
        if (grad != null) Arrays.fill(du, 0f);
        for (int q = 0; q < P; q++) {
            int i = pi[q] * d, j = pj[q] * d;
            double c = 0;
            for (int k = 0; k < d; k++) c += (double) u[i + k] * u[j + k];
            sum += SaeKernels.sepPhi(c, m);
            if (grad != null) {
                float g = (float) (s * SaeKernels.sepDPhi(c, m));
                for (int k = 0; k < d; k++) {
                    du[i + k] += g * u[j + k];
                    du[j + k] += g * u[i + k];
                }
            }
        }
        sepHasGrad = grad != null;
        return w * sum / P;
    }

    private void addSeparationGrad(SaeParams p, SaeParams grad) {
        if (!sepHasGrad) return;
        Par.rows(n, 64, (lo, hi) -> SaeKernels.backUnitRows(du, u, norms, grad.W_dec, d, lo, hi));
    }

    /** CSR lists of active latents (f > 0) of counted rows (others get empty lists). */
    private void buildActiveLists(int N, int T, int lossStart) {
        if (actStart == null || actStart.length < N + 1) actStart = new int[N + 1];
        int total = 0;
        for (int r = 0; r < N; r++) {
            actStart[r] = total;
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) if (f[r * n + j] > 0f) total++;
        }
        actStart[N] = total;
        if (actIdx == null || actIdx.length < total) actIdx = new int[Math.max(total, 16)];
        int q = 0;
        for (int r = 0; r < N; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) if (f[r * n + j] > 0f) actIdx[q++] = j;
        }
    }

    /** A hash of the active sets (f > 0 and the AuxK selection) of the last call; tests use it to detect kinks. */
    public long activePatternHash(int N) {
        long h = 1469598103934665603L;
        for (int i = 0; i < N * n; i++) {
            h = (h ^ (f[i] > 0f ? 1 : 0)) * 1099511628211L;
            if (aux != null) h = (h ^ auxSel[i]) * 1099511628211L;
        }
        return h;
    }
}
