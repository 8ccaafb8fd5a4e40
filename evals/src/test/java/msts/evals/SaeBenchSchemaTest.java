package msts.evals;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every eval type's file, as msts writes it, validates against SAEBench's published JSON schema for that eval
 * (vendored under src/test/resources/saebench, provenance in PROVENANCE.md), read back by a strict JSON
 * parser (no NaN), plus the two rules of pydantic's strict mode the schemas do not express: an "integer" is
 * written as an integer literal (not 25.0), and every eval_config field of the schema is written explicitly
 * (an omitted one would take SAEBench's default, e.g. core's dataset "Skylion007/openwebtext").
 */
class SaeBenchSchemaTest {
    static final ObjectMapper STRICT = new ObjectMapper(); // rejects NaN/Infinity tokens by default

    static JsonNode schemaNode(String evalType) throws Exception {
        try (InputStream in = SaeBenchSchemaTest.class.getResourceAsStream("/saebench/eval_output_schema_" + evalType + ".json")) {
            assertNotNull(in, "vendored schema for " + evalType);
            return STRICT.readTree(in);
        }
    }

    /** Schema errors and strict-mode violations of the written file; empty when SAEBench accepts it. */
    static List<String> problems(String evalType, Path file) throws Exception {
        JsonNode schema = schemaNode(evalType);
        JsonNode doc = STRICT.readTree(Files.readString(file));
        List<String> out = new ArrayList<>();
        JsonSchema s = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        Set<ValidationMessage> errors = s.validate(doc);
        for (ValidationMessage m : errors) out.add(m.getMessage());
        strictIntegers(schema, schema, doc, "$", out);
        JsonNode cfgDef = resolve(schema, schema.at("/properties/eval_config"));
        for (var p : cfgDef.path("properties").properties())
            if (!doc.path("eval_config").has(p.getKey())) out.add("$.eval_config." + p.getKey() + ": not written (SAEBench would use its default " + p.getValue().path("default") + ")");
        if (doc.at("/eval_config/model_name").asText("").isEmpty()) out.add("$.eval_config.model_name: empty");
        return out;
    }

    static JsonNode resolve(JsonNode root, JsonNode node) {
        while (node.has("$ref")) node = root.at(node.get("$ref").asText().substring(1));
        return node;
    }

    /** Walks schema and instance together; an "integer" position must hold an integral JSON literal. */
    static void strictIntegers(JsonNode root, JsonNode schema, JsonNode doc, String path, List<String> out) {
        schema = resolve(root, schema);
        if (doc == null || doc.isMissingNode() || doc.isNull()) return;
        if ("integer".equals(schema.path("type").asText()) && !doc.isIntegralNumber())
            out.add(path + ": integer expected, written as " + doc);
        for (JsonNode alt : schema.path("anyOf")) {
            JsonNode a = resolve(root, alt);
            if ("integer".equals(a.path("type").asText()) && doc.isNumber() && !doc.isIntegralNumber())
                out.add(path + ": integer expected, written as " + doc);
        }
        if (doc.isObject())
            for (var p : schema.path("properties").properties()) strictIntegers(root, p.getValue(), doc.get(p.getKey()), path + "." + p.getKey(), out);
        if (doc.isArray() && schema.has("items"))
            for (int i = 0; i < doc.size(); i++) strictIntegers(root, schema.get("items"), doc.get(i), path + "[" + i + "]", out);
    }

    static void assertAccepted(String evalType, EvalOutput out, Path dir) throws Exception {
        Path file = out.write(dir);
        List<String> p = problems(evalType, file);
        assertTrue(p.isEmpty(), evalType + " output rejected by SAEBench's schema:\n  " + String.join("\n  ", p));
    }

