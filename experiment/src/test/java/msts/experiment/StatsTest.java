package msts.experiment;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Stats} against references that do not share its code: closed-form t quantiles (ν = 1, 2), printed
 * table values, the t CDF by Simpson integration of the density (Γ of half-integers by recursion from √π),
 * and the sign-flip p-value by a separate recursive enumeration and by hand.
 */
class StatsTest {

    /** Γ(k/2) for integer k ≥ 1, exactly by Γ(x+1) = xΓ(x) from Γ(1/2) = √π, Γ(1) = 1. */
    static double gammaHalf(int k) {
        double g = k % 2 == 0 ? 1 : Math.sqrt(Math.PI);
        for (int j = k % 2 == 0 ? 2 : 1; j < k; j += 2) g *= j / 2.0;
        return g;
    }

    /** F(t) = ½ + ∫₀ᵗ f(x) dx by composite Simpson with 20000 intervals. */
    static double cdfBySimpson(double t, int nu) {
        double c = gammaHalf(nu + 1) / (Math.sqrt(nu * Math.PI) * gammaHalf(nu));
        int n = 20000;
        double h = t / n, s = 0;
        for (int i = 0; i <= n; i++) {
            double x = i * h, f = c * Math.pow(1 + x * x / nu, -(nu + 1) / 2.0);
            s += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return 0.5 + s * h / 3;
    }

    @Test
    void tQuantilesMatchClosedFormsAndTables() {
        for (double p : new double[]{0.6, 0.9, 0.975, 0.995}) {
            assertEquals(Math.tan(Math.PI * (p - 0.5)), Stats.tQuantile(p, 1), 1e-9 * Math.tan(Math.PI * (p - 0.5)), "nu=1 p=" + p);
            assertEquals((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), Stats.tQuantile(p, 2), 1e-9, "nu=2 p=" + p);
        }
        // printed t tables (two-sided 95%)
        assertEquals(12.706, Stats.tQuantile(0.975, 1), 5e-4);
        assertEquals(4.303, Stats.tQuantile(0.975, 2), 5e-4);
        assertEquals(2.776, Stats.tQuantile(0.975, 4), 5e-4);
        assertEquals(2.228, Stats.tQuantile(0.975, 10), 5e-4);
        assertEquals(2.042, Stats.tQuantile(0.975, 30), 5e-4);
        assertEquals(-Stats.tQuantile(0.975, 4), Stats.tQuantile(0.025, 4), 1e-12);
    }

    @Test
    void tCdfMatchesNumericalIntegrationOfTheDensity() {
        for (int nu : new int[]{1, 2, 3, 4, 7, 12})
            for (double t : new double[]{0.1, 0.7, 1.5, 2.776, 4.2426, 9})
                assertEquals(cdfBySimpson(t, nu), Stats.tCdf(t, nu), 1e-9, "nu=" + nu + " t=" + t);
        assertEquals(0.5, Stats.tCdf(0, 4), 1e-15);
        assertEquals(1 - Stats.tCdf(1.3, 5), Stats.tCdf(-1.3, 5), 1e-14);
    }

    @Test
    void summaryIsMeanAndTInterval() {
        Stats.Summary s = Stats.summary(new double[]{1, 2, 3, 4, 5});
        assertEquals(5, s.n());
        assertEquals(3, s.mean(), 1e-15);
        assertEquals(Math.sqrt(2.5), s.sd(), 1e-14);
        double h = 2.7764451051977987 * Math.sqrt(2.5) / Math.sqrt(5); // t_{0.975,4} (closed form via Simpson agrees to 1e-9)
        assertEquals(3 - h, s.lo(), 1e-8);
        assertEquals(3 + h, s.hi(), 1e-8);
        Stats.Summary withNaN = Stats.summary(new double[]{1, Double.NaN, 3});
        assertEquals(2, withNaN.n());
        assertEquals(2, withNaN.mean(), 1e-15);
        assertTrue(Double.isNaN(Stats.summary(new double[]{7}).lo()), "one value has no interval");
    }

    @Test
    void pairedTTestByHand() {
        // d = a − b = 1..5: mean 3, sd √2.5, t = 3/(√2.5/√5) = 4.2426, ν = 4
        double[] a = {11, 12, 13, 14, 15}, b = {10, 10, 10, 10, 10};
        Stats.Paired p = Stats.paired(a, b);
        assertEquals(5, p.n());
        assertEquals(3, p.mean(), 1e-14);
        assertEquals(3 / Math.sqrt(0.5), p.t(), 1e-12);
        assertEquals(2 * (1 - cdfBySimpson(3 / Math.sqrt(0.5), 4)), p.pT(), 1e-9);
        assertEquals(0.0132, p.pT(), 1e-4); // printed-table ballpark: t=4.24, 4 df → p ≈ 0.013
        assertEquals(2.0 / 32, p.pSignFlip(), 1e-15, "all differences positive: 2 of 32 sign vectors are as extreme");
        assertEquals(Stats.Verdict.BETTER, Stats.verdict(p, true));
        assertEquals(Stats.Verdict.WORSE, Stats.verdict(p, false));
        // CI straddles 0
        Stats.Paired q = Stats.paired(new double[]{1, -1, 2, -2, 0.5}, new double[5]);
        assertTrue(q.lo() < 0 && q.hi() > 0);
        assertEquals(Stats.Verdict.NO_DIFFERENCE, Stats.verdict(q, true));
    }

    /** The sign-flip p-value by recursion over the signs (a different enumeration from the bit masks). */
    static int[] countExtreme(double[] d, int k, double partial, double obs) {
        if (k == d.length) return new int[]{Math.abs(partial) >= obs - 1e-9 ? 1 : 0, 1};
        int[] x = countExtreme(d, k + 1, partial + d[k], obs), y = countExtreme(d, k + 1, partial - d[k], obs);
        return new int[]{x[0] + y[0], x[1] + y[1]};
    }

    @Test
    void signFlipMatchesAnIndependentEnumeration() {
        // ±1 five times: every sum is odd, so |sum| ≥ 1 always → p = 1
        assertEquals(1.0, Stats.signFlip(new double[]{1, -1, 1, -1, 1}), 0);
        // {3,1,1,1,1}: sum 7; as extreme: all +, all −, and flipping... |±3±1±1±1±1| ≥ 7 only for all-same-sign → 2/32
        assertEquals(2.0 / 32, Stats.signFlip(new double[]{3, 1, 1, 1, 1}), 0);
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + r.nextInt(9);
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = r.nextGaussian() + 0.3;
            double obs = 0;
            for (double v : d) obs += v;
            int[] c = countExtreme(d, 0, 0, Math.abs(obs));
            assertEquals((double) c[0] / c[1], Stats.signFlip(d), 1e-15, "n=" + n);
        }
    }

    @Test
    void degenerateInputs() {
        Stats.Paired same = Stats.paired(new double[]{1, 2, 3}, new double[]{1, 2, 3});
        assertEquals(0, same.mean(), 0);
        assertEquals(1, same.pT(), 0);
        assertEquals(Stats.Verdict.NO_DIFFERENCE, Stats.verdict(same, true));
        Stats.Paired one = Stats.paired(new double[]{1, Double.NaN}, new double[]{0, 0});
        assertEquals(1, one.n());
        assertEquals(Stats.Verdict.NO_DIFFERENCE, Stats.verdict(one, true));
        assertThrows(IllegalArgumentException.class, () -> Stats.paired(new double[2], new double[3]));
    }
}
