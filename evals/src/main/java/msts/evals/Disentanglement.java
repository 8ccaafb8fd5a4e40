package msts.evals;

import msts.engine.Ops;
import msts.sae.SparseRows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import msts.engine.util.Progress;
import msts.sae.Sae;
import msts.data.ActivationSource;

/**
 * Disentanglement eval (msts's own, eval_type_id "msts_disentanglement"): decoder-cosine distribution,
 * co-activation of the most frequent latents, temporal persistence (autocorrelation over token lags) of
 * each latent, and — when ground truth is given — recovery of planted feature directions per time scale.
 * Formulas in docs/evals.md.
 */
public final class Disentanglement {
    private Disentanglement() {}

    /** Planted directions [n, d] and their time scales. */
    public record GroundTruth(float[] directions, int[] timeScale, int d) {
        public int n() {
            return timeScale.length;
        }
    }

    /** skipFirst: drop position 0 of every sequence (BOS in harvested stores) from all statistics. */
    public record Config(int maxSequences, int maxLag, int topLatents, int histogramBins, int histogramLatents, boolean skipFirst) {
        public static Config defaults() {
            return new Config(512, 16, 64, 100, 4096, true);
        }
    }

    /** Runs the eval; {@code ops} computes the decoder-cosine Gram blocks (the run's backend ops). */
    public static EvalResult<DisentangleMetrics> run(Ops ops, Sae sae, ActivationSource src, GroundTruth gt, Config cfg, String saeId) {
        if (src.dIn() != sae.dIn())
            throw new IllegalArgumentException("activations have d=" + src.dIn() + " but the SAE has d_in=" + sae.dIn());
        if (gt != null && gt.d() != sae.dIn())
            throw new IllegalArgumentException("ground-truth directions have d=" + gt.d() + " but the SAE has d_in=" + sae.dIn());
        int nSeq = Math.min(src.numSequences(), cfg.maxSequences()), T = src.contextSize(), dSae = sae.dSae();
        int first = cfg.skipFirst() ? 1 : 0, Tk = T - first;
        if (Tk < 2) throw new IllegalArgumentException("sequences of " + T + " tokens are too short for the disentanglement eval");
        SparseRows acts = new SparseRows(dSae);
        float[] x = new float[T * sae.dIn()];
        float[] f = new float[T * dSae];
        try (Progress p = new Progress("eval disentangle", nSeq, "seq")) {
            for (int s = 0; s < nSeq; s++) {
                src.readSequence(s, x, 0);
                sae.encode(x, 1, T, f);
                if (first == 0) acts.append(f, T);
                else acts.append(java.util.Arrays.copyOfRange(f, first * dSae, T * dSae), Tk);
                p.advance(1);
            }
        }
        float[] wDec = sae.decoderWeights();
        double[] maxCos = DecoderGeometry.maxCosineToOthers(ops, wDec, dSae, sae.dIn());
        long[] hist = DecoderGeometry.pairwiseCosineHistogram(ops, wDec, dSae, sae.dIn(), cfg.histogramLatents(), cfg.histogramBins());
        double[][] ac = autocorrelation(acts, nSeq, Tk, cfg.maxLag());
        double[] persistence = persistence(ac);
        double[] density = density(acts);
        double[] co = coactivation(acts, density, cfg.topLatents());

        Map<String, Map<String, Object>> metrics = new LinkedHashMap<>();
        Map<String, Object> geo = new LinkedHashMap<>();
        geo.put("average_max_decoder_cosine_sim", mean(maxCos));
        double absSum = 0, over = 0, pairs = 0;
        for (int b = 0; b < hist.length; b++) {
            double c = -1 + (b + 0.5) * 2.0 / hist.length;
            absSum += Math.abs(c) * hist[b];
            if (c > 0.5) over += hist[b];
            pairs += hist[b];
        }
        geo.put("mean_abs_pairwise_decoder_cosine_sim", pairs > 0 ? absSum / pairs : Double.NaN);
        geo.put("frac_pairs_decoder_cosine_over_0_5", pairs > 0 ? over / pairs : Double.NaN);
        metrics.put("decoder_geometry", geo);
        Map<String, Object> coM = new LinkedHashMap<>();
        coM.put("n_top_latents", (int) co[2]);
        coM.put("mean_jaccard_top_latents", co[0]);
        coM.put("mean_abs_corr_top_latents", co[1]);
        metrics.put("coactivation", coM);
        Map<String, Object> per = new LinkedHashMap<>();
        double[] meanCurve = new double[cfg.maxLag()];
        int alive = 0;
        for (int j = 0; j < dSae; j++) {
            if (Double.isNaN(persistence[j])) continue;
            alive++;
            for (int l = 0; l < cfg.maxLag(); l++) meanCurve[l] += ac[j][l];
        }
        for (int l = 0; l < cfg.maxLag(); l++) meanCurve[l] = alive > 0 ? meanCurve[l] / alive : Double.NaN;
        per.put("mean_autocorr_lag_1", meanCurve[0]);
        per.put("mean_autocorr_lag_4", cfg.maxLag() >= 4 ? meanCurve[3] : Double.NaN);
        per.put("mean_autocorr_lag_16", cfg.maxLag() >= 16 ? meanCurve[15] : Double.NaN);
        per.put("mean_persistence", nanMean(persistence));
        per.put("median_persistence", nanMedian(persistence));
        per.put("n_alive_latents", alive);
        metrics.put("temporal_persistence", per);

        Map<String, Object> unstructured = new LinkedHashMap<>();
        unstructured.put("decoder_cosine_histogram_bins", hist.length);
        unstructured.put("decoder_cosine_histogram_counts", hist);
        unstructured.put("mean_autocorrelation_by_lag", meanCurve);
        unstructured.put("latent_persistence", persistence);
        unstructured.put("latent_density", density);
        if (gt != null) {
            double[] rec = DecoderGeometry.maxCosineTo(ops, gt.directions(), gt.n(), wDec, dSae, gt.d());
            Map<String, Object> gtM = new LinkedHashMap<>();
            Map<Integer, double[]> byScale = recoveryByScale(rec, gt.timeScale());
            for (var e : byScale.entrySet()) gtM.put("recovery_time_scale_" + e.getKey(), e.getValue()[0] / e.getValue()[1]);
            gtM.put("recovery_mean", mean(rec));
            int[] best = bestLatent(gt, wDec, dSae);
            Map<Integer, double[]> perByScale = new TreeMap<>();
            for (int i = 0; i < gt.n(); i++) {
                double pj = persistence[best[i]];
                if (Double.isNaN(pj)) continue;
                double[] a = perByScale.computeIfAbsent(gt.timeScale()[i], k -> new double[2]);
                a[0] += pj;
                a[1]++;
            }
            for (var e : perByScale.entrySet())
                gtM.put("matched_latent_persistence_time_scale_" + e.getKey(), e.getValue()[0] / e.getValue()[1]);
            metrics.put("ground_truth", gtM);
            unstructured.put("ground_truth_recovery", rec);
            unstructured.put("ground_truth_time_scale", gt.timeScale());
        }
        List<Map<String, Object>> details = new ArrayList<>();
        for (int j = 0; j < dSae; j++) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("index", j);
            d.put("feature_density", density[j]);
            d.put("max_decoder_cosine_sim", maxCos[j]);
            d.put("persistence", persistence[j]);
            d.put("autocorr_lag_1", ac[j][0]);
            details.add(d);
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("n_sequences", nSeq);
        config.put("context_size", T);
        config.put("skip_first_position", cfg.skipFirst());
        config.put("max_lag", cfg.maxLag());
        config.put("top_latents", cfg.topLatents());
        config.put("histogram_bins", cfg.histogramBins());
        config.put("histogram_latents", Math.min(cfg.histogramLatents(), dSae));
        config.put("ground_truth", gt != null);
        EvalOutput out = EvalOutput.of("msts_disentanglement", config, metrics, details, unstructured, sae, saeId);
        return new EvalResult<>(out, DisentangleMetrics.from(out));
    }

