package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The typed eval results against the JSON the evals write: every field equals the value under its SAEBench
 * key, and a record read back from the written file equals the one the eval returned.
 */
class TypedResultsTest {

    static double at(JsonNode eval, String pointer) {
        JsonNode v = eval.at(pointer);
        assertFalse(v.isMissingNode(), pointer + " missing");
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    @Test
    void coreFieldsAreTheJsonValues(@TempDir Path dir) {
        FakeModel lm = FakeModel.random(16, 5, 7);
        int[][] rows = {{2, 5, 6, 7, 1, 9, 10}, {2, 11, 12, 3, 4, 5, 0}};
        TestSae sae = TestSae.tied(DecoderGeometry.unitRows(new float[] {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0}, 3, 5), 3, 5, 0.1f);
        EvalResult<CoreMetrics> r = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), sae, rows, new CoreEval.Config(0, 2, true), "t");
        JsonNode j = EvalOutput.read(r.write(dir));
        CoreMetrics m = r.metrics();
        Map<String, Double> want = Map.ofEntries(
                Map.entry("/eval_result_metrics/model_behavior_preservation/kl_div_score", m.modelBehaviorPreservation().klDivScore()),
                Map.entry("/eval_result_metrics/model_behavior_preservation/kl_div_with_ablation", m.modelBehaviorPreservation().klDivWithAblation()),
                Map.entry("/eval_result_metrics/model_behavior_preservation/kl_div_with_sae", m.modelBehaviorPreservation().klDivWithSae()),
                Map.entry("/eval_result_metrics/model_performance_preservation/ce_loss_score", m.modelPerformancePreservation().ceLossScore()),
                Map.entry("/eval_result_metrics/model_performance_preservation/ce_loss_with_ablation", m.modelPerformancePreservation().ceLossWithAblation()),
                Map.entry("/eval_result_metrics/model_performance_preservation/ce_loss_with_sae", m.modelPerformancePreservation().ceLossWithSae()),
                Map.entry("/eval_result_metrics/model_performance_preservation/ce_loss_without_sae", m.modelPerformancePreservation().ceLossWithoutSae()),
                Map.entry("/eval_result_metrics/reconstruction_quality/explained_variance", m.reconstructionQuality().explainedVariance()),
                Map.entry("/eval_result_metrics/reconstruction_quality/explained_variance_legacy", m.reconstructionQuality().explainedVarianceLegacy()),
                Map.entry("/eval_result_metrics/reconstruction_quality/mse", m.reconstructionQuality().mse()),
                Map.entry("/eval_result_metrics/reconstruction_quality/cossim", m.reconstructionQuality().cossim()),
                Map.entry("/eval_result_metrics/shrinkage/l2_norm_in", m.shrinkage().l2NormIn()),
                Map.entry("/eval_result_metrics/shrinkage/l2_norm_out", m.shrinkage().l2NormOut()),
                Map.entry("/eval_result_metrics/shrinkage/l2_ratio", m.shrinkage().l2Ratio()),
                Map.entry("/eval_result_metrics/shrinkage/relative_reconstruction_bias", m.shrinkage().relativeReconstructionBias()),
                Map.entry("/eval_result_metrics/sparsity/l0", m.sparsity().l0()),
                Map.entry("/eval_result_metrics/sparsity/l1", m.sparsity().l1()),
                Map.entry("/eval_result_metrics/token_stats/total_tokens_eval_reconstruction", m.tokenStats().totalTokensEvalReconstruction()),
                Map.entry("/eval_result_metrics/token_stats/total_tokens_eval_sparsity_variance", m.tokenStats().totalTokensEvalSparsityVariance()),
                Map.entry("/eval_result_metrics/misc_metrics/freq_over_1_percent", m.miscMetrics().freqOver1Percent()),
                Map.entry("/eval_result_metrics/misc_metrics/freq_over_10_percent", m.miscMetrics().freqOver10Percent()),
                Map.entry("/eval_result_metrics/misc_metrics/normalized_freq_over_1_percent", m.miscMetrics().normalizedFreqOver1Percent()),
                Map.entry("/eval_result_metrics/misc_metrics/normalized_freq_over_10_percent", m.miscMetrics().normalizedFreqOver10Percent()),
                Map.entry("/eval_result_metrics/misc_metrics/average_max_encoder_cosine_sim", m.miscMetrics().averageMaxEncoderCosineSim()),
                Map.entry("/eval_result_metrics/misc_metrics/average_max_decoder_cosine_sim", m.miscMetrics().averageMaxDecoderCosineSim()),
                Map.entry("/eval_result_metrics/misc_metrics/frac_alive", m.miscMetrics().fracAlive()));
        int groups = 0;
        for (var g : r.output().evalResultMetrics().values()) groups += g.size();
        assertEquals(groups, want.size(), "every metric of the JSON has a field");
        want.forEach((ptr, v) -> assertEquals(at(j, ptr), v, 0.0, ptr));
        assertTrue(m.sparsity().l0() > 0, "a non-trivial value: " + m.sparsity().l0());
        assertEquals(m, CoreMetrics.from(j), "read back from the file");
        // without CE/KL those groups are absent
        CoreMetrics noCe = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), sae, rows, new CoreEval.Config(0, 2, false), "t").metrics();
        assertNull(noCe.modelPerformancePreservation());
        assertNull(noCe.modelBehaviorPreservation());
    }

    @Test
    void unlearningProbingAndDisentangleFieldsAreTheJsonValues(@TempDir Path dir) throws Exception {
        ReportFixtures.writeRun(dir, 0.3f, 1);
        JsonNode u = EvalOutput.read(dir.resolve(EvalOutput.fileName(UnlearningMetrics.EVAL_TYPE_ID)));
        UnlearningMetrics um = UnlearningMetrics.from(u);
        assertEquals(at(u, "/eval_result_metrics/unlearning/unlearning_score"), um.unlearningScore(), 0.0);
        assertEquals(u.get("eval_result_details").size(), um.settings().size());
        assertFalse(um.settings().isEmpty());
        for (int i = 0; i < um.settings().size(); i++) {
            var s = um.settings().get(i);
            String p = "/eval_result_details/" + i + "/";
            assertEquals(at(u, p + "retain_threshold"), s.retainThreshold(), 0.0);
            assertEquals((int) at(u, p + "n_features"), s.nFeatures());
            assertEquals(at(u, p + "multiplier"), s.multiplier(), 0.0);
            assertEquals(at(u, p + "wmdp_bio_accuracy"), s.wmdpBioAccuracy(), 0.0);
            assertEquals(at(u, p + "mmlu_accuracy"), s.mmluAccuracy(), 0.0);
            assertEquals(at(u, p + "unlearning_effect"), s.unlearningEffect(), 0.0);
        }

        JsonNode pj = EvalOutput.read(dir.resolve(EvalOutput.fileName(ProbingMetrics.EVAL_TYPE_ID)));
        ProbingMetrics pm = ProbingMetrics.from(pj);
        assertEquals(java.util.List.of(1, 2, 5, 10, 20), java.util.List.copyOf(pm.saeTopK().keySet()));
        assertEquals(pm.saeTopK().keySet(), pm.llmTopK().keySet());
        for (int k : pm.saeTopK().keySet()) {
            JsonNode v = pj.at("/eval_result_metrics/sae/sae_top_" + k + "_test_accuracy");
            if (v.isNull()) assertNull(pm.saeTop(k), "k=" + k);
            else assertEquals(v.asDouble(), pm.saeTop(k), 0.0, "k=" + k);
            JsonNode l = pj.at("/eval_result_metrics/llm/llm_top_" + k + "_test_accuracy");
            if (l.isNull()) assertNull(pm.llmTopK().get(k), "llm k=" + k);
            else assertEquals(l.asDouble(), pm.llmTopK().get(k), 0.0, "llm k=" + k);
        }
        assertEquals(at(pj, "/eval_result_metrics/sae/sae_test_accuracy"), pm.saeTestAccuracy(), 0.0);
        assertEquals(at(pj, "/eval_result_metrics/llm/llm_test_accuracy"), pm.llmTestAccuracy(), 0.0);

        JsonNode dj = EvalOutput.read(dir.resolve(EvalOutput.fileName(DisentangleMetrics.EVAL_TYPE_ID)));
        DisentangleMetrics dm = DisentangleMetrics.from(dj);
        assertEquals(at(dj, "/eval_result_metrics/temporal_persistence/mean_persistence"), dm.temporalPersistence().meanPersistence(), 0.0);
        assertEquals((int) at(dj, "/eval_result_metrics/temporal_persistence/n_alive_latents"), dm.temporalPersistence().nAliveLatents());
        assertEquals(at(dj, "/eval_result_metrics/coactivation/mean_jaccard_top_latents"), dm.coactivation().meanJaccardTopLatents(), 0.0);
        assertEquals(at(dj, "/eval_result_metrics/decoder_geometry/frac_pairs_decoder_cosine_over_0_5"),
                dm.decoderGeometry().fracPairsDecoderCosineOver05(), 0.0);
        assertNotNull(dm.groundTruth());
        assertFalse(dm.groundTruth().recoveryByTimeScale().isEmpty());
        for (var e : dm.groundTruth().recoveryByTimeScale().entrySet())
            assertEquals(at(dj, "/eval_result_metrics/ground_truth/recovery_time_scale_" + e.getKey()), e.getValue(), 0.0);
        for (var e : dm.groundTruth().matchedLatentPersistenceByTimeScale().entrySet())
            assertEquals(at(dj, "/eval_result_metrics/ground_truth/matched_latent_persistence_time_scale_" + e.getKey()), e.getValue(), 0.0);
        assertEquals(at(dj, "/eval_result_metrics/ground_truth/recovery_mean"), dm.groundTruth().recoveryMean(), 0.0);
        assertEquals(dj.at("/eval_result_unstructured/decoder_cosine_histogram_counts").size(), dm.decoderCosineHistogramCounts().length);
        assertEquals(dj.at("/eval_result_unstructured/latent_persistence").size(), dm.latentPersistence().length);
        assertEquals(at(dj, "/eval_result_unstructured/mean_autocorrelation_by_lag/0"), dm.meanAutocorrelationByLag()[0], 0.0);
    }
}
