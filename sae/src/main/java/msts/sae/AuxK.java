package msts.sae;

import msts.engine.Ops;

/**
 * The AuxK loss of TopK SAEs (SAELens): on the dead latents (mask from the trainer), a = TopK_{k_aux} of the
 * raw pre-activations, ê = a·W_dec + b_dec fits the residual x − x̂ (detached);
 * L_aux = c · min(n_dead / k_aux, 1) · mean over counted rows of ‖ê − (x − x̂)‖². docs/sae.md, "AuxK".
 */
final class AuxK {
    private final SaeConfig cfg;
    private final Ops ops;
    private final int n, d;
    private float[] aux, auxHat, dAux, dval;
    private byte[] auxSel;
    private double[] rowSqAux;
    private final SparseRows aS = new SparseRows();
    private boolean used;
    private float scale;

    AuxK(SaeConfig cfg, Ops ops) {
        this.cfg = cfg;
        this.ops = ops;
        this.n = cfg.dSae();
        this.d = cfg.dIn();
    }

    void drop() { aux = null; }

    private void ensure(int rows) {
        if (aux != null && aux.length >= rows * n) return;
        aux = new float[rows * n];
        auxSel = new byte[rows * n];
        auxHat = new float[rows * d];
        dAux = new float[rows * n];
        rowSqAux = new double[rows];
    }

    /** Sets c.aux and c.deadLatents; frozen (tests) replaces the residual x − x̂. */
    void forward(AbstractSae.Pass c, float[] pre, float[] frozen) {
        boolean[] dead = c.in.dead();
        int nDead = 0;
        if (dead != null) for (boolean b : dead) if (b) nDead++;
        c.deadLatents = nDead;
        used = nDead > 0 && cfg.auxKCoefficient() != 0f;
        if (!used) return;
        int N = c.N, T = c.T;
        ensure(N);
        int kAux = Math.min(cfg.kAuxEffective(), nDead);
        scale = cfg.auxKCoefficient() * Math.min((float) nDead / cfg.kAuxEffective(), 1f);
        final int nd = nDead;
        float[] e = c.e;
        Par.rows(N, 8, (lo, hi) -> SaeKernels.topkDead(pre, dead, nd, aux, auxSel, n, kAux, new float[nd], lo, hi));
        if (c.sparse) {
            aS.build(aux, N, n, c.grad != null);
            Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.spmmRows(aS.start, aS.idx, aS.val, c.p.W_dec, d, auxHat, false, lo, hi));
        } else {
            ops.gemm(false, false, N, d, n, 1f, aux, 0, n, c.p.W_dec, 0, d, 0f, auxHat, 0, d);
        }
        Par.rows(N, 16, (lo, hi) -> SaeKernels.addRowVector(auxHat, c.p.b_dec, d, lo, hi));
        // auxHat − (x − x̂) = auxHat + e
        Par.rows(N, 16, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                double s = 0;
                for (int q = r * d; q < (r + 1) * d; q++) {
                    float v = frozen != null ? auxHat[q] - frozen[q] : auxHat[q] + e[q];
                    auxHat[q] = v;
                    s += (double) v * v;
                }
                rowSqAux[r] = s;
            }
        });
        double sa = 0;
        for (int r = 0; r < N; r++) if (r % T >= c.lossStart) sa += rowSqAux[r];
        c.aux = scale * sa / c.counted;
    }

    /** grad.b_dec, grad.W_dec and dpre (at the selected entries) += the AuxK gradient. */
    void backward(AbstractSae.Pass c) {
        if (!used) return;
        int N = c.N;
        float s = 2f * scale * c.invM;
        SaeParams grad = c.grad, p = c.p;
        float[] dpre = c.dpre;
        Par.rows(N, 16, (lo, hi) -> SaeKernels.scaleMaskRows(auxHat, s, d, c.T, c.lossStart, lo, hi));
        Par.forRange(0, d, Math.max(16, d / (Par.THREADS * 4)), (lo, hi) -> SaeKernels.addColumnSums(auxHat, N, d, 1f, grad.b_dec, lo, hi));
        if (c.sparse) {
            Par.rows(n, 16, (lo, hi) -> SaeVectorKernels.spmmCols(aS.colStart, aS.rowIdx, aS.cval, auxHat, d, grad.W_dec, true, lo, hi));
            if (dval == null || dval.length < aS.nnz) dval = new float[Math.max(aS.nnz, 16)];
            float[] dv = dval;
            Par.rows(N, 8, (lo, hi) -> SaeVectorKernels.sampledDot(aS.start, aS.idx, auxHat, p.W_dec, d, dv, lo, hi));
            Par.rows(N, 16, (lo, hi) -> {
                for (int r = lo; r < hi; r++)
                    for (int q = aS.start[r]; q < aS.start[r + 1]; q++) dpre[r * n + aS.idx[q]] += dv[q];
            });
        } else {
            ops.gemm(true, false, n, d, N, 1f, aux, 0, n, auxHat, 0, d, 1f, grad.W_dec, 0, d);
            ops.gemm(false, true, N, n, d, 1f, auxHat, 0, d, p.W_dec, 0, d, 0f, dAux, 0, n);
            Par.rows(N, 16, (lo, hi) -> SaeKernels.addSelected(dpre, dAux, auxSel, lo * n, hi * n));
        }
    }

    long hash(long h, int N) {
        if (aux == null) return h;
        for (int i = 0; i < N * n; i++) h = (h ^ auxSel[i]) * 1099511628211L;
        return h;
    }
}