    /** Fraction of tokens with f_j &gt; 0. */
    public static double[] density(SparseRows a) {
        double[] d = new double[a.width()];
        for (int r = 0; r < a.rows(); r++)
            for (int k = a.start(r); k < a.end(r); k++) if (a.value(k) > 0) d[a.index(k)]++;
        for (int j = 0; j < d.length; j++) d[j] /= Math.max(1, a.rows());
        return d;
    }

    /**
     * ρ_j(τ) for τ = 1..maxLag: Pearson correlation of (f_j(t), f_j(t+τ)) over all pairs within the same
     * sequence, with latent j's mean and variance over all tokens. [dSae][maxLag]; NaN for constant latents.
     */
    public static double[][] autocorrelation(SparseRows a, int nSeq, int T, int maxLag) {
        int F = a.width();
        double[] sum = new double[F], sumSq = new double[F];
        double[][] cross = new double[F][maxLag], head = new double[F][maxLag], tail = new double[F][maxLag];
        float[] dense = new float[T * F];
        for (int s = 0; s < nSeq; s++) {
            for (int t = 0; t < T; t++) {
                int r = s * T + t;
                for (int k = a.start(r); k < a.end(r); k++) dense[t * F + a.index(k)] = a.value(k);
            }
            for (int t = 0; t < T; t++) {
                int r = s * T + t;
                for (int k = a.start(r); k < a.end(r); k++) {
                    int j = a.index(k);
                    double v = a.value(k);
                    sum[j] += v;
                    sumSq[j] += v * v;
                    for (int l = 1; l <= maxLag; l++) {
                        if (t + l < T) {
                            head[j][l - 1] += v;
                            cross[j][l - 1] += v * dense[(t + l) * F + j];
                        }
                        if (t - l >= 0) tail[j][l - 1] += v;
                    }
                }
            }
            for (int t = 0; t < T; t++) {
                int r = s * T + t;
                for (int k = a.start(r); k < a.end(r); k++) dense[t * F + a.index(k)] = 0f;
            }
        }
        double N = (double) nSeq * T;
        double[][] rho = new double[F][maxLag];
        for (int j = 0; j < F; j++) {
            double mu = sum[j] / N, var = sumSq[j] / N - mu * mu;
            for (int l = 1; l <= maxLag; l++) {
                double n = (double) nSeq * Math.max(0, T - l);
                if (var <= 1e-12 * Math.max(1, sumSq[j] / N) || n == 0) {
                    rho[j][l - 1] = Double.NaN;
                    continue;
                }
                double cov = (cross[j][l - 1] - mu * (head[j][l - 1] + tail[j][l - 1]) + n * mu * mu) / n;
                rho[j][l - 1] = cov / var;
            }
        }
        return rho;
    }

