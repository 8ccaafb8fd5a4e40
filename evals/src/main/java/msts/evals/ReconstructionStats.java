package msts.evals;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Streaming accumulator for SAEBench's core sparsity / reconstruction / shrinkage metrics over the counted
 * (non-special) tokens. Formulas in docs/evals.md. Add one batch of tokens at a time with
 * {@link #addBatch}; read the metric groups with {@link #metrics()}.
 */
public final class ReconstructionStats {
    private final int dIn, dSae;
    private long n;                       // counted tokens
    private double sumSq;                 // Σ‖x‖²
    private final double[] sumX;          // Σ x (per dim)
    private double sumResidSq;            // Σ‖x − x̂‖²
    private double sumCos, sumNormIn, sumNormOut, sumRatio, sumXhatSq, sumDot, sumL0, sumL1;
    private double sumLegacyEv;           // Σ over tokens of (1 − ‖x−x̂‖²/‖x − mean_batch(x)‖²)
    private final long[] activeCount;     // tokens with f_j > 0
    private final long[] activeRows;      // sequences in which f_j > 0 somewhere
    private long rowsSeen;

    public ReconstructionStats(int dIn, int dSae) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.sumX = new double[dIn];
        this.activeCount = new long[dSae];
        this.activeRows = new long[dSae];
    }

    /**
     * Adds the tokens of one batch. x, xhat [rows, dIn], f [rows, dSae]; mask[r] says whether row r counts;
     * seqOf[r] is the sequence index of row r within the batch (for the per-prompt density statistic).
     */
    public void addBatch(float[] x, float[] xhat, float[] f, boolean[] mask, int[] seqOf, int rows) {
        // per-batch mean of x (only used by explained_variance_legacy)
        double[] mean = new double[dIn];
        int nb = 0;
        for (int r = 0; r < rows; r++) {
            if (!mask[r]) continue;
            nb++;
            for (int i = 0; i < dIn; i++) mean[i] += x[r * dIn + i];
        }
        if (nb == 0) return;
        for (int i = 0; i < dIn; i++) mean[i] /= nb;
        int lastSeq = -1;
        boolean[] seenInSeq = new boolean[dSae];
        for (int r = 0; r < rows; r++) {
            if (seqOf[r] != lastSeq) {
                flushSeq(seenInSeq, lastSeq >= 0);
                lastSeq = seqOf[r];
            }
            if (!mask[r]) continue;
            n++;
            double xx = 0, hh = 0, xh = 0, rr = 0, cc = 0;
            for (int i = 0; i < dIn; i++) {
                double a = x[r * dIn + i], b = xhat[r * dIn + i];
                xx += a * a;
                hh += b * b;
                xh += a * b;
                rr += (a - b) * (a - b);
                cc += (a - mean[i]) * (a - mean[i]);
                sumX[i] += a;
            }
            sumSq += xx;
            sumResidSq += rr;
            double nx = Math.sqrt(xx), nh = Math.sqrt(hh);
            sumNormIn += nx;
            sumNormOut += nh;
            sumRatio += nh / (nx < 1e-4 ? 1.0 : nx);
            sumCos += (nx > 0 && nh > 0) ? xh / (nx * nh) : 0.0;
            sumXhatSq += hh;
            sumDot += xh;
            sumLegacyEv += cc > 0 ? 1.0 - rr / cc : 0.0;
            int l0 = 0;
            double l1 = 0;
            for (int j = 0; j < dSae; j++) {
                float v = f[r * dSae + j];
                if (v != 0f) l0++;
                l1 += v;
                if (v > 0f) {
                    activeCount[j]++;
                    seenInSeq[j] = true;
                }
            }
            sumL0 += l0;
            sumL1 += l1;
        }
        flushSeq(seenInSeq, lastSeq >= 0);
    }

    private void flushSeq(boolean[] seen, boolean any) {
        if (!any) return;
        rowsSeen++;
        for (int j = 0; j < dSae; j++) {
            if (seen[j]) activeRows[j]++;
            seen[j] = false;
        }
    }

    public long tokens() {
        return n;
    }

    /** Fraction of counted tokens with f_j > 0, per latent. */
    public double[] featureDensity() {
        double[] d = new double[dSae];
        for (int j = 0; j < dSae; j++) d[j] = n == 0 ? 0 : (double) activeCount[j] / n;
        return d;
    }

    /** SAEBench's consistent_activation_heuristic: active tokens / sequences in which the latent fires. */
    public double[] consistentActivation() {
        double[] d = new double[dSae];
        for (int j = 0; j < dSae; j++) d[j] = activeRows[j] == 0 ? Double.NaN : (double) activeCount[j] / activeRows[j];
        return d;
    }

    public double explainedVariance() {
        double totalVar = sumSq / n;
        for (int i = 0; i < dIn; i++) {
            double m = sumX[i] / n;
            totalVar -= m * m;
        }
        return 1.0 - (sumResidSq / n) / totalVar;
    }

    /** Groups reconstruction_quality, shrinkage, sparsity (SAEBench key names). */
    public Map<String, Map<String, Object>> metrics() {
        Map<String, Map<String, Object>> g = new LinkedHashMap<>();
        Map<String, Object> rq = new LinkedHashMap<>();
        rq.put("explained_variance", explainedVariance());
        rq.put("explained_variance_legacy", sumLegacyEv / n);
        rq.put("mse", sumResidSq / ((double) n * dIn));
        rq.put("cossim", sumCos / n);
        g.put("reconstruction_quality", rq);
        Map<String, Object> sh = new LinkedHashMap<>();
        sh.put("l2_norm_in", sumNormIn / n);
        sh.put("l2_norm_out", sumNormOut / n);
        sh.put("l2_ratio", sumRatio / n);
        sh.put("relative_reconstruction_bias", (sumXhatSq / n) / (sumDot / n));
        g.put("shrinkage", sh);
        Map<String, Object> sp = new LinkedHashMap<>();
        sp.put("l0", sumL0 / n);
        sp.put("l1", sumL1 / n);
        g.put("sparsity", sp);
        return g;
    }

    /** SAEBench's misc_metrics from per-latent densities and max decoder / encoder cosine similarities. */
    public static Map<String, Object> miscMetrics(double[] density, double[] maxDecCos, double[] maxEncCos) {
        int F = density.length;
        double alive = 0, over1 = 0, over10 = 0, total = 0, sum1 = 0, sum10 = 0, cos = 0;
        for (int j = 0; j < F; j++) {
            double d = density[j];
            total += d;
            if (d > 0) alive++;
            if (d > 0.01) {
                over1++;
                sum1 += d;
            }
            if (d > 0.1) {
                over10++;
                sum10 += d;
            }
        }
        for (double c : maxDecCos) cos += c;
        double encCos = 0;
        for (double c : maxEncCos) encCos += c;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("freq_over_1_percent", over1 / F);
        m.put("freq_over_10_percent", over10 / F);
        m.put("normalized_freq_over_1_percent", total > 0 ? sum1 / total : 0.0);
        m.put("normalized_freq_over_10_percent", total > 0 ? sum10 / total : 0.0);
        m.put("average_max_encoder_cosine_sim", encCos / maxEncCos.length);
        m.put("average_max_decoder_cosine_sim", cos / maxDecCos.length);
        m.put("frac_alive", alive / F);
        return m;
    }
}
