package msts.sae;

/**
 * Reference kernels of the threshold SAEs (JumpReLU training, BatchTopK): plain loops, one static method
 * per formula of docs/sae.md ("JumpReLU training", "BatchTopK"), no allocation inside except where noted.
 * Layouts as in {@link SaeKernels}: pre / f / df [rows, n] row-major, row r = token r mod T of sequence r / T;
 * rows with r mod T &lt; lossStart are not counted (their loss gradient is zero).
 * JumpReLU's forward f = pre·1[pre &gt; θ_j] is {@link SaeKernels#jumpRelu}.
 */
public final class ThresholdKernels {
    private ThresholdKernels() {}

    /** Rectangle kernel K(u) = 1[−½ &lt; u &lt; ½] (open interval, as SAELens' {@code rectangle}). */
    public static boolean rectangle(float u) {
        return u > -0.5f && u < 0.5f;
    }

    /**
     * Gradient through JumpReLU w.r.t. its input (the true derivative where it exists, no STE on pre):
     * dpre[r, j] = df[r, j]·1[pre[r, j] &gt; θ_j], rows [lo, hi).
     */
    public static void jumpReluBackwardInput(float[] pre, float[] theta, float[] df, float[] dpre, int n, int lo, int hi) {
        for (int r = lo; r < hi; r++)
            for (int j = 0; j < n; j++) {
                int i = r * n + j;
                dpre[i] = pre[i] > theta[j] ? df[i] : 0f;
            }
    }

    /**
     * JumpReLU's straight-through pseudo-derivative w.r.t. θ (Rajamanoharan et al. 2024, eq. 11):
     * dθ_j = Σ_r −(θ_j/ε)·K((pre[r, j] − θ_j)/ε)·df[r, j], for latents [lo, hi); summed over rows in order
     * (row-major sweep: rows outer, the latent range inner).
     */
    public static void jumpReluThetaGrad(float[] pre, float[] theta, float[] df, float eps, int rows, int n,
                                         float[] dtheta, int lo, int hi) {
        for (int j = lo; j < hi; j++) dtheta[j] = 0f;
        for (int r = 0; r < rows; r++)
            for (int j = lo; j < hi; j++) {
                int i = r * n + j;
                if (rectangle((pre[i] - theta[j]) / eps)) dtheta[j] += -(theta[j] / eps) * df[i];
            }
    }

    /**
     * {@link #jumpReluThetaGrad} with ∂L/∂f[r, j] = δ_r·W_dec,j computed only for the entries inside the window
     * (δ = ∂L/∂x̂ [rows, d], W_dec [n, d]), so the dense ∂L/∂f is not needed.
     */
    public static void jumpReluThetaGradFromDelta(float[] pre, float[] theta, float[] delta, float[] wDec, int d,
                                                  float eps, int rows, int n, float[] dtheta, int lo, int hi) {
        for (int j = lo; j < hi; j++) dtheta[j] = 0f;
        for (int r = 0; r < rows; r++)
            for (int j = lo; j < hi; j++) {
                if (!rectangle((pre[r * n + j] - theta[j]) / eps)) continue;
                double df = 0;
                for (int c = 0; c < d; c++) df += (double) delta[r * d + c] * wDec[j * d + c];
                dtheta[j] += -(theta[j] / eps) * (float) df;
            }
    }

