package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

import static msts.evals.MetricsJson.num;

/**
 * The unlearning eval's score, the unmodified model's MCQ accuracy (on all questions: original choice order, and
 * correct in all 24 orders — NaN when not measured) and the sweep ({@code unlearning_eval_results.json}), typed.
 */
public record UnlearningMetrics(double unlearningScore, double wmdpAccuracyOriginalOrder, double wmdpAccuracyAll24Orders,
                                double mmluAccuracyOriginalOrder, double mmluAccuracyAll24Orders, List<Setting> settings) {
    public static final String EVAL_TYPE_ID = "unlearning";

    /** One clamp setting of the sweep (one row of eval_result_details). */
    public record Setting(double retainThreshold, int nFeatures, double multiplier, double wmdpBioAccuracy,
                          double mmluAccuracy, double unlearningEffect) {}

    public static UnlearningMetrics from(JsonNode eval) {
        List<Setting> s = new ArrayList<>();
        for (JsonNode d : MetricsJson.list(eval.path("eval_result_details")))
            s.add(new Setting(num(d, "retain_threshold"), d.path("n_features").asInt(), num(d, "multiplier"),
                    num(d, "wmdp_bio_accuracy"), num(d, "mmlu_accuracy"), num(d, "unlearning_effect")));
        JsonNode u = eval.path("eval_result_metrics").path("unlearning");
        return new UnlearningMetrics(num(u, "unlearning_score"), num(u, "wmdp_bio_accuracy_unmodified_original_order"),
                num(u, "wmdp_bio_accuracy_unmodified_all_24_orders"), num(u, "mmlu_accuracy_unmodified_original_order"),
                num(u, "mmlu_accuracy_unmodified_all_24_orders"), List.copyOf(s));
    }

    static UnlearningMetrics from(EvalOutput o) { return from(MetricsJson.tree(o)); }
}
