package msts.evals;

import msts.engine.Ops;

/**
 * Cosine geometry of decoder directions W_dec [dSae, dIn] (rows are latents). Formulas in docs/evals.md.
 * The Gram blocks go through {@link Ops#gemm} on the ops given (the run's backend; tests compare with numpy).
 */
public final class DecoderGeometry {
    private DecoderGeometry() {}

    /** Rows scaled to unit L2 norm (zero rows stay zero). */
    public static float[] unitRows(float[] w, int rows, int dim) {
        float[] u = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < dim; i++) s += (double) w[r * dim + i] * w[r * dim + i];
            float inv = s > 0 ? (float) (1.0 / Math.sqrt(s)) : 0f;
            for (int i = 0; i < dim; i++) u[r * dim + i] = w[r * dim + i] * inv;
        }
        return u;
    }

    /** For each row i of a: max_{j≠i} cos(a_i, a_j) (SAEBench's calculate_max_cosine_sim). */
    public static double[] maxCosineToOthers(Ops ops, float[] w, int rows, int dim) {
        float[] u = unitRows(w, rows, dim);
        double[] max = new double[rows];
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        int block = 128;
        float[] sims = new float[block * rows];
        for (int start = 0; start < rows; start += block) {
            int m = Math.min(block, rows - start);
            ops.gemm(false, true, m, rows, dim, 1f, u, start * dim, dim, u, 0, dim, 0f, sims, 0, rows);
            for (int a = 0; a < m; a++) {
                int i = start + a;
                double best = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < rows; j++) if (j != i && sims[a * rows + j] > best) best = sims[a * rows + j];
                max[i] = best;
            }
        }
        return max;
    }

    /** For each row of {@code truth} [nTrue, dim]: max over rows of {@code dict} [nDict, dim] of the cosine. */
    public static double[] maxCosineTo(Ops ops, float[] truth, int nTrue, float[] dict, int nDict, int dim) {
        float[] ut = unitRows(truth, nTrue, dim), ud = unitRows(dict, nDict, dim);
        double[] max = new double[nTrue];
        float[] sims = new float[nDict];
        for (int i = 0; i < nTrue; i++) {
            ops.gemm(false, true, 1, nDict, dim, 1f, ut, i * dim, dim, ud, 0, dim, 0f, sims, 0, nDict);
            double best = Double.NEGATIVE_INFINITY;
            for (float s : sims) best = Math.max(best, s);
            max[i] = best;
        }
        return max;
    }

    /**
     * Histogram of the pairwise cosine similarities cos(d_i, d_j), i &lt; j, over the first {@code limit} rows
     * (all when limit ≥ rows), in {@code bins} equal bins on [-1, 1]. Returns counts.
     */
    public static long[] pairwiseCosineHistogram(Ops ops, float[] w, int rows, int dim, int limit, int bins) {
        int n = Math.min(rows, limit);
        float[] u = unitRows(w, n, dim);
        long[] hist = new long[bins];
        int block = 128;
        float[] sims = new float[block * n];
        for (int start = 0; start < n; start += block) {
            int m = Math.min(block, n - start);
            ops.gemm(false, true, m, n, dim, 1f, u, start * dim, dim, u, 0, dim, 0f, sims, 0, n);
            for (int a = 0; a < m; a++) {
                int i = start + a;
                for (int j = i + 1; j < n; j++) {
                    int b = (int) Math.floor((sims[a * n + j] + 1.0) / 2.0 * bins);
                    hist[Math.max(0, Math.min(bins - 1, b))]++;
                }
            }
        }
        return hist;
    }
}
