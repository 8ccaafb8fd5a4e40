package msts.cli;

import msts.data.world.WorldSpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import msts.model.tokenizer.GemmaTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code msts demo}: the whole experiment on a model that knows something. A planted-knowledge world
 * ({@code msts world}: invented pathogens as the forget domain, invented countries and aging conditions as the
 * retain domains), a tiny Gemma-2 trained on its prose ({@code msts lm train}; trained once and cached under
 * the msts cache keyed by the world's bytes and the trainer settings), harvest, a baseline and a temporal SAE,
 * every eval on the world's MCQ sets and corpora, the synthetic ground-truth benchmark, and the report. Each
 * step is the same {@code msts} subcommand a user runs on real weights (printed before it runs).
 * docs/world.md, docs/demo-model.md.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the whole experiment end to end: a planted-knowledge world, a tiny Gemma-2 that knows it (cached",
                "after the first run), harvest, a baseline and a temporal SAE, every eval on the world's questions and",
                "corpora, the synthetic ground-truth benchmark, and the report; prints where the report is. Measured on a",
                "2-core machine: ≈ 3.5 min with the model msts ships (world seed 0); another world first trains one stage",
                "on top of that model (≈ 4.5 min); --lm-base scratch trains the nine-stage curriculum instead (≈ 38 min)."})
