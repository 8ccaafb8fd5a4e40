package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.SortedMap;

import static msts.evals.MetricsJson.byInt;
import static msts.evals.MetricsJson.doubles;
import static msts.evals.MetricsJson.group;
import static msts.evals.MetricsJson.num;

/**
 * The disentanglement eval ({@code msts_disentanglement_eval_results.json}), typed: its metric groups and the
 * per-bin / per-lag / per-latent curves of eval_result_unstructured. {@code groundTruth} is null without a
 * ground truth (real activations).
 */
public record DisentangleMetrics(DecoderGeometry decoderGeometry, Coactivation coactivation,
                                 TemporalPersistence temporalPersistence, GroundTruth groundTruth,
                                 double[] decoderCosineHistogramCounts, double[] meanAutocorrelationByLag,
                                 double[] latentPersistence) {
    public static final String EVAL_TYPE_ID = "msts_disentanglement";

    public record DecoderGeometry(double averageMaxDecoderCosineSim, double meanAbsPairwiseDecoderCosineSim,
                                  double fracPairsDecoderCosineOver05) {}

    public record Coactivation(int nTopLatents, double meanJaccardTopLatents, double meanAbsCorrTopLatents) {}

    public record TemporalPersistence(double meanAutocorrLag1, double meanAutocorrLag4, double meanAutocorrLag16,
                                      double meanPersistence, double medianPersistence, int nAliveLatents) {}

    /** Recovery of planted features (mean max cosine) and the persistence of their best latents, by time scale. */
    public record GroundTruth(SortedMap<Integer, Double> recoveryByTimeScale, double recoveryMean,
                              SortedMap<Integer, Double> matchedLatentPersistenceByTimeScale) {}

    public static DisentangleMetrics from(JsonNode eval) {
        JsonNode m = eval.path("eval_result_metrics"), geo = m.path("decoder_geometry"), co = m.path("coactivation"),
                per = m.path("temporal_persistence"), gt = group(m, "ground_truth"), u = eval.path("eval_result_unstructured");
        return new DisentangleMetrics(
                new DecoderGeometry(num(geo, "average_max_decoder_cosine_sim"), num(geo, "mean_abs_pairwise_decoder_cosine_sim"),
                        num(geo, "frac_pairs_decoder_cosine_over_0_5")),
                new Coactivation(co.path("n_top_latents").asInt(), num(co, "mean_jaccard_top_latents"), num(co, "mean_abs_corr_top_latents")),
                new TemporalPersistence(num(per, "mean_autocorr_lag_1"), num(per, "mean_autocorr_lag_4"), num(per, "mean_autocorr_lag_16"),
                        num(per, "mean_persistence"), num(per, "median_persistence"), per.path("n_alive_latents").asInt()),
                gt == null ? null : new GroundTruth(byInt(gt, "recovery_time_scale_", ""), num(gt, "recovery_mean"),
                        byInt(gt, "matched_latent_persistence_time_scale_", "")),
                doubles(u.path("decoder_cosine_histogram_counts")), doubles(u.path("mean_autocorrelation_by_lag")),
                doubles(u.path("latent_persistence")));
    }

    static DisentangleMetrics from(EvalOutput o) { return from(MetricsJson.tree(o)); }
}
