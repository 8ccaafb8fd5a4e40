package msts.cli;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import msts.model.gemma.TinyGemma2;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code msts demo}: the whole experiment on an embedded default — a tiny random Gemma-2-architecture model
 * (real Gemma tokenizer), the bundled synthetic corpora and question sets, harvest, a baseline and a
 * temporal SAE, every eval, the synthetic ground-truth benchmark, and the report. Each step is the same
 * {@code msts} subcommand a user runs on real weights (printed before it runs).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the whole experiment end to end on a tiny random Gemma-2 made on the spot and bundled data",
                "(1-4 minutes on 2 cores) and prints where the report is. Numbers from the tiny random model prove",
                "the pipeline, not the science; the synthetic ground-truth benchmark is a real comparison."})
public final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "msts-demo", paramLabel = "DIR", description = "working directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--layer", defaultValue = "2", description = "hook layer of the tiny model (default ${DEFAULT-VALUE})")
    int layer;

    @Option(names = "--harvest-tokens", defaultValue = "24000", description = "default ${DEFAULT-VALUE}")
    long harvestTokens;

    @Option(names = "--train-tokens", defaultValue = "600000", description = "per model SAE (default ${DEFAULT-VALUE})")
    long trainTokens;

    @Option(names = "--synthetic-tokens", defaultValue = "1000000", description = "per synthetic-benchmark SAE (default ${DEFAULT-VALUE})")
    long syntheticTokens;

    @Option(names = "--d-sae", defaultValue = "512", description = "latents of the model SAEs (default ${DEFAULT-VALUE})")
    int dSae;

    @Option(names = "--seed", defaultValue = "0", description = "default ${DEFAULT-VALUE}")
    long seed;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    static final String[] DATA = {"forget.jsonl", "retain.jsonl", "wmdp_bio.jsonl", "mmlu_high_school_geography.jsonl",
            "mmlu_human_aging.jsonl", "probing_topic.jsonl"};

    private long t0;

    @Override
    public Integer call() throws Exception {
        t0 = System.nanoTime();
        Files.createDirectories(out);
        Path data = Files.createDirectories(out.resolve("data"));
        for (String f : DATA)
            try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/" + f)) {
                if (in == null) throw new IllegalStateException("bundled demo file /demo/" + f + " missing from the jar");
                Files.copy(in, data.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        String d = data.toString(), o = out.toString();
        Path model = out.resolve("model");
        say("1/9 tiny Gemma-2 (vocab 256000, hidden 64, 4 layers, random weights) -> " + model);
        if (!Files.isRegularFile(model.resolve("config.json"))) TinyGemma2.write(model, TinyGemma2.Spec.demo(), seed);
        String m = model.toString(), L = String.valueOf(layer);

        say("2/9 harvest layer " + layer + " resid_post on the bundled corpora");
        run("harvest", "--model", m, "--layer", L, "--corpus", d + "/forget.jsonl", d + "/retain.jsonl", "--context", "64",
                "--tokens", String.valueOf(harvestTokens), "--dtype", "f32", "--out", o + "/store");

        say("3/9 train the baseline (ReLU) and the multi-scale temporal SAE on the store");
        // the same hyperparameters for both SAEs; L1 8 / lr 1e-3 (model) and L1 2 / lr 1e-3 (synthetic) were picked on
        // the demo data for a usable sparsity (L0 ~20, explained variance ~0.5 / ~0.75), not tuned per architecture
        String tok = String.valueOf(trainTokens), ds = String.valueOf(dSae);
        run("train", "--store", o + "/store", "--arch", "relu", "--d-sae", ds, "--tokens", tok, "--batch", "1024", "--l1", "8", "--lr", "1e-3",
                "--hook-layer", L, "--model-name", "tiny-gemma-2-random", "--seed", String.valueOf(seed), "--out", o + "/sae/baseline");
        run("train", "--store", o + "/store", "--arch", "temporal", "--act", "relu", "--dilations", "1,2,4", "--sep-weight", "0.1",
                "--d-sae", ds, "--tokens", tok, "--batch", "1024", "--l1", "8", "--lr", "1e-3", "--hook-layer", L, "--model-name", "tiny-gemma-2-random",
                "--seed", String.valueOf(seed), "--out", o + "/sae/temporal");

        say("4/9 synthetic ground-truth benchmark: planted features on for ~1, ~4, ~16 tokens, in superposition");
        // 192 features in 32 dimensions: hard enough that recovery is not saturated (~0.8-0.9)
        run("synthetic", "--out", o + "/synthetic", "--seqs", "512", "--context", "64", "--features-per-scale", "64",
                "--noise", "0.1", "--on-fraction", "0.03", "--seed", String.valueOf(seed));
        say("5/9 train the baseline and the temporal SAE on the synthetic sequences");
        run("train", "--activations", o + "/synthetic/activations.safetensors", "--arch", "relu", "--d-sae", "256", "--tokens", String.valueOf(syntheticTokens),
                "--batch", "1024", "--l1", "2", "--lr", "1e-3", "--model-name", "synthetic", "--seed", String.valueOf(seed), "--out", o + "/sae/baseline-synthetic");
        run("train", "--activations", o + "/synthetic/activations.safetensors", "--arch", "temporal", "--act", "relu",
                "--dilations", "1,2,4", "--sep-weight", "0.1", "--d-sae", "256", "--tokens", String.valueOf(syntheticTokens), "--batch", "1024",
                "--l1", "2", "--lr", "1e-3",
                "--model-name", "synthetic", "--seed", String.valueOf(seed), "--out", o + "/sae/temporal-synthetic");

        List<String> runs = new ArrayList<>();
        int step = 6;
        for (String sae : new String[]{"baseline", "temporal"}) {
            String s = o + "/sae/" + sae, r = o + "/runs/" + sae;
            say(step++ + "/9 evals of the " + sae + " SAE: core, unlearning, probing, disentangle");
            run("eval", "core", "--sae", s, "--model", m, "--corpus", d + "/retain.jsonl", d + "/forget.jsonl", "--context", "64",
                    "--rows", "12", "--out", r);
            run("eval", "unlearning", "--sae", s, "--model", m, "--forget", d + "/forget.jsonl", "--retain", d + "/retain.jsonl",
                    "--wmdp", d + "/wmdp_bio.jsonl", "--mmlu", d + "/mmlu_high_school_geography.jsonl", d + "/mmlu_human_aging.jsonl",
                    "--context", "64", "--rows", "48", "--no-all-permutations", "--batch", "8", "--out", r);
            run("eval", "probing", "--sae", s, "--model", m, "--data", d + "/probing_topic.jsonl", "--context", "48", "--out", r);
            run("eval", "disentangle", "--sae", s, "--activations", o + "/store", "--out", r);
            runs.add(r);
        }
        say("8/9 ground-truth benchmark evals");
        for (String sae : new String[]{"baseline-synthetic", "temporal-synthetic"}) {
            String r = o + "/runs/" + sae;
            run("eval", "disentangle", "--sae", o + "/sae/" + sae, "--activations", o + "/synthetic/activations.safetensors",
                    "--ground-truth", o + "/synthetic", "--out", r);
            runs.add(r);
        }
        say("9/9 report");
        List<String> rep = new ArrayList<>(List.of("report"));
        rep.addAll(runs);
        rep.addAll(List.of("--out", o + "/report", "--title", "msts demo: baseline vs multi-scale temporal SAE", "--note",
                "Columns 'baseline' and 'temporal' come from a tiny Gemma-2-architecture model with RANDOM weights and template-generated "
                        + "corpora and questions: they prove that the pipeline runs end to end, not the science (the same model stands in "
                        + "for gemma-2-2b and gemma-2-2b-it; unlearning keeps questions answered correctly in the original order only). "
                        + "Columns '*-synthetic' are the ground-truth benchmark (planted features with time scales 1, 4, 16 tokens in "
                        + "superposition), where the comparison does mean something."));
        run(rep.toArray(new String[0]));
        Path html = out.resolve("report").resolve("report.html").toAbsolutePath();
        spec.commandLine().getOut().printf(Locale.ROOT, "%nmsts demo done in %.1f min. Report: %s%n", (System.nanoTime() - t0) / 6e10, html);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private void say(String s) {
        spec.commandLine().getOut().printf(Locale.ROOT, "%n[%5.1fs] == %s%n", (System.nanoTime() - t0) / 1e9, s);
        spec.commandLine().getOut().flush();
    }

    private void run(String... args) {
        spec.commandLine().getOut().println("$ msts " + String.join(" ", args));
        spec.commandLine().getOut().flush();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Errors::handle);
        int code = cl.execute(args);
        if (code != 0) throw new IllegalStateException("demo step failed (exit " + code + "): msts " + args[0] + (args.length > 1 && !args[1].startsWith("-") ? " " + args[1] : ""));
    }
}
