package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.SortedMap;

import static msts.evals.MetricsJson.byInt;
import static msts.evals.MetricsJson.num;

/**
 * The sparse-probing eval's mean test accuracies over tasks ({@code sparse_probing_eval_results.json}), typed:
 * the probe on all residual dims / all SAE latents, and on the top-k of each by k (a null value: k larger
 * than the dimension).
 */
public record ProbingMetrics(double llmTestAccuracy, SortedMap<Integer, Double> llmTopK,
                             double saeTestAccuracy, SortedMap<Integer, Double> saeTopK) {
    public static final String EVAL_TYPE_ID = "sparse_probing";

    /** Mean SAE top-k accuracy, null when k was not evaluated or exceeds d_sae. */
    public Double saeTop(int k) { return saeTopK.get(k); }

    public static ProbingMetrics from(JsonNode eval) {
        JsonNode m = eval.path("eval_result_metrics"), llm = m.path("llm"), sae = m.path("sae");
        return new ProbingMetrics(num(llm, "llm_test_accuracy"), byInt(llm, "llm_top_", "_test_accuracy"),
                num(sae, "sae_test_accuracy"), byInt(sae, "sae_top_", "_test_accuracy"));
    }

    static ProbingMetrics from(EvalOutput o) { return from(MetricsJson.tree(o)); }
}
