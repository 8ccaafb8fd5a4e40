package msts.sae;

import msts.engine.Ops;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Cosine separation of the decoder directions (docs/sae.md, "Separation loss"):
 * L_sep = w · mean over pairs P of φ(cos(W_dec,i, W_dec,j)), φ(c) = relu(|c| − m)². Pairs: all ordered pairs
 * i ≠ j through the Gram matrix U·Uᵀ (exact), P uniformly sampled pairs, or P pairs of latents active on the
 * same counted token (coactive). Sampling is seeded per step, so resume stays bit-identical.
 */
public final class SeparationLoss {
    private final SaeConfig.Separation cfg;
    private final Ops ops;
    private final int n, d;
    private float[] u, gram, du;
    private boolean hasGrad;

    public SeparationLoss(SaeConfig.Separation cfg, Ops ops, int dSae, int dIn) {
        this.cfg = cfg;
        this.ops = ops;
        this.n = dSae;
        this.d = dIn;
    }

    public boolean on() { return cfg.on(); }

    /** Whether {@link #forward} reads the CSR of the active latents (coactive form). */
    public boolean needsActiveLists() { return cfg.form() == SepForm.COACTIVE; }

    /**
     * L_sep of decoder W [n, d] with row norms; active: CSR of f (coactive form only), rows r counted when
     * r mod T ≥ lossStart. With wantGrad, keeps dL/dU for {@link #addGradient}.
     */
    public double forward(float[] w, float[] norms, SparseRows active, int N, int T, int lossStart, long seed, boolean wantGrad) {
        float wt = cfg.weight();
        double m = cfg.margin();
        if (u == null) {
            u = new float[n * d];
            du = new float[n * d];
        }
        Par.rows(n, 64, (lo, hi) -> SaeKernels.unitRows(w, norms, u, d, lo, hi));
        hasGrad = false;
        if (cfg.form() == SepForm.ALL) {
            if (n < 2) return 0;
            if (gram == null) gram = new float[n * n];
            ops.gemm(false, true, n, n, d, 1f, u, 0, d, u, 0, d, 0f, gram, 0, n);
            double pairs = (double) n * (n - 1);
            float s = (float) (wt / pairs);
            double[] part = new double[n];
            Par.rows(n, 16, (lo, hi) -> part[lo] = SaeKernels.sepGram(gram, n, m, s, lo, hi));
            double sum = 0;
            for (double v : part) sum += v;
            if (wantGrad) {
                // dU = dG·U + dGᵀ·U
                ops.gemm(false, false, n, d, n, 1f, gram, 0, n, u, 0, d, 0f, du, 0, d);
                ops.gemm(true, false, n, d, n, 1f, gram, 0, n, u, 0, d, 1f, du, 0, d);
                hasGrad = true;
            }
            return wt * sum / pairs;
        }
        int P = cfg.pairs();
        int[] pi = new int[P], pj = new int[P];
        SplittableRandom rnd = new SplittableRandom(seed);
        if (cfg.form() == SepForm.SAMPLED) {
            if (n < 2) return 0;
            for (int q = 0; q < P; q++) {
                int i = rnd.nextInt(n), j = rnd.nextInt(n - 1);
                if (j >= i) j++;
                pi[q] = i;
                pj[q] = j;
            }
        } else { // coactive: pick a counted row with ≥ 2 active latents, then two distinct active latents
            int[] rowsWithPairs = new int[N];
            int nr = 0;
            for (int r = 0; r < N; r++) if (r % T >= lossStart && active.end(r) - active.start(r) >= 2) rowsWithPairs[nr++] = r;
            if (nr == 0) return 0;
            for (int q = 0; q < P; q++) {
                int r = rowsWithPairs[rnd.nextInt(nr)];
                int a = active.start(r), cnt = active.end(r) - a;
                int x = rnd.nextInt(cnt), y = rnd.nextInt(cnt - 1);
                if (y >= x) y++;
                pi[q] = active.index(a + x);
                pj[q] = active.index(a + y);
            }
        }
        double sum = 0;
        double s = (double) wt / P;
        if (wantGrad) Arrays.fill(du, 0f);
        for (int q = 0; q < P; q++) {
            int i = pi[q] * d, j = pj[q] * d;
            double c = 0;
            for (int k = 0; k < d; k++) c += (double) u[i + k] * u[j + k];
            sum += SaeKernels.sepPhi(c, m);
            if (wantGrad) {
                float g = (float) (s * SaeKernels.sepDPhi(c, m));
                for (int k = 0; k < d; k++) {
                    du[i + k] += g * u[j + k];
                    du[j + k] += g * u[i + k];
                }
            }
        }
        hasGrad = wantGrad;
        return wt * sum / P;
    }

    /** dW += the gradient of the last {@link #forward} through U = W / ‖W‖ row-wise. */
    public void addGradient(float[] norms, float[] dW) {
        if (!hasGrad) return;
        Par.rows(n, 64, (lo, hi) -> SaeKernels.backUnitRows(du, u, norms, dW, d, lo, hi));
    }
}