    /** Persistence of each latent = mean of ρ_j(τ) over τ = 1..maxLag (NaN for dead latents). */
    public static double[] persistence(double[][] rho) {
        double[] p = new double[rho.length];
        for (int j = 0; j < rho.length; j++) {
            double s = 0;
            for (double v : rho[j]) s += v;
            p[j] = s / rho[j].length;
        }
        return p;
    }

    /**
     * Among the {@code top} most frequent latents: mean Jaccard index of their firing sets and mean |Pearson
     * correlation| of their activations, over all pairs. Returns {jaccard, |corr|, number of latents}.
     */
    public static double[] coactivation(SparseRows a, double[] density, int top) {
        int F = a.width();
        Integer[] order = new Integer[F];
        for (int j = 0; j < F; j++) order[j] = j;
        java.util.Arrays.sort(order, (p, q) -> Double.compare(density[q], density[p]));
        int m = 0;
        while (m < Math.min(top, F) && density[order[m]] > 0) m++;
        if (m < 2) return new double[]{Double.NaN, Double.NaN, m};
        int[] slot = new int[F];
        java.util.Arrays.fill(slot, -1);
        for (int i = 0; i < m; i++) slot[order[i]] = i;
        long[][] both = new long[m][m];
        long[] fires = new long[m];
        double[][] prod = new double[m][m];
        double[] s1 = new double[m], s2 = new double[m];
        int[] act = new int[m];
        float[] v = new float[m];
        for (int r = 0; r < a.rows(); r++) {
            int na = 0;
            for (int k = a.start(r); k < a.end(r); k++) {
                int sl = slot[a.index(k)];
                if (sl < 0) continue;
                act[na] = sl;
                v[na++] = a.value(k);
            }
            for (int p = 0; p < na; p++) {
                int i = act[p];
                s1[i] += v[p];
                s2[i] += (double) v[p] * v[p];
                if (v[p] > 0) fires[i]++;
                for (int q = p + 1; q < na; q++) {
                    int j = act[q];
                    int lo = Math.min(i, j), hi = Math.max(i, j);
                    prod[lo][hi] += (double) v[p] * v[q];
                    if (v[p] > 0 && v[q] > 0) both[lo][hi]++;
                }
            }
        }
        double n = a.rows(), jac = 0, corr = 0;
        int pairs = 0, corrPairs = 0;
        for (int i = 0; i < m; i++) {
            for (int j = i + 1; j < m; j++) {
                pairs++;
                long union = fires[i] + fires[j] - both[i][j];
                jac += union > 0 ? (double) both[i][j] / union : 0;
                double mi = s1[i] / n, mj = s1[j] / n;
                double vi = s2[i] / n - mi * mi, vj = s2[j] / n - mj * mj;
                if (vi > 0 && vj > 0) {
                    corr += Math.abs((prod[i][j] / n - mi * mj) / Math.sqrt(vi * vj));
                    corrPairs++;
                }
            }
        }
        return new double[]{jac / pairs, corrPairs > 0 ? corr / corrPairs : Double.NaN, m};
    }

