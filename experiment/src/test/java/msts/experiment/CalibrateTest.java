package msts.experiment;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The matched-L0 choice against closed forms: a power law L0 = A·λ^−b is a line in log-log, so interpolation is exact. */
class CalibrateTest {
    @Test
    void powerLawIsRecoveredExactlyBetweenTheBracketingPoints() {
        double a = 120, b = 0.8;
        double[] grid = {0.5, 1, 2, 4, 8, 16};
        double[] l0 = new double[grid.length];
        for (int i = 0; i < grid.length; i++) l0[i] = a * Math.pow(grid[i], -b);
        for (double target : new double[]{100, 50, 21.3, 14, 15}) {
            Calibrate.Choice c = Calibrate.choose(grid, l0, target);
            assertTrue(c.bracketed());
            assertEquals(Math.pow(a / target, 1 / b), c.value(), 1e-9 * c.value(), "λ with A·λ^-b = " + target);
        }
        // a grid point's own L0 gives that point
        assertEquals(4, Calibrate.choose(grid, l0, l0[3]).value(), 1e-12);
    }

    @Test
    void interpolationIsInLogParameterBetweenTheFirstBracketingPair() {
        // L0 20 at 1, 5 at 4: target 10 is halfway in log L0 → λ = 2 (halfway in log λ)
        assertEquals(2, Calibrate.choose(new double[]{1, 4}, new double[]{20, 5}, 10).value(), 1e-12);
        // non-monotone: the first pair (in grid order) that brackets the target
        Calibrate.Choice c = Calibrate.choose(new double[]{1, 2, 4, 8}, new double[]{30, 10, 20, 5}, 15);
        assertTrue(c.value() > 1 && c.value() < 2, "first bracket 1..2: " + c.value());
        // increasing L0 in the parameter (k): the same rule
        assertEquals(Math.sqrt(8 * 32), Calibrate.choose(new double[]{8, 32}, new double[]{8, 32}, 16).value(), 1e-9);
        // an L0 of 0 (dead SAE at large λ): linear in L0, still in log λ: target 5 of 10 → 0 → halfway in log λ
        assertEquals(Math.sqrt(2 * 8), Calibrate.choose(new double[]{2, 8}, new double[]{10, 0}, 5).value(), 1e-9);
    }

    @Test
    void targetOutsideTheMeasuredL0sTakesTheNearestPointAndSaysSo() {
        Calibrate.Choice hi = Calibrate.choose(new double[]{1, 2, 4}, new double[]{40, 20, 10}, 200);
        assertFalse(hi.bracketed());
        assertEquals(1, hi.value());
        Calibrate.Choice lo = Calibrate.choose(new double[]{1, 2, 4}, new double[]{40, 20, 10}, 3);
        assertFalse(lo.bracketed());
        assertEquals(4, lo.value());
        assertTrue(lo.method().contains("not bracketed"));
        // nearest in log ratio: 9 to {40, 20, 10}: 10
        assertEquals(4, Calibrate.choose(new double[]{1, 2, 4}, new double[]{40, 20, 10}, 9.99).value(), 1e-12);
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Calibrate.choose(new double[]{2, 1}, new double[]{1, 2}, 1));
        assertThrows(IllegalArgumentException.class, () -> Calibrate.choose(new double[]{1}, new double[]{1, 2}, 1));
        assertThrows(IllegalArgumentException.class, () -> Calibrate.choose(new double[]{1, 2}, new double[]{Double.NaN, Double.NaN}, 1));
        assertThrows(IllegalArgumentException.class, () -> Calibrate.choose(new double[]{0, 2}, new double[]{3, 2}, 1));
    }
}
