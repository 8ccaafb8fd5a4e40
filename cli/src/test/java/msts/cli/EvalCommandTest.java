package msts.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import msts.model.gemma.TinyGemma2;
import msts.sae.SaeConfig;
import msts.sae.SaeIO;
import msts.sae.SaeParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** msts eval core|unlearning|probing|disentangle, synthetic and report on a tiny random Gemma-2 and a random SAE. */
class EvalCommandTest {
    @TempDir static Path dir;
    static Path model, sae, data;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyGemma2.write(dir.resolve("model"), TinyGemma2.Spec.demo().withLayers(2), 3);
        SaeConfig cfg = SaeConfig.builder().dIn(64).dSae(96).hookLayer(1).hookName("blocks.1.hook_resid_post").build();
        sae = dir.resolve("sae");
        SaeIO.save(sae, cfg, SaeParams.init(cfg, 5), java.util.Map.of());
        data = Files.createDirectories(dir.resolve("data"));
        for (String f : new String[]{"forget.jsonl", "retain.jsonl", "wmdp_bio.jsonl", "mmlu_human_aging.jsonl", "probing_topic.jsonl"})
            try (InputStream in = EvalCommandTest.class.getResourceAsStream("/demo/" + f)) {
                // the first lines are enough here (a forward pass with 256k-vocab logits per question)
                var lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().limit(f.startsWith("probing") ? 40 : 12).toList();
                Files.write(data.resolve(f), lines);
            }
    }

    static JsonNode json(Path p) throws Exception {
        return new ObjectMapper().readTree(p.toFile());
    }

    @Test
    void allEvalsAndTheReport() throws Exception {
        Path out = dir.resolve("run");
        CliRun r = CliRun.of("eval", "core", "--sae", sae.toString(), "--model", model.toString(), "--corpus",
                data.resolve("retain.jsonl").toString(), "--context", "24", "--rows", "3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode core = json(out.resolve("core_eval_results.json"));
        assertTrue(core.at("/eval_result_metrics/model_performance_preservation/ce_loss_score").isNumber());
        assertEquals(1, core.at("/eval_config/hook_layer").asInt(), "hook layer from cfg.json");
        assertEquals("retain.jsonl", core.at("/eval_config/dataset").asText(), "the corpus, not SAEBench's default dataset");

        r = CliRun.of("eval", "unlearning", "--sae", sae.toString(), "--model", model.toString(),
                "--forget", data.resolve("forget.jsonl").toString(), "--retain", data.resolve("retain.jsonl").toString(),
                "--wmdp", data.resolve("wmdp_bio.jsonl").toString(), "--mmlu", data.resolve("mmlu_human_aging.jsonl").toString(),
                "--context", "24", "--rows", "3", "--n-features", "2", "--multipliers", "25,200", "--no-all-permutations",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode un = json(out.resolve("unlearning_eval_results.json"));
        assertEquals(4, un.get("eval_result_details").size());
        assertTrue(un.at("/eval_result_metrics/unlearning/unlearning_score").isNumber());

        r = CliRun.of("eval", "probing", "--sae", sae.toString(), "--model", model.toString(), "--data",
                data.resolve("probing_topic.jsonl").toString(), "--context", "24", "--max-examples", "40", "--k", "1,5", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(json(out.resolve("sparse_probing_eval_results.json")).at("/eval_result_metrics/sae/sae_top_1_test_accuracy").isNumber());

        Path syn = dir.resolve("syn");
        r = CliRun.of("synthetic", "--out", syn.toString(), "--seqs", "6", "--context", "32", "--d", "64", "--features-per-scale", "24");
        assertEquals(0, r.code(), r.err());
        r = CliRun.of("eval", "disentangle", "--sae", sae.toString(), "--activations", syn.resolve("activations.safetensors").toString(),
                "--ground-truth", syn.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(json(out.resolve("msts_disentanglement_eval_results.json")).at("/eval_result_metrics/ground_truth/recovery_time_scale_16").isNumber());

        // SAEBench's layout: <root>/<eval_type>/<sae_name>_eval_results.json, the SAE named after the run directory
        Path bench = dir.resolve("saebench");
        r = CliRun.of("export", "saebench", "--out", bench.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        for (String type : new String[]{"core", "unlearning", "sparse_probing", "msts_disentanglement"})
            assertEquals(Files.readString(out.resolve(type + "_eval_results.json")), Files.readString(bench.resolve(type).resolve("run_eval_results.json")), type);

        Path rep = dir.resolve("report");
        r = CliRun.of("report", out.toString(), "--out", rep.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("report.html"));
        assertTrue(Files.size(rep.resolve("l0_vs_explained_variance.png")) > 1000);
    }

    /**
     * {@code --held-out-from STORE} evaluates on the store's corpus from the first document its harvest did not
     * read: the same metrics as {@code --corpus} on a file holding only those documents (cut from the corpus here by
     * the manifest's position), and none of its rows is a stored sequence.
     */
    @Test
    void coreOnTextHeldOutFromTheTrainingStore() throws Exception {
        Path store = dir.resolve("store-h");
        CliRun r = CliRun.of("harvest", "--model", model.toString(), "--layer", "1", "--corpus", data.resolve("retain.jsonl").toString(),
                "--context", "24", "--tokens", "40", "--dtype", "f32", "--out", store.toString());
        assertEquals(0, r.code(), r.err());
        var man = msts.data.StoreManifest.read(store);
        long first = man.heldOutStart().document();
        assertTrue(first >= 1, "the harvest read at least one document");
        List<String> lines = Files.readAllLines(data.resolve("retain.jsonl"));
        Path tail = dir.resolve("retain-tail.jsonl");
        Files.write(tail, lines.subList((int) first, lines.size()));
        Path a = dir.resolve("held"), b = dir.resolve("tail");
        r = CliRun.of("eval", "core", "--sae", sae.toString(), "--model", model.toString(), "--held-out-from", store.toString(),
                "--context", "24", "--rows", "2", "--out", a.toString());
        assertEquals(0, r.code(), r.err());
        r = CliRun.of("eval", "core", "--sae", sae.toString(), "--model", model.toString(), "--corpus", tail.toString(),
                "--context", "24", "--rows", "2", "--out", b.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode ha = json(a.resolve("core_eval_results.json")), hb = json(b.resolve("core_eval_results.json"));
        assertEquals(hb.get("eval_result_metrics"), ha.get("eval_result_metrics"));
        assertTrue(ha.at("/eval_config/dataset").asText().startsWith("retain.jsonl held out from store-h"), ha.at("/eval_config/dataset").asText());
        try (var lm = msts.evals.GemmaModel.load(model, null, msts.engine.backend.Backends.reference());
             var st = msts.data.ActivationStore.open(store)) {
            int[][] held = man.heldOutRows(lm.tokenizer(), 24, 2);
            for (int q = 0; q < st.numSequences(); q++) for (int[] row : held) assertFalse(java.util.Arrays.equals(row, st.tokens(q)));
        }
        // exactly one text source
        r = CliRun.of("eval", "core", "--sae", sae.toString(), "--model", model.toString(), "--held-out-from", store.toString(),
                "--corpus", tail.toString(), "--out", dir.resolve("z").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("mutually exclusive"), r.err());
    }

    /** The core metrics of {@code sae} on {@code model} computed here, model and SAE each on the given ops. */
    static JsonNode coreMetrics(msts.engine.backend.Backend modelBackend, msts.engine.Ops saeOps) throws Exception {
        try (var lm = msts.evals.GemmaModel.load(model, null, modelBackend)) {
            var s = SaeIO.load(sae, saeOps);
            int[][] rows = EvalCommand.rows(lm, java.util.List.of(data.resolve("retain.jsonl")), 24, 3, 0, msts.data.Corpus.BosMode.PREPEND);
            var o = msts.evals.CoreEval.run(saeOps, lm, lm.tokenizer(), s, rows, new msts.evals.CoreEval.Config(1, 4, false), "sae").output();
            Path d = Files.createTempDirectory(dir, "core");
            return json(o.write(d));
        }
    }

    @Test
    void referenceBackendRunsTheSaeOnTheReferenceOpsToo() throws Exception {
        // Before the backend was chosen once, `--ops reference` ran the model on the reference ops but the SAE
        // (SaeIO's default) and the decoder-cosine Gram (DecoderGeometry's) on CpuOps.
        Path out = dir.resolve("run-reference");
        CliRun r = CliRun.of("eval", "core", "--backend", "reference", "--sae", sae.toString(), "--model", model.toString(), "--corpus",
                data.resolve("retain.jsonl").toString(), "--context", "24", "--rows", "3", "--no-ce-kl", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode got = json(out.resolve("core_eval_results.json"));
        var ref = msts.engine.backend.Backends.reference();
        JsonNode allReference = coreMetrics(ref, msts.engine.Ops.reference());
        JsonNode saeOnCpu = coreMetrics(ref, msts.engine.CpuOps.INSTANCE);
        assertNotEquals(saeOnCpu.get("eval_result_metrics"), allReference.get("eval_result_metrics"),
                "the SAE's ops change the metrics' last bits (else this test could not tell them apart)");
        assertEquals(allReference.get("eval_result_metrics"), got.get("eval_result_metrics"), "model and SAE on the reference ops");
        assertEquals(allReference.get("eval_result_details"), got.get("eval_result_details"));
    }

    @Test
    void badInputIsOneClearError() {
        CliRun r = CliRun.of("eval", "core", "--sae", dir.resolve("missing").toString(), "--model", model.toString(),
                "--corpus", data.resolve("retain.jsonl").toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: ") && r.err().contains("SAE directory not found"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        r = CliRun.of("report", dir.resolve("nothing-here").toString(), "--out", dir.resolve("y").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("run directory not found"), r.err());
    }

    @Test
    void recallOnAWorldModelReproducesTheTrainersHeldOutLossAndCountsEveryPrediction() throws Exception {
        Path world = dir.resolve("recall-world"), model = dir.resolve("recall-model"), out = dir.resolve("recall-out");
        assertEquals(0, CliRun.of("world", "--out", world.toString(), "--entities", "6", "--eval-entities", "3", "--paraphrases", "12").code());
        CliRun t = CliRun.of("lm", "train", "--world", world.toString(), "--out", model.toString(), "--hidden", "32", "--layers", "2",
                "--heads", "4", "--kv-heads", "2", "--intermediate", "64", "--context", "16", "--sliding-window", "4", "--steps", "20",
                "--batch", "4", "--lr", "1e-2", "--warmup", "2");
        assertEquals(0, t.code(), t.err());
        CliRun r = CliRun.of("eval", "recall", "--model", model.toString(), "--world", world.toString(), "--context", "16", "--batch", "3",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(out.resolve("fact_recall.json").toFile());
        JsonNode summary = new ObjectMapper().readTree(model.resolve("train_summary.json").toFile());
        // the trainer's held-out loss (its own training forward) and this eval's packing of the same text (the inference forward)
        assertEquals(summary.get("held_out_tokens").asLong(), j.at("/packed_held_out_loss/predictions").asLong());
        assertEquals(summary.get("held_out_loss").asDouble(), j.at("/packed_held_out_loss/loss").asDouble(), 1e-5 * summary.get("held_out_loss").asDouble());
        for (String f : new String[]{"forget.jsonl", "retain.jsonl"}) {
            JsonNode c = j.get("corpora").get(f);
            long docs = Files.readAllLines(world.resolve(f)).stream().filter(l -> !l.isBlank()).count();
            assertEquals(docs, c.get("documents").asLong(), f);
            assertEquals(docs, c.at("/eos/predictions").asLong(), f + ": one <eos> per document");
            long parts = 0;
            for (String k : new String[]{"value_after", "value_before", "entity", "other", "eos"}) parts += c.path(k).path("predictions").asLong();
            assertEquals(c.at("/all/predictions").asLong(), parts, f + ": the kinds split every prediction");
            assertTrue(c.at("/value_after/predictions").asLong() > 0 && c.at("/entity/predictions").asLong() > 0, c.toString());
            double a = c.at("/value_after/top1_among_relation_values").asDouble(-1);
            assertTrue(a >= 0 && a <= 1, c.toString());
        }
        assertEquals(Math.log(new ObjectMapper().readTree(model.resolve("config.json").toFile()).get("vocab_size").asInt()), j.get("uniform_loss").asDouble(), 1e-12);
        assertEquals(0, j.get("unknown_tokens").asLong(), "the model's own world");
        assertFalse(r.err().contains("warning"), r.err());
        // another world (other invented names): it runs, and says that its text is not in the model's vocabulary
        Path other = dir.resolve("recall-other");
        assertEquals(0, CliRun.of("world", "--out", other.toString(), "--seed", "5", "--entities", "6", "--eval-entities", "3", "--paraphrases", "12").code());
        CliRun o = CliRun.of("eval", "recall", "--model", model.toString(), "--world", other.toString(), "--context", "16");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.err().contains("msts: warning: ") && o.err().contains("<unk>"), o.err());
        CliRun bad = CliRun.of("eval", "recall", "--model", model.toString(), "--world", dir.resolve("recall-out").toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("msts: ") && bad.err().contains("world.json"), bad.err());
    }
}