    /**
     * The Step (Heaviside) STE of the L0 term L_0 = (λ/|M|)·Σ_{r∈M} Σ_j H(pre[r, j] − θ_j): adds
     * dθ_j += Σ_{r∈M} −(1/ε)·K((pre[r, j] − θ_j)/ε)·(λ/|M|) for latents [lo, hi); nothing flows into pre.
     * {@code coef} = λ/|M|.
     */
    public static void stepThetaGrad(float[] pre, float[] theta, float eps, float coef, int rows, int n, int T,
                                     int lossStart, float[] dtheta, int lo, int hi) {
        float g = -(1f / eps) * coef;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = lo; j < hi; j++) if (rectangle((pre[r * n + j] - theta[j]) / eps)) dtheta[j] += g;
        }
    }

    /** Number of counted entries with pre[r, j] &gt; θ_j (Σ_{r∈M} Σ_j H(pre − θ); the L0 term is λ/|M| times it). */
    public static long countAboveThreshold(float[] pre, float[] theta, int rows, int n, int T, int lossStart) {
        long c = 0;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) if (pre[r * n + j] > theta[j]) c++;
        }
        return c;
    }

    /** θ = exp(logθ), elementwise (θ in F32 as SAELens' {@code torch.exp(log_threshold)}). */
    public static void expInto(float[] logTheta, float[] theta) {
        for (int j = 0; j < theta.length; j++) theta[j] = (float) Math.exp(logTheta[j]);
    }

    /** Chain rule through θ = exp(logθ): dlogθ_j = θ_j·dθ_j. */
    public static void logThetaGrad(float[] theta, float[] dtheta, float[] dlogTheta) {
        for (int j = 0; j < theta.length; j++) dlogTheta[j] = theta[j] * dtheta[j];
    }

    /**
     * BatchTopK (Bussmann et al. 2024; SAELens {@code BatchTopK}): over the counted rows take ReLU(pre) and keep
     * the K largest values of the whole batch (ties by lower flat index), zero the rest; uncounted rows get
     * f = 0. {@code scratch} holds at least (counted rows)·n floats. Returns the number of kept positive values.
     */
    public static int batchTopK(float[] pre, float[] f, int rows, int n, int T, int lossStart, int K, float[] scratch) {
        int m = 0;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) scratch[m++] = Math.max(pre[r * n + j], 0f);
        }
        java.util.Arrays.fill(f, 0, rows * n, 0f);
        if (K <= 0 || m == 0) return 0;
        float th = SaeKernels.kthLargest(scratch, m, Math.min(K, m));
        int greater = 0;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) if (Math.max(pre[r * n + j], 0f) > th) greater++;
        }
        int ties = Math.min(K, m) - greater, kept = 0;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) {
                float v = Math.max(pre[r * n + j], 0f);
                boolean keep = v > th || (v == th && ties-- > 0);
                if (keep && v > 0f) {
                    f[r * n + j] = v;
                    kept++;
                }
            }
        }
        return kept;
    }

    /** K = ⌊k·|M|⌋ as SAELens' {@code int(self.k * num_samples)} (k may be fractional). */
    public static int batchK(double k, int countedRows) {
        return (int) (k * countedRows);
    }

    /**
     * BatchTopK's inference threshold, one step of SAELens' {@code update_topk_threshold}: with
     * μ = min{f[r, j] : f[r, j] &gt; 0, r counted}, θ ← (1 − lr)·θ + lr·μ in double; θ unchanged when no f is positive.
     */
    public static double updateThreshold(double theta, float[] f, int rows, int n, int T, int lossStart, double lr) {
        return updateThreshold(theta, minPositive(f, rows, n, T, lossStart), lr);
    }

    /** μ = min{f[r, j] : f[r, j] &gt; 0, r counted}; +∞ when no f is positive. */
    public static float minPositive(float[] f, int rows, int n, int T, int lossStart) {
        float min = Float.POSITIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            for (int j = 0; j < n; j++) {
                float v = f[r * n + j];
                if (v > 0f && v < min) min = v;
            }
        }
        return min;
    }

    /** θ ← (1 − lr)·θ + lr·μ in double, given the batch's μ ({@link #minPositive}); θ unchanged when μ = +∞. */
    public static double updateThreshold(double theta, float minPositive, double lr) {
        if (minPositive == Float.POSITIVE_INFINITY) return theta;
        return (1 - lr) * theta + lr * (double) minPositive;
    }
}
