package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;

import static msts.evals.MetricsJson.group;
import static msts.evals.MetricsJson.num;

/**
 * The core eval's metrics ({@code core_eval_results.json}, SAEBench's core eval_output.py groups), typed.
 * {@code modelBehaviorPreservation} and {@code modelPerformancePreservation} are null when CE/KL were not
 * computed (eval_config compute_kl / compute_ce_loss false; the file holds −1 there, as SAEBench's schema
 * requires both groups). Null values read as NaN; SAEBench's −1 for NaN is read as written.
 */
public record CoreMetrics(ModelBehavior modelBehaviorPreservation, ModelPerformance modelPerformancePreservation,
                          Reconstruction reconstructionQuality, Shrinkage shrinkage, Sparsity sparsity,
                          TokenStats tokenStats, Misc miscMetrics) {
    public static final String EVAL_TYPE_ID = "core";

    public record ModelBehavior(double klDivScore, double klDivWithAblation, double klDivWithSae) {}

    public record ModelPerformance(double ceLossScore, double ceLossWithAblation, double ceLossWithSae,
                                   double ceLossWithoutSae) {}

    public record Reconstruction(double explainedVariance, double explainedVarianceLegacy, double mse, double cossim) {}

    public record Shrinkage(double l2NormIn, double l2NormOut, double l2Ratio, double relativeReconstructionBias) {}

    public record Sparsity(double l0, double l1) {}

    public record TokenStats(double totalTokensEvalReconstruction, double totalTokensEvalSparsityVariance) {}

    public record Misc(double freqOver1Percent, double freqOver10Percent, double normalizedFreqOver1Percent,
                       double normalizedFreqOver10Percent, double averageMaxEncoderCosineSim,
                       double averageMaxDecoderCosineSim, double fracAlive) {}

    /** Reads a core eval's JSON (the whole file's object). */
    public static CoreMetrics from(JsonNode eval) {
        JsonNode m = eval.path("eval_result_metrics");
        JsonNode cfg = eval.path("eval_config");
        boolean kl = !cfg.has("compute_kl") || cfg.get("compute_kl").asBoolean(), ce = !cfg.has("compute_ce_loss") || cfg.get("compute_ce_loss").asBoolean();
        JsonNode mb = kl ? group(m, "model_behavior_preservation") : null, mp = ce ? group(m, "model_performance_preservation") : null,
                rq = m.path("reconstruction_quality"), sh = m.path("shrinkage"), sp = m.path("sparsity"),
                ts = m.path("token_stats"), mi = m.path("misc_metrics");
        return new CoreMetrics(
                mb == null ? null : new ModelBehavior(num(mb, "kl_div_score"), num(mb, "kl_div_with_ablation"), num(mb, "kl_div_with_sae")),
                mp == null ? null : new ModelPerformance(num(mp, "ce_loss_score"), num(mp, "ce_loss_with_ablation"),
                        num(mp, "ce_loss_with_sae"), num(mp, "ce_loss_without_sae")),
                new Reconstruction(num(rq, "explained_variance"), num(rq, "explained_variance_legacy"), num(rq, "mse"), num(rq, "cossim")),
                new Shrinkage(num(sh, "l2_norm_in"), num(sh, "l2_norm_out"), num(sh, "l2_ratio"), num(sh, "relative_reconstruction_bias")),
                new Sparsity(num(sp, "l0"), num(sp, "l1")),
                new TokenStats(num(ts, "total_tokens_eval_reconstruction"), num(ts, "total_tokens_eval_sparsity_variance")),
                new Misc(num(mi, "freq_over_1_percent"), num(mi, "freq_over_10_percent"), num(mi, "normalized_freq_over_1_percent"),
                        num(mi, "normalized_freq_over_10_percent"), num(mi, "average_max_encoder_cosine_sim"),
                        num(mi, "average_max_decoder_cosine_sim"), num(mi, "frac_alive")));
    }

    static CoreMetrics from(EvalOutput o) { return from(MetricsJson.tree(o)); }
}