    @Test
    void coreValidates(@TempDir Path dir) throws Exception {
        FakeModel lm = FakeModel.random(16, 5, 7);
        int[][] rows = {{2, 5, 6, 7, 1, 9, 10}, {2, 11, 12, 3, 4, 5, 0}};
        // a latent that never fires (bias −100): its consistent_activation_heuristic is 0/0 (SAEBench writes −1)
        Random r = new Random(3);
        float[] wEnc = new float[5 * 6], bEnc = new float[6], wDec = new float[6 * 5];
        for (int i = 0; i < wEnc.length; i++) wEnc[i] = (float) r.nextGaussian();
        for (int i = 0; i < wDec.length; i++) wDec[i] = (float) r.nextGaussian();
        bEnc[3] = -100f;
        TestSae sae = new TestSae(5, 6, wEnc, bEnc, wDec, new float[5]);
        EvalOutput out = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), sae, rows, new CoreEval.Config(0, 2, true), "core-test").output();
        assertAccepted("core", out, dir);
        JsonNode back = EvalOutput.read(dir.resolve("core_eval_results.json"));
        assertEquals(-1.0, back.at("/eval_result_details/3/consistent_activation_heuristic").asDouble(), 0.0);
    }

    @Test
    void coreWithoutCeKlValidates(@TempDir Path dir) throws Exception {
        FakeModel lm = FakeModel.random(16, 5, 7);
        int[][] rows = {{2, 5, 6, 7, 1, 9, 10}};
        EvalOutput out = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), TestSae.identity(5), rows, new CoreEval.Config(0, 1, false), "x").output();
        assertAccepted("core", out, dir);
    }

    @Test
    void unlearningValidates(@TempDir Path dir) throws Exception {
        FakeTokenizer tok = new FakeTokenizer(200);
        FakeModel lm = FakeModel.random(200, 8, 5);
        List<String> q = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            q.add("{\"question\": \"q" + i + " about thing" + i + "\", \"choices\": [\"w" + i + "\", \"x" + i + "\", \"y\", \"z\"], \"answer\": " + (i % 4) + "}");
        Files.write(dir.resolve("q.jsonl"), q);
        var wmdp = Unlearning.readQuestions(dir.resolve("q.jsonl"), "biology");
        Files.write(dir.resolve("forget.jsonl"), List.of("{\"text\": \"virus cell protein gene virus toxin\"}"));
        Files.write(dir.resolve("retain.jsonl"), List.of("{\"text\": \"the river stone house\"}"));
        int[][] forget = msts.data.Corpus.readRows(List.of(dir.resolve("forget.jsonl")), tok, 6, 10, msts.data.Corpus.Options.DEFAULT);
        int[][] retain = msts.data.Corpus.readRows(List.of(dir.resolve("retain.jsonl")), tok, 6, 10, msts.data.Corpus.Options.DEFAULT);
        Random r = new Random(1);
        float[] dirs = new float[12 * 8];
        for (int i = 0; i < dirs.length; i++) dirs[i] = (float) r.nextGaussian();
        TestSae sae = TestSae.tied(DecoderGeometry.unitRows(dirs, 12, 8), 12, 8, 0.5f);
        var cfg = new Unlearning.Config(new double[]{0.01}, new int[]{2}, new double[]{25, 200}, false, 0.99, 4);
        Map<String, List<Unlearning.Question>> mmlu = new LinkedHashMap<>();
        mmlu.put("human_aging", wmdp);
        EvalOutput out = Unlearning.run(lm, tok, sae, 0, forget, retain, wmdp, mmlu, cfg, "t").output();
        assertAccepted("unlearning", out, dir);
        assertEquals("[25,200]", EvalOutput.read(dir.resolve("unlearning_eval_results.json")).at("/eval_config/multipliers").toString());
    }

    @Test
    void sparseProbingValidates(@TempDir Path dir) throws Exception {
        FakeTokenizer tok = new FakeTokenizer(64);
        FakeModel lm = FakeModel.random(64, 8, 3);
        String[] words = {"the", "cell", "river", "stone", "blue", "house", "green", "virus"};
        List<String> lines = new ArrayList<>();
        Random r = new Random(9);
        for (int i = 0; i < 30; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < 5; w++) sb.append(w == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            lines.add("{\"text\": \"" + sb + "\", \"label\": " + (i % 2) + "}");
        }
        Path file = dir.resolve("bio.jsonl");
        Files.write(file, lines);
        float[] dirs = new float[6 * 8];
        for (int i = 0; i < dirs.length; i++) dirs[i] = (float) r.nextGaussian();
        TestSae sae = TestSae.tied(DecoderGeometry.unitRows(dirs, 6, 8), 6, 8, 0.1f);
        EvalOutput out = SparseProbing.run(lm, tok, sae, 0, SparseProbing.tasks(file),
                new SparseProbing.Config(16, 0.7, 1, new int[]{1, 2, 5, 10}, 1.0, 1000), "t").output();
        assertAccepted("sparse_probing", out, dir);
    }

    /** The check itself can fail: the pre-fix core file (no encoder metrics, null heuristic) is rejected. */
    @Test
    void rejectsWhatSaeBenchRejects(@TempDir Path dir) throws Exception {
        FakeModel lm = FakeModel.random(16, 5, 7);
        EvalOutput good = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), TestSae.identity(5), new int[][]{{2, 5, 6, 7}}, new CoreEval.Config(0, 1, true), "x").output();
        Map<String, Map<String, Object>> metrics = new LinkedHashMap<>(good.evalResultMetrics());
        Map<String, Object> misc = new LinkedHashMap<>(metrics.get("misc_metrics"));
        misc.remove("average_max_encoder_cosine_sim");
        metrics.put("misc_metrics", misc);
        List<Map<String, Object>> details = new ArrayList<>();
        for (var d : good.evalResultDetails()) {
            Map<String, Object> m = new LinkedHashMap<>(d);
            m.remove("encoder_norm");
            m.put("consistent_activation_heuristic", null);
            details.add(m);
        }
        Map<String, Object> cfg = new LinkedHashMap<>(good.evalConfig());
        cfg.remove("dataset");
        cfg.put("context_size", 4.0);
        EvalOutput bad = new EvalOutput("core", cfg, good.evalId(), good.datetimeEpochMillis(), metrics, details, null,
                "msts", null, null, null, good.saeCfgDict());
        List<String> p = problems("core", bad.write(dir));
        String all = String.join("\n", p);
        assertTrue(all.contains("average_max_encoder_cosine_sim"), all);
        assertTrue(all.contains("encoder_norm"), all);
        assertTrue(all.contains("consistent_activation_heuristic"), all);
        assertTrue(all.contains("eval_config.dataset"), all);
        assertTrue(all.contains("eval_config.context_size: integer expected"), all);
    }
}