    /** scale → {Σ recovery, count}, ordered by scale. */
    static Map<Integer, double[]> recoveryByScale(double[] rec, int[] scale) {
        Map<Integer, double[]> m = new TreeMap<>();
        for (int i = 0; i < rec.length; i++) {
            double[] a = m.computeIfAbsent(scale[i], k -> new double[2]);
            a[0] += rec[i];
            a[1]++;
        }
        return m;
    }

    /** Mean over ground-truth features of max_j cos(g_i, d_j), per time scale. */
    public static Map<Integer, Double> recoveryByScale(Ops ops, GroundTruth gt, float[] wDec, int dSae) {
        double[] rec = DecoderGeometry.maxCosineTo(ops, gt.directions(), gt.n(), wDec, dSae, gt.d());
        Map<Integer, Double> out = new TreeMap<>();
        recoveryByScale(rec, gt.timeScale()).forEach((k, v) -> out.put(k, v[0] / v[1]));
        return out;
    }

    /** For each ground-truth feature, the latent whose decoder direction is most similar. */
    static int[] bestLatent(GroundTruth gt, float[] wDec, int dSae) {
        float[] ut = DecoderGeometry.unitRows(gt.directions(), gt.n(), gt.d());
        float[] ud = DecoderGeometry.unitRows(wDec, dSae, gt.d());
        int[] best = new int[gt.n()];
        for (int i = 0; i < gt.n(); i++) {
            double b = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < dSae; j++) {
                double c = 0;
                for (int k = 0; k < gt.d(); k++) c += ut[i * gt.d() + k] * ud[j * gt.d() + k];
                if (c > b) {
                    b = c;
                    best[i] = j;
                }
            }
        }
        return best;
    }

    static double mean(double[] a) {
        double s = 0;
        for (double v : a) s += v;
        return s / a.length;
    }

    static double nanMean(double[] a) {
        double s = 0;
        int n = 0;
        for (double v : a) if (!Double.isNaN(v)) { s += v; n++; }
        return n > 0 ? s / n : Double.NaN;
    }

    static double nanMedian(double[] a) {
        double[] b = java.util.Arrays.stream(a).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (b.length == 0) return Double.NaN;
        return b.length % 2 == 1 ? b[b.length / 2] : 0.5 * (b[b.length / 2 - 1] + b[b.length / 2]);
    }
}
