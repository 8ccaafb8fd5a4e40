package msts.evals;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoreEvalTest {
    static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) n.get(i).asDouble();
        return a;
    }

    static JsonNode fixture(String name) throws Exception {
        try (InputStream in = CoreEvalTest.class.getResourceAsStream(name)) {
            return EvalOutput.MAPPER.readTree(in);
        }
    }

    @Test
    void matchesNumpyReference(@TempDir Path dir) throws Exception {
        JsonNode j = fixture("core_reference.json");
        int V = j.get("V").asInt(), d = j.get("d").asInt(), F = j.get("F").asInt();
        FakeModel lm = new FakeModel(V, d, floats(j.get("E")), floats(j.get("U")));
        TestSae sae = new TestSae(d, F, floats(j.get("W_enc")), floats(j.get("b_enc")), floats(j.get("W_dec")), floats(j.get("b_dec")));
        int[][] rows = EvalOutput.MAPPER.convertValue(j.get("rows"), int[][].class);
        EvalOutput out = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(V), sae, rows, new CoreEval.Config(0, 3, true), "test").output();
        JsonNode exp = j.get("expected");
        Map<String, Map<String, Object>> m = out.evalResultMetrics();
        int checked = 0;
        for (var g : m.values()) {
            for (var e : g.entrySet()) {
                if (!exp.has(e.getKey())) continue;
                double want = exp.get(e.getKey()).asDouble(), got = ((Number) e.getValue()).doubleValue();
                assertEquals(want, got, 1e-4 * Math.max(1, Math.abs(want)), e.getKey());
                checked++;
            }
        }
        assertEquals(exp.size(), checked, "every reference metric is produced");
        for (int f = 0; f < F; f++)
            assertEquals(j.get("density").get(f).asDouble(), (double) out.evalResultDetails().get(f).get("feature_density"), 1e-9);
        for (String k : new String[]{"encoder_norm", "encoder_decoder_cosine_sim", "max_encoder_cosine_sim"})
            for (int f = 0; f < F; f++)
                assertEquals(j.get(k).get(f).asDouble(), (double) out.evalResultDetails().get(f).get(k), 1e-5, k + "[" + f + "]");

        Path file = out.write(dir);
        JsonNode back = EvalOutput.read(file);
        for (String k : new String[]{"eval_type_id", "eval_config", "eval_id", "datetime_epoch_millis", "eval_result_metrics",
                "eval_result_details", "eval_result_unstructured", "sae_bench_commit_hash", "sae_lens_id",
                "sae_lens_release_id", "sae_lens_version", "sae_cfg_dict"})
            assertTrue(back.has(k), k);
        assertEquals("core", back.get("eval_type_id").asText());
        assertTrue(back.at("/eval_result_metrics/model_performance_preservation/ce_loss_score").isNumber());
        assertEquals(F, back.get("sae_cfg_dict").get("d_sae").asInt());
    }

    @Test
    void perfectReconstructionScoresOne() {
        FakeModel lm = FakeModel.random(16, 5, 7);
        int[][] rows = {{2, 5, 6, 7, 1, 9, 10}, {2, 11, 12, 3, 4, 5, 0}};
        EvalOutput out = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), TestSae.identity(5), rows, new CoreEval.Config(0, 2, true), "id").output();
        var m = out.evalResultMetrics();
        assertEquals(1.0, (double) m.get("model_performance_preservation").get("ce_loss_score"), 1e-5);
        assertEquals(1.0, (double) m.get("model_behavior_preservation").get("kl_div_score"), 1e-5);
        assertEquals(1.0, (double) m.get("reconstruction_quality").get("explained_variance"), 1e-5);
        assertEquals(1.0, (double) m.get("reconstruction_quality").get("cossim"), 1e-5);
        assertEquals(1.0, (double) m.get("shrinkage").get("relative_reconstruction_bias"), 1e-5);
    }

    @Test
    void rejectsWrongWidth() {
        FakeModel lm = FakeModel.random(16, 5, 7);
        var ex = assertThrows(IllegalArgumentException.class, () ->
                CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), TestSae.identity(4), new int[][]{{2, 3}}, new CoreEval.Config(0, 1, true), "x"));
        assertTrue(ex.getMessage().contains("d_in"));
    }
}
