package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `msts demo` (the README's first command) end to end at reduced sizes: a small world, a tiny model trained on
 * it, every step must succeed and leave the files the report is built from. The full-size demo is the same
 * code with larger sizes.
 */
class DemoCommandTest {
    @TempDir Path dir;

    static final String[] SMALL = {"--world-entities", "6", "--world-eval-entities", "3", "--world-paraphrases", "12",
            "--lm-hidden", "32", "--lm-layers", "2", "--lm-tokens", "12000", "--lm-warm-tokens", "4000", "--lm-batch", "4", "--layer", "1",
            "--lm-base", "scratch"};

    @Test
    void smallDemoRunsEveryStepAndWritesTheReport() throws Exception {
        Path out = dir.resolve("demo");
        String[] args = concat(new String[]{"demo", "--out", out.toString(), "--model-cache", dir.resolve("cache").toString(),
                "--harvest-tokens", "3000", "--train-tokens", "16000", "--synthetic-tokens", "16000", "--d-sae", "64", "--no-all-permutations",
                "--sae-seeds", "2"}, SMALL);
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        Path html = out.resolve("report/report.html");
        assertTrue(r.out().contains("Report: " + html.toAbsolutePath()), r.out());
        assertTrue(Files.size(html) > 1000);
        String md = Files.readString(out.resolve("report/report.md"));
        assertTrue(md.contains("trained from scratch on a planted-knowledge world"), "the report must say which model the numbers come from");
        assertTrue(md.contains("Unmodified model MCQ accuracy"), md);
        assertTrue(md.contains("TARGET MET") || md.contains("TARGET NOT MET"), "the report states the unlearning verdict plainly");
        assertTrue(md.contains("forget MCQ acc., unmodified"), md);
        for (String png : new String[]{"l0_vs_explained_variance.png", "unlearning_accuracy.png", "decoder_cosine_histogram.png",
                "latent_persistence.png", "ground_truth_recovery.png"}) {
            Path p = out.resolve("report").resolve(png);
            assertTrue(Files.size(p) > 5000, png);
            byte[] head = Files.readAllBytes(p);
            assertEquals((byte) 0x89, head[0], png + " is not a PNG");
            assertEquals('P', head[1], png + " is not a PNG");
        }
        for (String sae : new String[]{"baseline", "temporal"}) {
            Path f = out.resolve("features").resolve(sae);
            assertTrue(Files.size(f.resolve("index.html")) > 200, sae + " dashboard index");
            assertTrue(Files.readString(f.resolve("latents/00000.html")).contains("\"promoted\""), sae + " latent page with output tokens");
        }
        assertTrue(r.out().contains("Feature dashboards: " + out.resolve("features/temporal/index.html").toAbsolutePath()), r.out());
        ObjectMapper json = new ObjectMapper();
        for (String sae : new String[]{"baseline", "temporal"}) {
            Path run = out.resolve("runs").resolve(sae);
            for (String eval : new String[]{"core", "unlearning", "sparse_probing", "msts_disentanglement"}) {
                JsonNode n = json.readTree(run.resolve(eval + "_eval_results.json").toFile());
                assertEquals(eval, n.get("eval_type_id").asText());
                assertTrue(n.get("eval_result_metrics").size() > 0, sae + " " + eval);
                assertTrue(n.has("sae_cfg_dict"), sae + " " + eval);
            }
            JsonNode u = json.readTree(run.resolve("unlearning_eval_results.json").toFile()).at("/eval_result_metrics/unlearning");
            double score = u.path("unlearning_score").asDouble(Double.NaN);
            assertTrue(score >= 0 && score <= 1, "unlearning score " + score);
            double acc = u.path("wmdp_bio_accuracy_unmodified_original_order").asDouble(Double.NaN);
            assertTrue(acc >= 0 && acc <= 1, "unmodified accuracy " + acc);
        }
        JsonNode summary = json.readTree(out.resolve("demo_summary.json").toFile());
        assertTrue(summary.has("target_met") && summary.has("unmodified_accuracy"), summary.toString());
        assertEquals(3, summary.get("unmodified_accuracy").size(), summary.toString());
        // a second SAE seed per architecture, evaluated on unlearning, is in the summary next to the first
        for (String sae : new String[]{"baseline", "temporal"}) {
            JsonNode seeds = summary.path(sae).path("seeds");
            assertEquals(2, seeds.size(), summary.toString());
            assertEquals(summary.path(sae).path("unlearning_score").asDouble(), seeds.get(0).path("unlearning_score").asDouble());
            Path second = out.resolve("seeds/seed-1/runs").resolve(sae).resolve("unlearning_eval_results.json");
            assertEquals(json.readTree(second.toFile()).at("/eval_result_metrics/unlearning/unlearning_score").asDouble(),
                    seeds.get(1).path("unlearning_score").asDouble(), 1e-15);
            assertEquals(1, seeds.get(1).path("seed").asLong());
            int met = 0;
            for (JsonNode e : seeds) met += e.path("target_met").asBoolean() ? 1 : 0;
            assertEquals(met, summary.path(sae).path("seeds_target_met").asInt());
        }
        assertTrue(summary.path("verdict").asText().contains("over seeds 0..1"), summary.path("verdict").asText());
        // the verdict names both SAEs' sparsity (the core eval's L0 of the seed every eval reads) and the matched-L0 plan
        for (String sae : new String[]{"baseline", "temporal"}) {
            double l0 = json.readTree(out.resolve("runs").resolve(sae).resolve("core_eval_results.json").toFile())
                    .at("/eval_result_metrics/sparsity/l0").asDouble();
            assertEquals(l0, summary.path(sae).path("l0").asDouble(), 1e-15);
            assertTrue(summary.path("verdict").asText().contains(String.format(java.util.Locale.ROOT, "%.2f (%s)", l0, sae)), summary.path("verdict").asText());
        }
        assertTrue(summary.path("verdict").asText().contains("--plan sparse"), summary.path("verdict").asText());
        // fact recall in the held-out paraphrases, from the eval's own file
        JsonNode recall = json.readTree(out.resolve("mcq/fact_recall.json").toFile());
        JsonNode fr = summary.path("fact_recall_held_out_paraphrases");
        assertEquals(recall.at("/packed_held_out_loss/loss").asDouble(), fr.path("packed_held_out_loss").asDouble(), 0);
        for (String f : new String[]{"forget.jsonl", "retain.jsonl"})
            assertEquals(recall.path("corpora").path(f).at("/value_after/top1_among_relation_values").asDouble(),
                    fr.path(f).path("value_after_top1_among_relation_values").asDouble(), 0, f);
        for (var e : summary.get("unmodified_accuracy").properties()) {
            // a question right in all 24 orders counts 24 of 24 prompts, so the all-24 fraction never exceeds the mean
            double mean = e.getValue().path("accuracy_mean_24_orders").asDouble(Double.NaN), all = e.getValue().path("accuracy_all_24_orders").asDouble(Double.NaN);
            assertTrue(mean >= 0 && mean <= 1 && all >= 0 && all <= mean + 1e-12, e.toString());
        }
        assertTrue(md.contains("(mean over the 24 orders)"), md);
        // the world the demo used is the one `msts world` writes for these settings
        assertTrue(Files.isRegularFile(out.resolve("world/world.json")));
        for (String sae : new String[]{"baseline-synthetic", "temporal-synthetic"}) {
            JsonNode n = json.readTree(out.resolve("runs").resolve(sae).resolve("msts_disentanglement_eval_results.json").toFile());
            assertTrue(n.toString().contains("recovery_time_scale_16"), sae);
        }
    }

    @Test
    void theModelIsTrainedOnceThenCachedAndTrainingIsBitReproducible() throws Exception {
        Path world = dir.resolve("world");
        assertEquals(0, CliRun.of("world", "--out", world.toString(), "--entities", "6", "--eval-entities", "3", "--paraphrases", "12").code());
        Path a = demo(dir.resolve("cacheA")).trainedModel(world);
        StringWriter log = new StringWriter();
        DemoCommand again = demo(dir.resolve("cacheA"), log);
        assertEquals(a, again.trainedModel(world));
        assertTrue(log.toString().contains("cached"), log.toString());
        assertFalse(log.toString().contains("$ msts lm train"), "a cached model is not trained again");
        Path b = demo(dir.resolve("cacheB")).trainedModel(world);
        assertEquals(a.getFileName(), b.getFileName(), "same world and settings, same key");
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")),
                "training is bit-reproducible");
        // other trainer settings, other key
        DemoCommand other = demo(dir.resolve("cacheA"));
        String[] fewer = SMALL.clone();
        fewer[java.util.Arrays.asList(fewer).indexOf("--lm-tokens") + 1] = "8000";
        new CommandLine(other).parseArgs(concat(fewer, new String[]{"--model-cache", dir.resolve("cacheA").toString()}));
        assertNotEquals(a, other.trainedModel(world));
    }

    /**
     * The shipped model is what the default demo would train: the cache key of the default curriculum's final stage,
     * computed from the worlds this code writes and every stage's trainer arguments, names it (so a change to the world
     * generator or the curriculum stops it being used, and the demo trains instead); installing it gives its exact
     * bytes, a model `msts forward` loads, and the key text it records hashes to its key.
     */
    @Test
    void theShippedModelIsTheDefaultCurriculumsFinalStage() throws Exception {
        var spec = msts.data.world.WorldSpec.demo(0, Integer.parseInt(msts.data.world.WorldSpec.DEMO_ENTITIES),
                Integer.parseInt(msts.data.world.WorldSpec.DEMO_EVAL_ENTITIES), Integer.parseInt(msts.data.world.WorldSpec.DEMO_PARAPHRASES));
        var man = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                msts.data.world.WorldFiles.render(spec).get(msts.data.world.WorldFiles.MANIFEST));
        Path cache = dir.resolve("cache-shipped");
        Path d = DemoCommand.defaultModel(man, 0, cache);
        String key = d.getFileName().toString();
        assertTrue(ShippedModel.has(key), "msts ships the default demo model (key " + key + ")");
        assertFalse(ShippedModel.has(DemoCommand.defaultModel(man, 1, cache).getFileName().toString()), "only seed 0's");
        assertFalse(DemoCommand.isModel(d));
        Files.createDirectories(cache);
        assertTrue(ShippedModel.install(d));
        assertTrue(DemoCommand.isModel(d));
        for (String f : ShippedModel.FILES)
            try (var in = DemoCommand.class.getResourceAsStream(ShippedModel.resource(key, f))) {
                assertArrayEquals(in.readAllBytes(), Files.readAllBytes(d.resolve(f)), f);
            }
        assertEquals(key, DemoCommand.sha256(Files.readString(d.resolve("demo_model_key.txt")).strip()).substring(0, 16));
        CliRun r = CliRun.of("forward", "--model", d.toString(), "--text", "The capital of", "--logits", "last", "--out", dir.resolve("shipped-fwd.safetensors").toString());
        assertEquals(0, r.code(), r.err());
    }

    /**
     * The curriculum's stages: stage 1 from scratch on the format world with the from-scratch settings; then the
     * practice stages on the practice world with the MCQ prompt weight of stage 1, then the rest on the demo world with
     * the warm-stage prompt weight; every later stage warm-started from the one before (its key names the previous
     * stage's key), with the documented peak lr (2e-3, 1.5e-3, then 1e-3) and its own data-order seed. A curriculum
     * with no stage left for the demo world is refused.
     */
    @Test
    void everyWarmStageStartsFromTheStageBeforeWithItsOwnWorldLrAndSeed() throws Exception {
        var man = DemoCommand.manifest(msts.data.world.WorldSpec.demo(0, 6, 3, 12));
        DemoCommand d = new DemoCommand();
        new CommandLine(d).parseArgs("--lm-stages", "6", "--lm-practice-stages", "2", "--seed", "7", "--lm-warm-prompt-weight", "0.5",
                "--model-cache", dir.toString(), "--lm-base", "scratch");
        var stages = d.stages(man, dir.resolve("world"));
        assertEquals(6, stages.size());
        var first = stages.get(0);
        assertEquals(dir.resolve("world-format"), first.world(), "stage 1 trains on the format world");
        assertEquals(msts.data.world.WorldSpec.format(7), first.spec());
        assertEquals(first.keyArgs(), first.runArgs());
        assertEquals("3e-3", arg(first.runArgs(), "--lr"));
        assertEquals("1", arg(first.runArgs(), "--prompt-weight"));
        String[] lr = {null, null, "2e-3", "1.5e-3", "1e-3", "1e-3", "1e-3"};
        for (int k = 2; k <= 6; k++) {
            var s = stages.get(k - 1);
            boolean practice = k <= 3;
            assertEquals(k, s.number());
            assertEquals(dir.resolve(practice ? "world-practice" : "world"), s.world(), "stage " + k);
            assertEquals(practice ? msts.data.world.WorldSpec.practice(7) : null, s.spec(), "stage " + k);
            assertEquals(stages.get(k - 2).dir().getFileName().toString(), arg(s.keyArgs(), "--init-key"), "stage " + k + " keyed by its start");
            assertEquals(stages.get(k - 2).dir().toString(), arg(s.runArgs(), "--init"), "stage " + k + " starts from the stage before");
            assertEquals(lr[k], arg(s.runArgs(), "--lr"), "stage " + k);
            assertEquals(String.valueOf(7 + k - 2), arg(s.runArgs(), "--seed"), "stage " + k);
            assertEquals(practice ? "1" : "0.5", arg(s.runArgs(), "--prompt-weight"), "stage " + k);
            assertEquals(s.keyArgs().subList(2, s.keyArgs().size()), s.runArgs().subList(2, s.runArgs().size()), "the key covers every run argument");
        }
        assertEquals(6, new java.util.HashSet<>(stages.stream().map(DemoCommand.Stage::dir).toList()).size(), "every stage has its own cache entry");
        assertEquals(stages.get(3).dir(), stages(man, "--lm-stages", "4", "--lm-practice-stages", "2").get(3).dir(),
                "a stage's key does not depend on the stages after it");
        var ex = assertThrows(CommandLine.ParameterException.class, () -> stages(man, "--lm-stages", "3", "--lm-practice-stages", "2"));
        assertTrue(ex.getMessage().contains("--lm-stages 4 or more"), ex.getMessage());
        assertEquals(1, stages(man, "--lm-stages", "1", "--lm-practice-stages", "5").size(), "one stage: from scratch on the demo world");
        assertRefusedBeforeWriting("--lm-stages 4 or more", "--lm-stages", "3");
    }

    /** {@code msts demo} with these options exits 2 with one line containing {@code message} and writes nothing. */
    void assertRefusedBeforeWriting(String message, String... options) {
        Path out = dir.resolve("refused");
        CliRun r = CliRun.of(concat(new String[]{"demo", "--out", out.toString(), "--model-cache", dir.resolve("c").toString()}, options));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertFalse(Files.exists(out), "refused before anything is written");
    }

    /**
     * Any world but the shipped one, with the default {@code --lm-base shipped}: the shipped model's own curriculum (seed
     * 0, default settings; its last stage is the shipped key), then one stage on this world warm-started from it, keyed
     * by the shipped key, with the documented tokens and peak lr and the demo's seed as its data order. The default world
     * keeps its curriculum (the shipped model is its last stage); {@code --lm-base scratch} gives this world's own
     * curriculum. Curriculum options with the shipped base are refused with one clear line before anything is written.
     */
    @Test
    void anotherWorldIsOneStageOnTopOfTheShippedModel() throws Exception {
        var man = DemoCommand.manifest(msts.data.world.WorldSpec.demo(7, 6, 3, 12));
        var stages = base(man, "--seed", "7");
        assertEquals(10, stages.size());
        var base = stages.get(8);
        var last = stages.get(9);
        assertTrue(ShippedModel.has(base.dir().getFileName().toString()), "stage 9 is the shipped model");
        var spec0 = msts.data.world.WorldSpec.demo(0, Integer.parseInt(msts.data.world.WorldSpec.DEMO_ENTITIES),
                Integer.parseInt(msts.data.world.WorldSpec.DEMO_EVAL_ENTITIES), Integer.parseInt(msts.data.world.WorldSpec.DEMO_PARAPHRASES));
        var man0 = DemoCommand.manifest(spec0);
        assertEquals(DemoCommand.defaultModel(man0, 0, dir), base.dir(), "the base is the default demo model of world seed 0");
        assertEquals(dir.resolve("world-base"), base.world(), "written there (only when it must be trained: --retrain)");
        assertEquals(spec0, base.spec());
        assertEquals(dir.resolve("world"), last.world());
        assertNull(last.spec(), "the demo world is written by step 1");
        assertEquals(base.dir().getFileName().toString(), arg(last.keyArgs(), "--init-key"));
        assertEquals(base.dir().toString(), arg(last.runArgs(), "--init"));
        assertEquals(DemoCommand.BASE_TOKENS, arg(last.runArgs(), "--tokens"));
        assertEquals(DemoCommand.BASE_LR, arg(last.runArgs(), "--lr"));
        assertEquals("7", arg(last.runArgs(), "--seed"));
        assertEquals("0", arg(last.runArgs(), "--prompt-weight"));
        assertEquals("10", arg(last.runArgs(), "--completion-weight"));
        assertEquals(last.keyArgs().subList(2, last.keyArgs().size()), last.runArgs().subList(2, last.runArgs().size()), "the key covers every run argument");
        assertNotEquals(last.dir(), base(man, "--seed", "7", "--lm-base-tokens", "1000000").get(9).dir(), "the stage's settings are in its key");
        assertEquals(base.dir(), base(man, "--seed", "3").get(8).dir(), "one base for every world");
        assertEquals(9, base(man0, "--seed", "0").size(), "the shipped world keeps its curriculum");
        assertTrue(ShippedModel.has(base(man0, "--seed", "0").get(8).dir().getFileName().toString()));
        var scratch = base(man, "--seed", "7", "--lm-base", "scratch");
        assertEquals(9, scratch.size());
        assertEquals(msts.data.world.WorldSpec.format(7), scratch.get(0).spec(), "scratch: this seed's own curriculum");
        var ex = assertThrows(CommandLine.ParameterException.class, () -> base(man, "--seed", "7", "--lm-hidden", "64"));
        assertTrue(ex.getMessage().contains("--lm-base scratch"), ex.getMessage());
        assertRefusedBeforeWriting("--lm-base scratch", "--lm-warm-tokens", "1000");
    }

    /**
     * The base path end to end at a tiny size: the shipped model is copied into the cache (not trained), one stage of a
     * few thousand tokens trains on a small world from it (its architecture, its tokenizer's rows matched by token), the
     * result is cached under a key whose text hashes to it and is found again; a stage world left by another spec is
     * written again.
     */
    @Test
    void theStageOnTheShippedModelTrainsFromItsCopy() throws Exception {
        Path world = dir.resolve("world");
        assertEquals(0, CliRun.of("world", "--out", world.toString(), "--seed", "7", "--entities", "6", "--eval-entities", "3", "--paraphrases", "12").code());
        StringWriter log = new StringWriter();
        DemoCommand d = new DemoCommand();
        CommandLine cl = new CommandLine(d);
        cl.setOut(new PrintWriter(log, true));
        cl.parseArgs("--seed", "7", "--lm-base-tokens", "4096", "--model-cache", dir.resolve("cache").toString());
        Path m = d.trainedModel(world);
        var stages = d.stages(new ObjectMapper().readTree(world.resolve("world.json").toFile()), world);
        assertEquals(stages.get(9).dir(), m);
        assertTrue(log.toString().contains("the model shipped with msts (cache key " + stages.get(8).dir().getFileName()), log.toString());
        assertTrue(log.toString().contains("model stage 10/10: one stage on the demo world from the shipped model"), log.toString());
        assertFalse(Files.exists(dir.resolve("world-base")), "the shipped base is copied, its worlds are not written");
        for (int k = 0; k < 8; k++) assertFalse(DemoCommand.isModel(stages.get(k).dir()), "stage " + (k + 1) + " is not needed");
        assertTrue(DemoCommand.isModel(m));
        JsonNode cfg = new ObjectMapper().readTree(m.resolve("config.json").toFile());
        assertEquals(128, cfg.path("hidden_size").asInt(), "the shipped model's architecture");
        assertEquals(m.getFileName().toString(), DemoCommand.sha256(Files.readString(m.resolve("demo_model_key.txt")).strip()).substring(0, 16));
        JsonNode sum = new ObjectMapper().readTree(m.resolve("train_summary.json").toFile());
        assertEquals(4096, sum.path("tokens_seen").asLong(), sum.toString());
        assertEquals(Double.parseDouble(DemoCommand.BASE_LR), sum.at("/train/lr").asDouble(), sum.toString());
        StringWriter log2 = new StringWriter();
        DemoCommand again = new DemoCommand();
        CommandLine cl2 = new CommandLine(again);
        cl2.setOut(new PrintWriter(log2, true));
        cl2.parseArgs("--seed", "7", "--lm-base-tokens", "4096", "--model-cache", dir.resolve("cache").toString());
        assertEquals(m, again.trainedModel(world));
        assertTrue(log2.toString().contains("cached"), log2.toString());
        assertFalse(log2.toString().contains("$ msts lm train"), "a cached model is not trained again");
        // a stage world on disk counts only when it is the world of the stage's spec
        var spec = msts.data.world.WorldSpec.demo(7, 6, 3, 12);
        Path other = dir.resolve("other");
        msts.data.world.WorldFiles.write(other, msts.data.world.WorldSpec.demo(8, 6, 3, 12), true);
        assertFalse(DemoCommand.writtenAs(other, spec));
        msts.data.world.WorldFiles.write(other, spec, true);
        assertTrue(DemoCommand.writtenAs(other, spec));
        assertFalse(DemoCommand.writtenAs(dir.resolve("none"), spec));
    }

    java.util.List<DemoCommand.Stage> base(com.fasterxml.jackson.databind.JsonNode man, String... args) {
        DemoCommand d = new DemoCommand();
        new CommandLine(d).parseArgs(concat(args, new String[]{"--model-cache", dir.toString()}));
        return d.stages(man, dir.resolve("world"));
    }

    java.util.List<DemoCommand.Stage> stages(com.fasterxml.jackson.databind.JsonNode man, String... args) {
        return base(man, concat(args, new String[]{"--seed", "7", "--lm-warm-prompt-weight", "0.5", "--lm-base", "scratch"}));
    }

    static String arg(java.util.List<String> args, String name) {
        int i = args.indexOf(name);
        return i < 0 ? null : args.get(i + 1);
    }

    static DemoCommand demo(Path cache) { return demo(cache, new StringWriter()); }

    static DemoCommand demo(Path cache, StringWriter log) {
        DemoCommand d = new DemoCommand();
        CommandLine cl = new CommandLine(d);
        cl.setOut(new PrintWriter(log, true));
        cl.parseArgs(concat(SMALL, new String[]{"--model-cache", cache.toString()}));
        return d;
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
