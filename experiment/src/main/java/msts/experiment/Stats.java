package msts.experiment;

import java.util.Arrays;

/**
 * The experiment's statistics over seeds (docs/experiment.md, "Statistics"), in one place:
 * <ul>
 *   <li>{@link #summary}: mean, sample standard deviation (n − 1) and the t-based 95% confidence interval
 *       mean ± t<sub>0.975, n−1</sub>·s/√n;</li>
 *   <li>{@link #paired}: the paired-by-seed difference d<sub>k</sub> = a<sub>k</sub> − b<sub>k</sub>: its mean and
 *       t-based 95% CI, the two-sided paired t-test p-value 2·(1 − F<sub>n−1</sub>(|d̄|/(s<sub>d</sub>/√n))), and the
 *       exact two-sided sign-flip permutation p-value (all 2<sup>n</sup> sign vectors; its smallest possible value is
 *       2/2<sup>n</sup>, 0.0625 at n = 5);</li>
 *   <li>{@link #verdict}: better / worse when the t-based 95% CI of the difference excludes 0 (p<sub>t</sub> &lt; 0.05), in
 *       the metric's good direction; otherwise no detectable difference at n seeds.</li>
 * </ul>
 * Student's t CDF: F(t) = 1 − ½·I<sub>ν/(ν+t²)</sub>(ν/2, ½) for t ≥ 0, with the regularized incomplete beta by
 * its continued fraction (Numerical Recipes' betacf); quantiles by bisection on F.
 */
public final class Stats {
    private Stats() {}

    /** Mean, sample sd and 95% CI over n values (NaN values are dropped; n counts the rest). */
    public record Summary(int n, double mean, double sd, double lo, double hi) {}

    /** Paired difference a − b: n pairs, its summary (mean, CI), t statistic, t-test and sign-flip p-values. */
    public record Paired(int n, double mean, double sd, double lo, double hi, double t, double pT, double pSignFlip) {}

    public enum Verdict {
        BETTER("better"), WORSE("worse"), NO_DIFFERENCE("no detectable difference");
        public final String text;

        Verdict(String t) { text = t; }
    }

    public static Summary summary(double[] xs) {
        double[] x = Arrays.stream(xs).filter(v -> !Double.isNaN(v)).toArray();
        int n = x.length;
        if (n == 0) return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double m = mean(x);
        if (n == 1) return new Summary(1, m, Double.NaN, Double.NaN, Double.NaN);
        double sd = sd(x, m), h = tQuantile(0.975, n - 1) * sd / Math.sqrt(n);
        return new Summary(n, m, sd, m - h, m + h);
    }

    /** Pairs (a_k, b_k) where both are numbers. */
    public static Paired paired(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("paired samples of different sizes: " + a.length + " and " + b.length);
        double[] d = new double[a.length];
        int n = 0;
        for (int i = 0; i < a.length; i++) if (!Double.isNaN(a[i]) && !Double.isNaN(b[i])) d[n++] = a[i] - b[i];
        d = Arrays.copyOf(d, n);
        if (n < 2) return new Paired(n, n == 1 ? d[0] : Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double m = mean(d), sd = sd(d, m), se = sd / Math.sqrt(n), h = tQuantile(0.975, n - 1) * se;
        double t, p;
        if (se == 0) {
            t = m == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, m);
            p = m == 0 ? 1 : 0;
        } else {
            t = m / se;
            p = 2 * (1 - tCdf(Math.abs(t), n - 1));
        }
        return new Paired(n, m, sd, m - h, m + h, t, Math.min(1, Math.max(0, p)), signFlip(d));
    }

    /**
     * Exact two-sided sign-flip p-value of H0 "d is symmetric about 0": the fraction of the 2^n sign vectors s
     * with |Σ s_k·d_k| ≥ |Σ d_k| (relative tolerance 1e-12 for ties). n ≤ 24.
     */
    public static double signFlip(double[] d) {
        int n = d.length;
        if (n > 24) throw new IllegalArgumentException("exact sign-flip enumeration is limited to 24 pairs, got " + n);
        double obs = 0, scale = 0;
        for (double v : d) {
            obs += v;
            scale += Math.abs(v);
        }
        obs = Math.abs(obs);
        double tol = 1e-12 * Math.max(scale, Double.MIN_NORMAL);
        long hit = 0, total = 1L << n;
        for (long mask = 0; mask < total; mask++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += (mask >> k & 1) == 1 ? -d[k] : d[k];
            if (Math.abs(s) >= obs - tol) hit++;
        }
        return (double) hit / total;
    }

    /** better / worse when the 95% CI excludes 0 in the good (higherIsBetter) direction, else no detectable difference. */
    public static Verdict verdict(Paired p, boolean higherIsBetter) {
        if (p.n() < 2 || Double.isNaN(p.lo())) return Verdict.NO_DIFFERENCE;
        boolean up = p.lo() > 0, down = p.hi() < 0;
        if (!up && !down) return Verdict.NO_DIFFERENCE;
        return up == higherIsBetter ? Verdict.BETTER : Verdict.WORSE;
    }

    public static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    static double sd(double[] x, double m) {
        double s = 0;
        for (double v : x) s += (v - m) * (v - m);
        return Math.sqrt(s / (x.length - 1));
    }

    /** Student's t CDF with ν degrees of freedom. */
    public static double tCdf(double t, double nu) {
        if (!(nu > 0)) throw new IllegalArgumentException("degrees of freedom must be positive, got " + nu);
        if (Double.isNaN(t)) return Double.NaN;
        if (Double.isInfinite(t)) return t > 0 ? 1 : 0;
        double tail = 0.5 * regIncBeta(nu / 2, 0.5, nu / (nu + t * t));
        return t >= 0 ? 1 - tail : tail;
    }

    /** The p-quantile of Student's t with ν degrees of freedom (0 &lt; p &lt; 1), by bisection on {@link #tCdf}. */
    public static double tQuantile(double p, double nu) {
        if (!(p > 0 && p < 1)) throw new IllegalArgumentException("quantile level must be in (0, 1), got " + p);
        if (p < 0.5) return -tQuantile(1 - p, nu);
        double lo = 0, hi = 1;
        while (tCdf(hi, nu) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
            double mid = 0.5 * (lo + hi);
            if (tCdf(mid, nu) < p) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /** Regularized incomplete beta I_x(a, b). */
    static double regIncBeta(double a, double b, double x) {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
        if (x < (a + 1) / (a + b + 2)) return Math.exp(lnFront) * betaCf(a, b, x) / a;
        return 1 - Math.exp(lnFront) * betaCf(b, a, 1 - x) / b;
    }

    /** Continued fraction of the incomplete beta (modified Lentz). */
    private static double betaCf(double a, double b, double x) {
        final double tiny = 1e-300, eps = 1e-15;
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
        if (Math.abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 1000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < tiny) d = tiny;
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            if (Math.abs(d) < tiny) d = tiny;
            c = 1 + aa / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < eps) break;
        }
        return h;
    }

    /** ln Γ(x), x &gt; 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
    static double lnGamma(double x) {
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
        double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
        x -= 1;
        double a = g[0], t = x + 7.5;
        for (int i = 1; i < 9; i++) a += g[i] / (x + i);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }
}
