package msts.evals;

/** Numerically stable log-softmax, softmax and KL in double precision. */
public final class LogMath {
    private LogMath() {}

    /** out[i] = logits[off+i] − logΣexp(logits[off..off+n)). */
    public static void logSoftmax(float[] logits, int off, int n, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        double lse = max + Math.log(sum);
        for (int i = 0; i < n; i++) out[i] = logits[off + i] - lse;
    }

    /** KL(p‖q) = Σ p (log p − log q) from p, log p and log q. */
    public static double kl(double[] p, double[] lp, double[] lq) {
        double s = 0;
        for (int i = 0; i < lp.length; i++) if (p[i] > 0) s += p[i] * (lp[i] - lq[i]);
        return s;
    }

    /** KL(p‖q) = Σ p (log p − log q) from log-probabilities. */
    public static double kl(double[] lp, double[] lq) {
        double s = 0;
        for (int i = 0; i < lp.length; i++) {
            double p = Math.exp(lp[i]);
            if (p > 0) s += p * (lp[i] - lq[i]);
        }
        return s;
    }
}
