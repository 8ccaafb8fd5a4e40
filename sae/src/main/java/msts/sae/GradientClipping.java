package msts.sae;

/** The global gradient norm and clipping to a maximum norm (docs/sae.md, "Training"). */
public final class GradientClipping {
    private GradientClipping() {}

    /** ‖g‖₂ over every parameter array, summed in double in a fixed order (deterministic). */
    public static double norm(SaeParams g) {
        double s = 0;
        for (float[] a : g.arrays()) {
            int chunk = 1 << 16, nc = (a.length + chunk - 1) / chunk;
            double[] part = new double[nc];
            Par.forRange(0, nc, 1, (lo, hi) -> {
                for (int c = lo; c < hi; c++) part[c] = SaeKernels.sumSq(a, c * chunk, Math.min(a.length, (c + 1) * chunk));
            });
            for (double v : part) s += v;
        }
        return Math.sqrt(s);
    }

    /** Scales g by maxNorm / norm when maxNorm > 0 and norm > maxNorm. */
    public static void clip(SaeParams g, float maxNorm, double norm) {
        if (!(maxNorm > 0) || !(norm > maxNorm)) return;
        float s = (float) (maxNorm / norm);
        for (float[] a : g.arrays()) Par.forRange(0, a.length, 1 << 16, (lo, hi) -> SaeKernels.scale(a, s, lo, hi));
    }
}