public final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "msts-demo", paramLabel = "DIR", description = "working directory")
    Path out;

    @Range(min = Long.MIN_VALUE) @Option(names = "--seed", defaultValue = "0", description = "seed of the world, the model and the SAEs")
    long seed;

    @Range(min = 2) @Option(names = "--world-entities", defaultValue = WorldSpec.DEMO_ENTITIES, description = "world entities per domain")
    int worldEntities;

    @Range(min = 1) @Option(names = "--world-eval-entities", defaultValue = WorldSpec.DEMO_EVAL_ENTITIES, description = "of those, asked in the MCQ eval sets")
    int worldEvalEntities;

    @Range(min = 1) @Option(names = "--world-paraphrases", defaultValue = WorldSpec.DEMO_PARAPHRASES, description = "training documents per entity")
    int worldParaphrases;

    @Range(min = 1) @Option(names = "--world-practice-variants", defaultValue = WorldSpec.DEMO_PRACTICE_VARIANTS, description = "closed-book MCQ practice documents per practice fact")
    int worldPracticeVariants;

    @Range(min = 0) @Option(names = "--world-open-book-variants", defaultValue = WorldSpec.DEMO_OPEN_BOOK_VARIANTS, description = "open-book MCQ practice documents per practice fact")
    int worldOpenBookVariants;

    @Range(min = 0) @Option(names = "--world-value-variants", defaultValue = WorldSpec.DEMO_VALUE_VARIANTS, description = "value-answer MCQ practice documents per practice fact")
    int worldValueVariants;

    @Range(min = 0) @Option(names = "--world-faq-variants", defaultValue = WorldSpec.DEMO_FAQ_VARIANTS, description = "FAQ prose documents per entity (each fact as a question, then its value)")
    int worldFaqVariants;

    @Range(min = 0) @Option(names = "--world-drill-variants", defaultValue = WorldSpec.DEMO_DRILL_VARIANTS, description = "MCQ format drills per relation (which choice is a named value)")
    int worldDrillVariants;

    @Range(min = 0) @Option(names = "--world-verify-variants", defaultValue = WorldSpec.DEMO_VERIFY_VARIANTS, description = "yes/no verification documents per fact of every entity (docs/demo-model.md, run Y)")
    int worldVerifyVariants;

    @Option(names = "--lm-prompt-weight", defaultValue = "1", description = "loss weight of MCQ practice prompts (stage 1 and the practice stages)")
    String lmPromptWeight;

    @Option(names = "--lm-completion-weight", defaultValue = "10", description = "loss weight of MCQ practice answers")
    String lmCompletionWeight;

    @Range(min = 8) @Option(names = "--lm-hidden", defaultValue = "128", description = "model hidden size")
    int lmHidden;

    @Range(min = 1) @Option(names = "--lm-layers", defaultValue = "4", description = "model layers")
    int lmLayers;

    @Range(min = 1) @Option(names = "--lm-tokens", defaultValue = "4000000", description = "model training tokens")
    long lmTokens;

    @Range(min = 1) @Option(names = "--lm-batch", defaultValue = "16", description = "model training rows per step")
    int lmBatch;

    @Option(names = "--lm-lr", defaultValue = "3e-3", description = "model peak learning rate")
    String lmLr;

    @Range(min = 1, max = MAX_STAGES) @Option(names = "--lm-stages", defaultValue = DEMO_STAGES, description = "model curriculum (docs/demo-model.md): "
            + "1 = from scratch on the demo world; N > 1 = a format model (from scratch on a small world: 40 entities per domain, "
            + "24/24/24 practice MCQs per fact), then --lm-practice-stages warm-started stages on the practice world (100 entities "
            + "per domain, 8/8/8 practice MCQs per fact), then the rest on the demo world; warm stages' peak lr 2e-3, 1.5e-3, then 1e-3")
    int lmStages;

    @Range(min = 0) @Option(names = "--lm-practice-stages", defaultValue = DEMO_PRACTICE_STAGES, description = "of the warm-started stages, how many train on the practice world before the demo world")
    int lmPracticeStages;

    @Option(names = "--lm-warm-prompt-weight", defaultValue = "0", description = "loss weight of MCQ practice prompts in the warm-started stages")
    String lmWarmPromptWeight;

    @Range(min = 1) @Option(names = "--lm-warm-tokens", defaultValue = "2000000", description = "training tokens of each warm-started stage")
    long lmWarmTokens;

    /** Where the model of a world starts when msts ships none for it (docs/demo-model.md, "One stage from the shipped model"). */
    enum LmBase { shipped, scratch }

    @Option(names = "--lm-base", defaultValue = "shipped", description = "where the model starts when msts ships none for this world: "
            + "shipped = one stage on this world, warm-started from the model msts ships (≈ 4.5 min on 2 cores; that model was trained "
            + "from random weights by the default curriculum on the default worlds); scratch = this world's own curriculum from random "
            + "weights (≈ 38 min), which the other model-curriculum options need")
    LmBase lmBase;

    @Range(min = 1) @Option(names = "--lm-base-tokens", defaultValue = BASE_TOKENS, description = "training tokens of the stage on top of the shipped model")
    long lmBaseTokens;

    @Option(names = "--lm-base-lr", defaultValue = BASE_LR, description = "peak learning rate of the stage on top of the shipped model")
    String lmBaseLr;

    @Option(names = "--retrain", description = "train the model instead of copying the one msts ships (the same bytes; nine stages, ≈ 38 min on "
            + "2 cores; with --lm-base shipped and another world, the shipped model's curriculum too); a model already in the cache is still used")
    boolean retrain;

    @Option(names = "--model-cache", paramLabel = "DIR", description = "where trained demo models are kept (default: the msts cache, $MSTS_CACHE or ~/.cache/msts, /demo-models)")
    Path modelCache;

    @Option(names = "--layer", defaultValue = "2", description = "hook layer")
    int layer;

    @Range(min = 1) @Option(names = "--harvest-tokens", defaultValue = "60000", description = "")
    long harvestTokens;

    @Range(min = 1) @Option(names = "--train-tokens", defaultValue = "600000", description = "per model SAE")
    long trainTokens;

    @Range(min = 1) @Option(names = "--synthetic-tokens", defaultValue = "1000000", description = "per synthetic-benchmark SAE")
    long syntheticTokens;

    @Range(min = 1) @Option(names = "--d-sae", defaultValue = "512", description = "latents of the model SAEs")
    int dSae;

    @Option(names = "--all-permutations", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "unlearning keeps questions answered correctly in all 24 choice orders (SAEBench; on by default)")
    boolean allPermutations;

    @Range(min = 1, max = 16) @Option(names = "--sae-seeds", defaultValue = "3",
            description = "SAE training seeds compared on unlearning: seed S trains the SAEs every eval reads; seeds S+1 .. S+N-1 train one "
                    + "more baseline/temporal pair each, evaluated on unlearning only (its result varies with the SAE's seed; docs/demo-model.md)")
    int saeSeeds;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    static final ObjectMapper JSON = new ObjectMapper();

    /** The forget drop the demo looks for, at retain accuracy ≥ 0.99 of the original (docs/demo-model.md). */
    static final double TARGET_DROP = 0.3;

    /** The longest curriculum {@code --lm-stages} takes, and the default (docs/demo-model.md). */
    static final int MAX_STAGES = 12;
    static final String DEMO_STAGES = "9", DEMO_PRACTICE_STAGES = "2";
    /** The stage on top of the shipped model (docs/demo-model.md, "One stage from the shipped model"). */
    static final String BASE_TOKENS = "2700000", BASE_LR = "3e-3";

    private long t0;
    /** The stages of the model {@link #trainedModel} returned last. */
    private List<Stage> modelStages;

    @Override
    public Integer call() throws Exception {
        checkCurriculum(); // before anything is written
        checkBase();
        t0 = System.nanoTime();
        Files.createDirectories(out);
        String o = out.toString(), w = out.resolve("world").toString(), S = String.valueOf(seed);

        say("1/12 planted-knowledge world (seed " + seed + ") -> " + w);
        run("world", "--out", w, "--seed", S, "--force", "--entities", String.valueOf(worldEntities),
                "--eval-entities", String.valueOf(worldEvalEntities), "--paraphrases", String.valueOf(worldParaphrases),
                "--practice-variants", String.valueOf(worldPracticeVariants), "--open-book-variants", String.valueOf(worldOpenBookVariants),
                "--value-variants", String.valueOf(worldValueVariants), "--faq-variants", String.valueOf(worldFaqVariants),
                "--drill-variants", String.valueOf(worldDrillVariants), "--verify-variants", String.valueOf(worldVerifyVariants));

        Path model = trainedModel(Path.of(w));
        // the stage on top of the shipped model follows its curriculum: more stages than this world's own curriculum
        boolean onShippedBase = modelStages.size() > lmStages;
        String m = model.toString(), L = String.valueOf(layer), name = "world-gemma2-h" + lmHidden + "-l" + lmLayers;

        say("3/12 harvest layer " + layer + " resid_post on the world's training text");
        run("harvest", "--model", m, "--layer", L, "--corpus", w + "/train.jsonl", "--context", "64",
                "--tokens", String.valueOf(harvestTokens), "--dtype", "f32", "--out", o + "/store");

        say("4/12 train the baseline (ReLU) and the multi-scale temporal SAE on the store");
        trainModelSaes(o + "/store", L, name, S, o + "/sae");

        say("5/12 feature dashboards of both SAEs (top contexts, histograms, output tokens) -> " + out.resolve("features"));
        for (String sae : new String[]{"baseline", "temporal"})
            run("features", "--sae", o + "/sae/" + sae, "--store", o + "/store", "--model", m, "--out", o + "/features/" + sae, "--force");

        say("6/12 synthetic ground-truth benchmark: planted features on for ~1, ~4, ~16 tokens, in superposition");
        // 192 features in 32 dimensions: hard enough that recovery is not saturated (~0.8-0.9)
        run("synthetic", "--out", o + "/synthetic", "--seqs", "512", "--context", "64", "--features-per-scale", "64",
                "--noise", "0.1", "--on-fraction", "0.03", "--seed", S, "--force");
        say("7/12 train the baseline and the temporal SAE on the synthetic sequences");
        run("train", "--activations", o + "/synthetic/activations.safetensors", "--arch", "relu", "--d-sae", "256", "--tokens", String.valueOf(syntheticTokens),
                "--batch", "1024", "--l1", "2", "--lr", "1e-3", "--model-name", "synthetic", "--seed", S, "--out", o + "/sae/baseline-synthetic");
        run("train", "--activations", o + "/synthetic/activations.safetensors", "--arch", "temporal", "--act", "relu",
                "--dilations", "1,2,4", "--sep-weight", "0.1", "--d-sae", "256", "--tokens", String.valueOf(syntheticTokens), "--batch", "1024",
                "--l1", "2", "--lr", "1e-3", "--model-name", "synthetic", "--seed", S, "--out", o + "/sae/temporal-synthetic");

        say("8/12 the unmodified model's MCQ accuracy (the unlearning eval's prompt and scoring: original order, mean over the 24 orders, right in all 24) and its fact recall in held-out paraphrases");
        String[] mcqFiles = {w + "/wmdp_bio.jsonl", w + "/mmlu_high_school_geography.jsonl", w + "/mmlu_human_aging.jsonl"};
        List<String> mcqArgs = new ArrayList<>(List.of("eval", "mcq", "--model", m, "--questions"));
        mcqArgs.addAll(List.of(mcqFiles));
        mcqArgs.addAll(List.of("--batch", "16", "--out", o + "/mcq"));
        run(mcqArgs.toArray(new String[0]));
        JsonNode mcq = JSON.readTree(out.resolve("mcq/mcq_accuracy.json").toFile());
        // does it know the facts in phrasings it never trained on? (the held-out-template corpora; docs/evals.md)
        run("eval", "recall", "--model", m, "--world", w, "--batch", "16", "--out", o + "/mcq");
        JsonNode recall = JSON.readTree(out.resolve("mcq/fact_recall.json").toFile());
        // SAEBench keeps questions answered correctly in all 24 orders; if the model gets none of a set right that
        // way the eval is undefined, so the demo falls back to the original order and says so
        boolean perms = allPermutations;
        for (var e : mcq.properties()) perms &= e.getValue().path("accuracy_all_24_orders").asDouble(0) > 0;
        String filterNote = perms ? "" : allPermutations
                ? "The model answers no question of some set correctly in all 24 choice orders, so unlearning keeps questions answered correctly in the original order. "
                : "Unlearning keeps questions answered correctly in the original order (--no-all-permutations). ";

        List<String> runs = new ArrayList<>();
        int step = 9;
        for (String sae : new String[]{"baseline", "temporal"}) {
            String s = o + "/sae/" + sae, r = o + "/runs/" + sae;
            say(step++ + "/12 evals of the " + sae + " SAE: core, unlearning, probing, disentangle");
            // SAEBench's core eval reads the SAE's own dataset: the world's training text after the harvested part
            run("eval", "core", "--sae", s, "--model", m, "--held-out-from", o + "/store", "--context", "64",
                    "--rows", "24", "--out", r);
            unlearning(s, m, w, perms, r);
            run("eval", "probing", "--sae", s, "--model", m, "--data", w + "/probing_topic.jsonl", "--context", "48", "--out", r);
            run("eval", "disentangle", "--sae", s, "--activations", o + "/store", "--out", r);
            runs.add(r);
        }
        // unlearning varies with the SAE's training seed as much as with its architecture (docs/demo-model.md): more seeds
        Map<String, List<String>> seedRuns = new LinkedHashMap<>();
        for (String sae : new String[]{"baseline", "temporal"}) seedRuns.put(sae, new ArrayList<>(List.of(o + "/runs/" + sae)));
        for (int k = 1; k < saeSeeds; k++) {
            String sd = String.valueOf(seed + k), base = o + "/seeds/seed-" + sd;
            say("10/12 unlearning of a baseline and a temporal SAE trained with seed " + sd + " (" + k + " of " + (saeSeeds - 1) + " more seeds)");
            trainModelSaes(o + "/store", L, name, sd, base + "/sae");
            for (String sae : new String[]{"baseline", "temporal"}) {
                unlearning(base + "/sae/" + sae, m, w, perms, base + "/runs/" + sae);
                seedRuns.get(sae).add(base + "/runs/" + sae);
            }
        }
        say("11/12 ground-truth benchmark evals");
        for (String sae : new String[]{"baseline-synthetic", "temporal-synthetic"}) {
            String r = o + "/runs/" + sae;
            run("eval", "disentangle", "--sae", o + "/sae/" + sae, "--activations", o + "/synthetic/activations.safetensors",
                    "--ground-truth", o + "/synthetic", "--out", r);
            runs.add(r);
        }

        say("12/12 report");
        Map<String, Object> summary = summary(model, seedRuns, seed, mcq, filterNote);
        Map<String, Object> rec = new LinkedHashMap<>();
        for (var c : recall.path("corpora").properties()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("value_after_top1_among_relation_values", c.getValue().at("/value_after/top1_among_relation_values").asDouble(Double.NaN));
            r.put("value_after_predictions", c.getValue().at("/value_after/predictions").asLong());
            rec.put(c.getKey(), r);
        }
        rec.put("packed_held_out_loss", recall.at("/packed_held_out_loss/loss").asDouble());
        rec.put("file", o + "/mcq/fact_recall.json");
        summary.put("fact_recall_held_out_paraphrases", rec);
        Files.writeString(out.resolve("demo_summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary) + "\n");
        String verdict = (String) summary.get("verdict");
        spec.commandLine().getOut().println(verdict);
        List<String> rep = new ArrayList<>(List.of("report"));
        rep.addAll(runs);
        rep.addAll(List.of("--force", "--out", o + "/report", "--title", "msts demo: baseline vs multi-scale temporal SAE on a model trained on planted facts",
                "--note", "Columns 'baseline' and 'temporal' come from " + name + ", a tiny Gemma-2 " + (onShippedBase
                        ? "trained in one stage on a planted-knowledge world, warm-started from the model msts ships (trained from scratch in "
                        + DEMO_STAGES + " stages, the last ones on the world of seed 0; "
                        : "trained from scratch on a planted-knowledge world (" + (lmStages > 1 ? "in " + lmStages + " stages: the MCQ format first on a smaller world of the same kind, "
                        + (lmPracticeStages > 0 ? lmPracticeStages + " on a practice world with more MCQ practice, " : "") + "then this world; " : ""))
                        + "msts world, seed " + seed + "; docs/world.md, docs/demo-model.md): invented pathogens are the forget domain "
                        + "(wmdp_bio), invented countries and aging conditions the retain domains (mmlu_*); the MCQs ask about entities whose "
                        + "facts the model saw only as prose" + (worldVerifyVariants > 0 ? " and as yes/no checks (no choices or letters)" : "") + ". " + verdict + " Columns '*-synthetic' are the ground-truth benchmark (planted "
                        + "features with time scales 1, 4, 16 tokens in superposition)."));
        run(rep.toArray(new String[0]));
        Path html = out.resolve("report").resolve("report.html").toAbsolutePath();
        spec.commandLine().getOut().printf(Locale.ROOT, "%nmsts demo done in %.1f min. Report: %s%nFeature dashboards: %s%n",
                (System.nanoTime() - t0) / 6e10, html, out.resolve("features").resolve("temporal").resolve("index.html").toAbsolutePath());
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * One training stage of the demo model: its world (and the spec to write it from when it is not on disk as that spec
     * renders it; null for the demo world, which step 1 writes), the arguments its cache key covers and those it runs
     * with, where it is cached, and what it does in words.
     */
    record Stage(int number, Path world, WorldSpec spec, List<String> keyArgs, List<String> runArgs, Path dir, String text) {}

    /**
     * The stages of the demo model for the demo world with this world.json ({@code demoWorld} where it is on disk). With
     * {@code --lm-base scratch}, or when msts ships this world's model: the {@link #curriculum}. Otherwise (the default
     * for any world but the shipped one): the curriculum of the shipped model (seed 0, default settings; its stages are
     * copied from msts, not trained, unless --retrain), then one stage on the demo world warm-started from it.
     */
    List<Stage> stages(JsonNode demoManifest, Path demoWorld) {
        checkCurriculum();
        checkBase();
        List<Stage> own = curriculum(demoManifest, demoWorld, null);
        if (lmBase == LmBase.scratch || ShippedModel.has(own.get(own.size() - 1).dir().getFileName().toString())) return own;
        DemoCommand d0 = defaults(0, modelCache);
        WorldSpec baseSpec = WorldSpec.demo(0, Integer.parseInt(WorldSpec.DEMO_ENTITIES), Integer.parseInt(WorldSpec.DEMO_EVAL_ENTITIES),
                Integer.parseInt(WorldSpec.DEMO_PARAPHRASES));
        List<Stage> out = new ArrayList<>(d0.curriculum(manifest(baseSpec), sibling(demoWorld, "-base"), baseSpec));
        Path base = out.get(out.size() - 1).dir();
        List<String> tail = List.of("--context", "128", "--tokens", String.valueOf(lmBaseTokens), "--batch", String.valueOf(lmBatch),
                "--lr", lmBaseLr, "--warmup", "20", "--seed", String.valueOf(seed),
                "--prompt-weight", lmWarmPromptWeight, "--completion-weight", lmCompletionWeight);
        out.add(warmStage(out.size() + 1, demoWorld, null, base, tail, demoManifest,
                "one stage on the demo world from the shipped model (" + lmBaseTokens + " tokens, peak lr " + lmBaseLr + ")"));
        return out;
    }

    /**
     * The curriculum from random weights for the demo world with this world.json ({@code demoSpec}: its spec when a stage
     * must write it, null when step 1 does; the format and practice worlds are written next to it when a stage needs
     * them). Stage 1 trains from scratch (on the format world when there are later stages); each later stage
     * warm-starts from the one before ({@code msts lm train --init}): the first {@code --lm-practice-stages} on the
     * practice world with the MCQ prompt weight of stage 1, the others on the demo world with {@code
     * --lm-warm-prompt-weight}. A stage's key covers its world's training text and tokenizer, its arguments and (through
     * "--init-key") the key of the stage it starts from, not where the cache is.
     */
    List<Stage> curriculum(JsonNode demoManifest, Path demoWorld, WorldSpec demoSpec) {
        List<Stage> out = new ArrayList<>();
        Path formatWorld = sibling(demoWorld, "-format"), practiceWorld = sibling(demoWorld, "-practice");
        JsonNode first = lmStages == 1 ? demoManifest : manifest(WorldSpec.format(seed));
        out.add(new Stage(1, lmStages == 1 ? demoWorld : formatWorld, lmStages == 1 ? demoSpec : WorldSpec.format(seed), lmArgs(), lmArgs(),
                dirFor(first, lmArgs()), lmStages == 1 ? "train a tiny Gemma-2 on the world"
                : "learn the MCQ format on the format world (" + worldText(WorldSpec.format(seed)) + ")"));
        JsonNode practiceManifest = lmStages > 1 && lmPracticeStages > 0 ? manifest(WorldSpec.practice(seed)) : null;
        for (int k = 2; k <= lmStages; k++) {
            boolean practice = k - 1 <= lmPracticeStages;
            List<String> tail = List.of("--context", "128", "--tokens", String.valueOf(lmWarmTokens), "--batch", String.valueOf(lmBatch),
                    "--lr", warmLr(k), "--warmup", "20", "--seed", String.valueOf(seed + k - 2),
                    "--prompt-weight", practice ? lmPromptWeight : lmWarmPromptWeight, "--completion-weight", lmCompletionWeight);
            out.add(practice
                    ? warmStage(k, practiceWorld, WorldSpec.practice(seed), out.get(out.size() - 1).dir(), tail, practiceManifest,
                    "warm start on the practice world (" + worldText(WorldSpec.practice(seed)) + "; " + lmWarmTokens + " tokens)")
                    : warmStage(k, demoWorld, demoSpec, out.get(out.size() - 1).dir(), tail, demoManifest,
                    "warm start on the demo world (" + lmWarmTokens + " tokens)"));
        }
        return out;
    }

    /** A stage warm-started from the model in {@code prev}: keyed by prev's key, run with {@code --init prev}. */
    Stage warmStage(int number, Path world, WorldSpec spec, Path prev, List<String> tail, JsonNode manifest, String text) {
        List<String> key = new ArrayList<>(List.of("--init-key", prev.getFileName().toString()));
        key.addAll(tail);
        List<String> run = new ArrayList<>(List.of("--init", prev.toString()));
        run.addAll(tail);
        return new Stage(number, world, spec, key, run, dirFor(manifest, key), text);
    }

    /**
     * The trainer settings of the curriculum from scratch: with {@code --lm-base shipped} they must be the defaults (the
     * shipped model was trained with those), else one clear error.
     */
    List<String> curriculumArgs() {
        List<String> a = new ArrayList<>(lmArgs());
        a.addAll(List.of(String.valueOf(lmStages), String.valueOf(lmPracticeStages), String.valueOf(lmWarmTokens), lmWarmPromptWeight));
        return a;
    }

    void checkBase() {
        if (lmBase == LmBase.shipped && !curriculumArgs().equals(defaults(seed, null).curriculumArgs()))
            throw new CommandLine.ParameterException(spec == null ? new CommandLine(this) : spec.commandLine(),
                    "the --lm-* options given describe a model trained from scratch, but --lm-base is shipped (the default: one stage on top of "
                            + "the model msts ships, trained with the default settings): add --lm-base scratch, or leave those options at their defaults");
    }

    /** Refuses a curriculum whose stages end before the demo world (the model would not know its facts). */
    void checkCurriculum() {
        if (lmStages > 1 && lmStages < lmPracticeStages + 2)
            throw new CommandLine.ParameterException(spec == null ? new CommandLine(this) : spec.commandLine(), "--lm-stages " + lmStages
                    + " leaves no stage on the demo world after the format stage and " + lmPracticeStages + " practice stage(s): give --lm-stages "
                    + (lmPracticeStages + 2) + " or more, or fewer --lm-practice-stages");
    }

    static Path sibling(Path world, String suffix) {
        return world == null ? null : world.resolveSibling(world.getFileName() + suffix);
    }

    /** Peak learning rate of warm-started stage {@code k} (2, 3, …): 2e-3, 1.5e-3, then 1e-3 (docs/demo-model.md). */
    static String warmLr(int k) {
        return k == 2 ? "2e-3" : k == 3 ? "1.5e-3" : "1e-3";
    }

    /** A stage world's recipe in words. */
    static String worldText(WorldSpec f) {
        return f.entitiesPerDomain() + " entities per domain, " + f.practiceVariants() + "/" + f.openBookVariants() + "/" + f.valueVariants()
                + " practice MCQs per fact";
    }

    /** world.json of the world of this spec (rendered in memory, not written). */
    static JsonNode manifest(WorldSpec w) {
        try {
            return JSON.readTree(msts.data.world.WorldFiles.render(w).get(msts.data.world.WorldFiles.MANIFEST));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The trained model for this world and these trainer settings: every stage from the cache when there, else
     * trained with {@code msts lm train} into a work directory next to it (resumed if an earlier run was
     * interrupted) and moved into place; stages before the last cached one are not needed and not trained.
     */
    Path trainedModel(Path world) throws IOException {
        JsonNode man = JSON.readTree(world.resolve("world.json").toFile());
        List<Stage> stages = modelStages = stages(man, world);
        Stage last = stages.get(stages.size() - 1);
        int from = 0;
        for (int i = stages.size() - 1; i >= 0; i--)
            if (isModel(stages.get(i).dir())) {
                from = i + 1;
                break;
            }
        if (from == stages.size()) {
            say("2/12 tiny Gemma-2 trained on the world: cached " + last.dir());
            return last.dir();
        }
        Path cache = cacheDir();
        Files.createDirectories(cache);
        if (!retrain)
            for (int i = stages.size() - 1; i >= from; i--)
                if (ShippedModel.install(stages.get(i).dir())) {
                    say("2/12 tiny Gemma-2" + (i == stages.size() - 1 ? " trained on the world" : ", the base of the last stage")
                            + ": the model shipped with msts (cache key " + stages.get(i).dir().getFileName() + "; --retrain trains its "
                            + (i + 1) + "-stage curriculum instead) -> " + stages.get(i).dir());
                    from = i + 1;
                    break;
                }
        for (int i = from; i < stages.size(); i++) {
            Stage st = stages.get(i);
            say("2/12 " + (stages.size() == 1 ? "" : "model stage " + st.number() + "/" + stages.size() + ": ") + st.text()
                    + " (once; cached as " + st.dir() + ")");
            if (st.spec() != null && !writtenAs(st.world(), st.spec())) {
                say("   writing its world -> " + st.world());
                msts.data.world.WorldFiles.write(st.world(), st.spec(), true); // the spec its key's manifest() is rendered from
            }
            Path work = cache.resolve(st.dir().getFileName() + ".partial");
            List<String> a = new ArrayList<>(List.of("lm", "train", "--world", st.world().toString(), "--out", work.toString()));
            a.addAll(st.runArgs());
            a.addAll(List.of("--checkpoint-every", "200"));
            if (Files.isRegularFile(work.resolve("trainer_state.json"))) a.add("--resume");
            run(a.toArray(new String[0]));
            JsonNode m = JSON.readTree(st.world().resolve("world.json").toFile());
            Files.writeString(work.resolve("demo_model_key.txt"), keyText(m, st.keyArgs()) + "\n", StandardCharsets.UTF_8);
            Files.move(work, st.dir(), StandardCopyOption.ATOMIC_MOVE);
        }
        return last.dir();
    }

    /**
     * Whether {@code world} holds the world of {@code spec} (its world.json, which hashes every file, is the one the spec
     * renders): a world left there by another seed or setting is written again, so a stage never trains on one world
     * under another world's key.
     */
    static boolean writtenAs(Path world, WorldSpec spec) throws IOException {
        Path f = world.resolve(msts.data.world.WorldFiles.MANIFEST);
        return Files.isRegularFile(f) && JSON.readTree(f.toFile()).equals(manifest(spec));
    }

    /** The {@code msts lm train} arguments of the demo model (besides --world and --out). */
    List<String> lmArgs() {
        return List.of("--hidden", String.valueOf(lmHidden), "--layers", String.valueOf(lmLayers), "--heads", "4", "--kv-heads", "2",
                "--intermediate", String.valueOf(4 * lmHidden), "--context", "128", "--sliding-window", "32", "--tokens", String.valueOf(lmTokens),
                "--batch", String.valueOf(lmBatch), "--lr", lmLr, "--warmup", "50", "--seed", String.valueOf(seed),
                "--prompt-weight", lmPromptWeight, "--completion-weight", lmCompletionWeight);
    }

    /** The cache key's text: SHA-256 of the world's training text and tokenizer, and the trainer arguments. */
    static String keyText(JsonNode worldManifest, List<String> args) {
        return worldManifest.at("/sha256/train.jsonl").asText() + "\n" + worldManifest.at("/sha256/tokenizer.json").asText() + "\n" + String.join(" ", args);
    }

    Path cacheDir() {
        return modelCache != null ? modelCache : GemmaTokenizer.cacheDir().resolve("demo-models");
    }

    Path dirFor(JsonNode worldManifest, List<String> keyArgs) {
        return cacheDir().resolve(sha256(keyText(worldManifest, keyArgs)).substring(0, 16));
    }

    /** Where the (last stage's) model for the demo world with this world.json and these settings is (or would be) cached. */
    Path modelDir(JsonNode worldManifest) {
        List<Stage> s = stages(worldManifest, null);
        return s.get(s.size() - 1).dir();
    }

    static boolean isModel(Path dir) {
        return Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"));
    }

    /**
     * The cached demo model (default settings, seed {@code seed}) of the world whose world.json is {@code worldManifest},
     * or where it would be when not trained yet ({@link #isModel} says which). {@code cache}: null for the default cache.
     */
    static Path defaultModel(JsonNode worldManifest, long seed, Path cache) {
        return defaults(seed, cache).modelDir(worldManifest);
    }

    /** {@code msts demo} with every option at its default but the seed and the model cache (null: the default cache). */
    static DemoCommand defaults(long seed, Path cache) {
        DemoCommand d = new DemoCommand();
        List<String> a = new ArrayList<>(List.of("--seed", String.valueOf(seed)));
        if (cache != null) a.addAll(List.of("--model-cache", cache.toString()));
        new CommandLine(d).parseArgs(a.toArray(new String[0]));
        return d;
    }

    /**
     * What the demo shows: the unmodified model's MCQ accuracy and, per SAE architecture, the best unlearning setting
     * of the SAE trained with the demo's seed (the one every eval reads) and the best of each further SAE seed
     * ({@code runs}: architecture → unlearning run directories, seed {@code seed0} first, then seed0+1, …).
     */
    Map<String, Object> summary(Path model, Map<String, List<String>> runs, long seed0, JsonNode mcq, String filterNote) throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", model.toString());
        s.put("target", "forget accuracy drop >= " + TARGET_DROP + " with pooled retain accuracy >= 0.99 of the original");
        List<String> parts = new ArrayList<>(), metBy = new ArrayList<>(), l0s = new ArrayList<>();
        JsonNode first = null;
        for (var arch : runs.entrySet()) {
            String sae = arch.getKey();
            List<Map<String, Object>> perSeed = new ArrayList<>();
            List<String> drops = new ArrayList<>();
            int metSeeds = 0;
            for (int k = 0; k < arch.getValue().size(); k++) {
                JsonNode u = JSON.readTree(Path.of(arch.getValue().get(k), "unlearning_eval_results.json").toFile());
                if (first == null) first = u;
                JsonNode best = null;
                for (JsonNode d : u.path("eval_result_details"))
                    if (d.path("mmlu_accuracy").asDouble() >= 0.99 && (best == null || d.path("wmdp_bio_accuracy").asDouble() < best.path("wmdp_bio_accuracy").asDouble()))
                        best = d;
                double score = u.at("/eval_result_metrics/unlearning/unlearning_score").asDouble();
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("seed", seed0 + k);
                e.put("run", arch.getValue().get(k));
                e.put("unlearning_score", score);
                Path core = Path.of(arch.getValue().get(k), "core_eval_results.json");
                if (Files.isRegularFile(core)) {
                    JsonNode l0 = JSON.readTree(core.toFile()).at("/eval_result_metrics/sparsity/l0");
                    if (l0.isNumber()) {
                        e.put("l0", l0.asDouble());
                        if (k == 0) l0s.add(String.format(Locale.ROOT, "%.2f (%s)", l0.asDouble(), sae));
                    }
                }
                e.put("best_setting", best);
                e.put("target_met", score >= TARGET_DROP);
                perSeed.add(e);
                if (score >= TARGET_DROP) {
                    metSeeds++;
                    metBy.add(sae + " seed " + (seed0 + k));
                }
                drops.add(best == null ? "none" : String.format(Locale.ROOT, "%.2f", score));
                if (k == 0) parts.add(best == null
                        ? String.format(Locale.ROOT, "%s SAE (seed %d): no setting keeps retain accuracy >= 0.99", sae, seed0)
                        : String.format(Locale.ROOT, "%s SAE (seed %d): forget accuracy %.2f -> %.2f (drop %.2f) with retain %.3f (θ=%s, n=%s, ×%s)", sae, seed0, 1.0,
                        best.path("wmdp_bio_accuracy").asDouble(), score, best.path("mmlu_accuracy").asDouble(),
                        best.path("retain_threshold").asText(), best.path("n_features").asText(), best.path("multiplier").asText()));
            }
            Map<String, Object> e = new LinkedHashMap<>(perSeed.get(0));
            e.put("seeds", perSeed);
            e.put("seeds_target_met", metSeeds);
            s.put(sae, e);
            if (perSeed.size() > 1)
                parts.add(String.format(Locale.ROOT, "%s SAE over seeds %d..%d: best drop at retain >= 0.99 %s (target met for %d of %d)", sae, seed0,
                        seed0 + perSeed.size() - 1, String.join(" / ", drops), metSeeds, perSeed.size()));
        }
        boolean met = !metBy.isEmpty();
        s.put("unmodified_accuracy", mcq);
        s.put("questions", first.at("/eval_result_unstructured/questions"));
        List<String> accParts = new ArrayList<>();
        double forgetOriginal = Double.NaN;
        for (var e : mcq.properties()) {
            JsonNode a = e.getValue();
            if (e.getKey().startsWith("wmdp")) forgetOriginal = a.path("accuracy_original_order").asDouble();
            accParts.add(String.format(Locale.ROOT, "%s %.3f (original order) / %s (mean over the 24 orders) / %s (right in all 24 orders)", e.getKey(),
                    a.path("accuracy_original_order").asDouble(),
                    a.has("accuracy_mean_24_orders") ? String.format(Locale.ROOT, "%.3f", a.get("accuracy_mean_24_orders").asDouble()) : "–",
                    a.has("accuracy_all_24_orders") ? String.format(Locale.ROOT, "%.3f", a.get("accuracy_all_24_orders").asDouble()) : "–"));
        }
        String accText = "Unmodified model MCQ accuracy (the unlearning eval's code; chance 0.25): " + String.join(", ", accParts) + ". "
                + (forgetOriginal <= 0.35 ? "The model is at or near chance on the forget questions, so the unlearning numbers below do not measure "
                + "the removal of knowledge. " : "") + filterNote;
        String verdict = accText + "Unlearning (accuracies over the questions the unmodified model gets right): " + String.join("; ", parts) + ". "
                + (met ? "TARGET MET: at least one SAE (" + String.join(", ", metBy) + ") removes >= " + TARGET_DROP + " of forget accuracy while keeping >= 0.99 of retain accuracy."
                : "TARGET NOT MET: no SAE setting drops forget accuracy by >= " + TARGET_DROP + " while keeping >= 0.99 of retain accuracy.")
                + (l0s.size() > 1 ? " The SAEs share one L1 coefficient, not one sparsity: L0 " + String.join(" vs ", l0s) + " (seed " + seed0
                + "); `msts experiment --plan sparse` compares them at matched L0 over 10 seeds (docs/experiment.md)." : "");
        s.put("target_met", met);
        s.put("verdict", verdict);
        return s;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void say(String s) {
        spec.commandLine().getOut().printf(Locale.ROOT, "%n[%5.1fs] == %s%n", (System.nanoTime() - t0) / 1e9, s);
        spec.commandLine().getOut().flush();
    }

    /** The baseline (ReLU) and the temporal SAE on the store, into DIR/baseline and DIR/temporal: the same hyperparameters for both (not tuned per architecture). */
    private void trainModelSaes(String store, String layer, String modelName, String seed, String dir) {
        String tok = String.valueOf(trainTokens), ds = String.valueOf(dSae);
        run("train", "--store", store, "--arch", "relu", "--d-sae", ds, "--tokens", tok, "--batch", "1024", "--l1", "8", "--lr", "1e-3",
                "--hook-layer", layer, "--model-name", modelName, "--seed", seed, "--out", dir + "/baseline");
        run("train", "--store", store, "--arch", "temporal", "--act", "relu", "--dilations", "1,2,4", "--sep-weight", "0.1",
                "--d-sae", ds, "--tokens", tok, "--batch", "1024", "--l1", "8", "--lr", "1e-3", "--hook-layer", layer, "--model-name", modelName,
                "--seed", seed, "--out", dir + "/temporal");
    }

    /** SAEBench's unlearning eval of one SAE on the world's corpora (the general retain corpus) and MCQ sets. */
    private void unlearning(String sae, String model, String world, boolean allOrders, String out) {
        run("eval", "unlearning", "--sae", sae, "--model", model, "--forget", world + "/forget.jsonl", "--retain", world + "/retain_general.jsonl",
                "--wmdp", world + "/wmdp_bio.jsonl", "--mmlu", world + "/mmlu_high_school_geography.jsonl", world + "/mmlu_human_aging.jsonl",
                "--context", "64", "--rows", "128", allOrders ? "--all-permutations" : "--no-all-permutations", "--batch", "16", "--out", out);
    }

    private void run(String... args) {
        spec.commandLine().getOut().println("$ msts " + String.join(" ", args));
        spec.commandLine().getOut().flush();
        int code = Main.run(args); // the same error handling and option checks as a command typed by hand
        if (code != 0) throw new IllegalStateException("demo step failed (exit " + code + "): msts " + args[0] + (args.length > 1 && !args[1].startsWith("-") ? " " + args[1] : ""));
    }
}
