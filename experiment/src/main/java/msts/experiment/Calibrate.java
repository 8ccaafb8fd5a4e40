package msts.experiment;

/**
 * Matched-L0 calibration's choice (docs/experiment.md, "Matched L0"): from a grid of sparsity parameters p₁ < … < pₘ
 * (L1 coefficients or k) and the L0 measured at each, the value whose L0 is the target T.
 *
 * <p>Bracketed: the first adjacent pair (pᵢ, pᵢ₊₁) whose L0s lie on both sides of T (inclusive); between them
 * log p is interpolated linearly in log L0:
 * log p = log pᵢ + (log T − log L0ᵢ) / (log L0ᵢ₊₁ − log L0ᵢ) · (log pᵢ₊₁ − log pᵢ)
 * (L0 falls roughly as a power of the L1 coefficient, so the log-log line is the natural interpolant; for k,
 * L0 ≈ k and the same line gives p ≈ T). When a bracketing L0 is 0 (log undefined) or both L0s are equal, the
 * interpolation is linear in L0 (or the nearer end). Not bracketed (T outside every measured L0): the grid point
 * whose L0 is nearest T in log ratio, flagged so the report says the target was not reached.
 */
public final class Calibrate {
    private Calibrate() {}

    /** The chosen value, whether T was bracketed, and how it was found. */
    public record Choice(double value, boolean bracketed, String method) {}

    public static Choice choose(double[] grid, double[] l0, double target) {
        if (grid.length == 0 || grid.length != l0.length) throw new IllegalArgumentException("calibration: grid and L0 lengths differ or are empty");
        if (!(target > 0)) throw new IllegalArgumentException("calibration: target L0 must be > 0");
        for (int i = 0; i < grid.length; i++) {
            if (!(grid[i] > 0)) throw new IllegalArgumentException("calibration: grid values must be > 0, got " + grid[i]);
            if (i > 0 && !(grid[i] > grid[i - 1])) throw new IllegalArgumentException("calibration: grid must be strictly increasing");
        }
        for (int i = 0; i + 1 < grid.length; i++) {
            double a = l0[i], b = l0[i + 1];
            if (Double.isNaN(a) || Double.isNaN(b)) continue;
            if ((a - target) * (b - target) > 0) continue;
            if (a == b) return new Choice(grid[i], true, "equal L0 at both bracketing points: the lower one");
            if (a > 0 && b > 0) {
                double f = (Math.log(target) - Math.log(a)) / (Math.log(b) - Math.log(a));
                return new Choice(Math.exp(Math.log(grid[i]) + f * (Math.log(grid[i + 1]) - Math.log(grid[i]))), true,
                        "interpolated in log(param) vs log(L0) between " + grid[i] + " and " + grid[i + 1]);
            }
            double f = (target - a) / (b - a);
            return new Choice(Math.exp(Math.log(grid[i]) + f * (Math.log(grid[i + 1]) - Math.log(grid[i]))), true,
                    "interpolated in log(param) vs L0 (an L0 of 0) between " + grid[i] + " and " + grid[i + 1]);
        }
        int best = -1;
        double bestD = Double.POSITIVE_INFINITY;
        for (int i = 0; i < grid.length; i++) {
            if (Double.isNaN(l0[i])) continue;
            double d = l0[i] > 0 ? Math.abs(Math.log(l0[i] / target)) : Double.MAX_VALUE;
            if (d < bestD) {
                bestD = d;
                best = i;
            }
        }
        if (best < 0) throw new IllegalArgumentException("calibration: no grid point has a measured L0");
        return new Choice(grid[best], false, "target not bracketed by the measured L0s: the nearest grid point");
    }
}
