package msts.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import msts.engine.backend.Backend;
import msts.evals.CoreEval;
import msts.evals.Disentanglement;
import msts.evals.CoreMetrics;
import msts.evals.DisentangleMetrics;
import msts.evals.EvalOutput;
import msts.evals.EvalResult;
import msts.evals.ProbingMetrics;
import msts.evals.UnlearningMetrics;
import msts.evals.GemmaModel;
import msts.evals.SparseProbing;
import msts.evals.SyntheticFiles;
import msts.evals.Unlearning;
import msts.sae.Sae;
import msts.sae.SaeIO;
import msts.data.ActivationSource;
import msts.data.ActivationSources;
import msts.data.Corpus;
import msts.data.StoreManifest;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code msts eval core|unlearning|probing|disentangle}: SAEBench-schema JSON results into --out. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluates a trained SAE; each eval writes <eval_type_id>_eval_results.json (SAEBench schema) into --out.",
        subcommands = {EvalCommand.Core.class, EvalCommand.UnlearningCmd.class, EvalCommand.Probing.class, EvalCommand.Disentangle.class,
                EvalCommand.Mcq.class, EvalCommand.Recall.class})
public final class EvalCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** --sae, --out, --backend/--device, --verbose: what every eval has. */
    static final class SaeOptions {
        @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAE directory (SAELens layout: cfg.json + sae_weights.safetensors)")
        Path sae;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory for the results JSON")
        Path out;

        @Mixin
        BackendOption backend; // --backend cpu|reference|tornado, --device B:D: the model AND the SAE run on it

        @Mixin
        RunOptions run; // --threads N

        @Mixin
        VerboseOption verbose;

        /** The SAE on the backend's ops. */
        Sae load(Backend b) throws Exception {
            if (!Files.isDirectory(sae)) throw new IllegalArgumentException(sae + ": SAE directory not found");
            return SaeIO.load(sae, b.ops());
        }

        String id() {
            return sae.toAbsolutePath().normalize().getFileName().toString();
        }

        void done(CommandLine.Model.CommandSpec spec, EvalOutput o, String summary) {
            Path f = o.write(out);
            spec.commandLine().getOut().println("wrote " + f + (summary.isEmpty() ? "" : ": " + summary));
            spec.commandLine().getOut().flush();
        }
    }

    /** --model, --tokenizer, --layer, --batch. */
    static final class ModelOptions {
        @Mixin
        ModelOption model; // --model DIR, --tokenizer FILE

        @Option(names = "--layer", paramLabel = "L", description = "hook layer (default: the SAE's hook_layer)")
        Integer layer;

        @Range(min = 1) @Option(names = "--batch", defaultValue = "4", description = "sequences per forward pass")
        int batch;

        GemmaModel load(Backend b) {
            return GemmaModel.load(model.dir(), model.tokenizer, b);
        }

        int layer(Sae sae) {
            if (layer != null) return layer;
            return hookLayer(sae);
        }
    }

    /** What an eval returns: its output and the one-line summary printed after "wrote FILE". */
    record Result(EvalOutput output, String summary) {}

    /**
     * The skeleton every eval shares, written once: resolve the backend, load the SAE on it, run, write the
     * results JSON into --out and print one line.
     */
    abstract static class EvalSubcommand implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Mixin SaeOptions s = new SaeOptions();

        abstract Result run(Backend backend, Sae sae) throws Exception;

        @Override
        public final Integer call() throws Exception {
            s.run.apply();
            try (Backend b = s.backend.backend()) {
                Sae sae = s.load(b);
                Result r = run(b, sae);
                s.done(spec, r.output(), r.summary());
            }
            return 0;
        }
    }

    /** An eval that runs Gemma-2: {@link #prepare} reads its inputs first, then the model loads on the same backend. */
    abstract static class ModelEval extends EvalSubcommand {
        @Mixin ModelOptions m = new ModelOptions();

        /** Reads and checks the eval's own inputs before the (slow) model load. */
        void prepare() throws Exception {}

        abstract Result run(Backend backend, Sae sae, GemmaModel model) throws Exception;

        @Override
        final Result run(Backend backend, Sae sae) throws Exception {
            prepare();
            try (GemmaModel model = m.load(backend)) {
                if (sae.dIn() != model.hiddenSize())
                    throw new IllegalArgumentException("--sae " + s.sae + " has d_in " + sae.dIn() + " but --model " + m.model.dir()
                            + " has hidden size " + model.hiddenSize() + ": the SAE was trained on another model");
                int layer = m.layer(sae);
                if (layer < 0 || layer >= model.numLayers())
                    throw new IllegalArgumentException("hook layer " + layer + " is outside the model's " + model.numLayers()
                            + " layers (0.." + (model.numLayers() - 1) + "); pass --layer or check the SAE's hook_layer");
                return run(backend, sae, model);
            }
        }
    }

    /** The SAE's hook layer from cfg.json (hook_layer, else parsed from hook_name "blocks.N.…"). */
    static int hookLayer(Sae sae) {
        Object l = sae.cfg().get("hook_layer");
        if (l instanceof Number n) return n.intValue();
        if (l != null) return Integer.parseInt(l.toString());
        Object h = sae.cfg().get("hook_name");
        if (h != null) {
            var m = java.util.regex.Pattern.compile("blocks\\.(\\d+)\\.").matcher(h.toString());
            if (m.find()) return Integer.parseInt(m.group(1));
        }
        throw new IllegalArgumentException("the SAE's cfg.json has no hook_layer or hook_name; pass --layer");
    }

    static int[][] rows(GemmaModel m, List<Path> files, int ctx, int maxRows, int minChars, Corpus.BosMode bos) {
        for (Path f : files) if (!Files.isRegularFile(f)) throw new IllegalArgumentException(f + ": corpus file not found");
        Corpus.Options o = new Corpus.Options(minChars, Corpus.Options.DEFAULT.textSplit(), bos, "text");
        int[][] rows = Corpus.readRows(files, m.tokenizer(), ctx, maxRows, o);
        if (rows.length == 0) throw new IllegalArgumentException(files + ": no complete rows of " + ctx + " tokens (corpus too small for --context)");
        return rows;
    }

    @Command(name = "core", mixinStandardHelpOptions = true,
            description = "SAEBench core metrics: L0/L1, MSE, explained variance, cosine, shrinkage, feature density, decoder cosine, CE-loss and KL scores (x̂ spliced at the hook layer).")
    static final class Core extends ModelEval {

        static final class Text {
            @Option(names = "--corpus", arity = "1..*", paramLabel = "FILE", description = "JSONL (text) or .txt evaluation corpus")
            List<Path> corpus;

            @Option(names = "--held-out-from", paramLabel = "STORE", description = "evaluate on the SAE's training distribution: the corpus of this "
                    + "activation store from the first document its harvest did not read (SAEBench's core eval reads the SAE's own dataset)")
            Path store;
        }

        @ArgGroup(exclusive = true, multiplicity = "1") Text text;

        @Range(min = 2) @Option(names = "--context", defaultValue = "128", description = "tokens per row, BOS at 0 (SAEBench's)")
        int context;

        @Range(min = 1) @Option(names = "--rows", defaultValue = "160", description = "rows to evaluate (SAEBench's 10 batches of 16)")
        int rows;

        @Option(names = "--no-ce-kl", description = "skip the CE-loss / KL forward passes")
        boolean noCeKl;

        @Override
        Result run(Backend b, Sae sae, GemmaModel model) {
            int[][] r;
            String name;
            if (text.store != null) {
                StoreManifest man = StoreManifest.read(text.store);
                r = man.heldOutRows(model.tokenizer(), context, rows);
                name = String.join(",", man.corpusFiles().stream().map(p -> Path.of(p).getFileName().toString()).toList())
                        + " held out from " + text.store.getFileName() + " (from document " + man.heldOutStart().document() + ")";
            } else {
                r = rows(model, text.corpus, context, rows, 0, Corpus.BosMode.PREPEND);
                name = String.join(",", text.corpus.stream().map(p -> p.getFileName().toString()).toList());
            }
            EvalResult<CoreMetrics> o = CoreEval.run(b.ops(), model, model.tokenizer(), sae, r, new CoreEval.Config(m.layer(sae), m.batch, !noCeKl, name), s.id());
            CoreMetrics q = o.metrics();
            return new Result(o.output(), String.format(java.util.Locale.ROOT, "L0 %.2f, explained variance %.4f%s",
                    q.sparsity().l0(), q.reconstructionQuality().explainedVariance(),
                    noCeKl ? "" : String.format(java.util.Locale.ROOT, ", CE-loss score %.4f",
                            q.modelPerformancePreservation().ceLossScore())));
        }
    }

    @Command(name = "unlearning", mixinStandardHelpOptions = true,
            description = {"SAEBench unlearning: clamp latents selected on forget/retain corpora, score WMDP-bio vs MMLU accuracy.",
                    "Use the instruction-tuned model (gemma-2-2b-it) with an SAE trained on the base model, as SAEBench does."})
    static final class UnlearningCmd extends ModelEval {

        @Option(names = "--forget", required = true, arity = "1..*", paramLabel = "FILE", description = "forget corpus (JSONL text), e.g. the WMDP bio forget corpus")
        List<Path> forget;

        @Option(names = "--retain", required = true, arity = "1..*", paramLabel = "FILE", description = "retain corpus (JSONL text), e.g. wikitext")
        List<Path> retain;

        @Option(names = "--wmdp", required = true, paramLabel = "FILE", description = "WMDP-bio questions JSONL (question, choices, answer)")
        Path wmdp;

        @Option(names = "--mmlu", required = true, arity = "1..*", paramLabel = "FILE", description = "MMLU question JSONL files (subject from the record's 'subject' or the file name)")
        List<Path> mmlu;

        @Range(min = 2) @Option(names = "--context", defaultValue = "1024", description = "corpus row length")
        int context;

        @Range(min = 1) @Option(names = "--rows", defaultValue = "1024", description = "corpus rows per corpus")
        int rows;

        @Option(names = "--min-chars", defaultValue = "50", description = "drop corpus lines/docs shorter than this (SAEBench's)")
        int minChars;

        @Option(names = "--retain-thresholds", split = ",", defaultValue = "0.001,0.01", description = "")
        double[] thresholds;

        @Option(names = "--n-features", split = ",", defaultValue = "10,20", description = "")
        int[] nFeatures;

        @Range(min = 0) @Option(names = "--multipliers", split = ",", defaultValue = "25,50,100,200", description = "")
        double[] multipliers;

        @Option(names = "--all-permutations", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "keep only questions answered correctly in all 24 choice orders (SAEBench; the default)")
        boolean allPermutations;

        @Range(min = 0, max = 1) @Option(names = "--mmlu-threshold", defaultValue = "0.99", description = "")
        double mmluThreshold;

        private List<Unlearning.Question> wq;
        private final Map<String, List<Unlearning.Question>> mq = new LinkedHashMap<>();

        @Override
        void prepare() throws Exception {
            wq = Unlearning.readQuestions(wmdp, "biology");
            for (Path f : mmlu) {
                String name = f.getFileName().toString().replaceFirst("\\.jsonl?$", "");
                mq.put(name, Unlearning.readQuestions(f, name));
            }
        }

        @Override
        Result run(Backend b, Sae sae, GemmaModel model) {
            // SAEBench's tokenize_and_concat_dataset: rows of the joined stream with position 0 overwritten by BOS
            int[][] fr = rows(model, forget, context, rows, minChars, Corpus.BosMode.OVERWRITE);
            int[][] rr = rows(model, retain, context, rows, minChars, Corpus.BosMode.OVERWRITE);
            EvalResult<UnlearningMetrics> o = Unlearning.run(model, model.tokenizer(), sae, m.layer(sae), fr, rr, wq, mq, new Unlearning.Config(
                    thresholds, nFeatures, multipliers, allPermutations, mmluThreshold, m.batch), s.id());
            return new Result(o.output(), String.format(java.util.Locale.ROOT, "unlearning score %.4f",
                    o.metrics().unlearningScore()));
        }
    }

    @Command(name = "mcq", mixinStandardHelpOptions = true,
            description = {"The unmodified model's multiple-choice accuracy with the unlearning eval's prompt and scoring (no SAE):",
                    "original choice order and, with --all-permutations, right in all 24 orders and the mean over the 24 orders. Prints one line per file",
                    "and, with --out, writes mcq_accuracy.json."})
    static final class Mcq implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Mixin ModelOptions m = new ModelOptions();

        @Option(names = "--questions", required = true, arity = "1..*", paramLabel = "FILE",
                description = "question JSONL files (cais/wmdp or cais/mmlu layout); subject from the record, else 'biology' for wmdp* files, else the file name")
        List<Path> questions;

        @Option(names = "--all-permutations", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "also count questions answered correctly in all 24 choice orders (on by default)")
        boolean allPermutations;

        @Option(names = "--out", paramLabel = "DIR", description = "write mcq_accuracy.json here")
        Path out;

        @Mixin BackendOption backend;
        @Mixin RunOptions run;
        @Mixin VerboseOption verbose;

        @Override
        public Integer call() throws Exception {
            run.apply();
            Map<String, Object> res = new LinkedHashMap<>();
            try (Backend b = backend.backend(); GemmaModel model = m.load(b)) {
                for (Path f : questions) {
                    String name = f.getFileName().toString().replaceFirst("\\.jsonl?$", "");
                    var qs = Unlearning.readQuestions(f, name.startsWith("wmdp") ? "biology" : name);
                    var a = Unlearning.mcqAccuracy(model, model.tokenizer(), qs, allPermutations, m.batch, name);
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("total", a.total());
                    r.put("accuracy_original_order", a.originalOrder());
                    if (allPermutations) {
                        r.put("accuracy_all_24_orders", a.all24Orders());
                        r.put("accuracy_mean_24_orders", a.mean24Orders());
                    }
                    res.put(name, r);
                    spec.commandLine().getOut().printf(java.util.Locale.ROOT, "%s: %d questions, accuracy %.4f (original order)%s%n", name, a.total(),
                            a.originalOrder(), allPermutations ? String.format(java.util.Locale.ROOT,
                                    ", %.4f (right in all 24 orders), %.4f (mean over the 24 orders)", a.all24Orders(), a.mean24Orders()) : "");
                }
            }
            if (out != null) {
                Files.createDirectories(out);
                Path f = out.resolve("mcq_accuracy.json");
                Files.writeString(f, EvalOutput.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(res) + "\n");
                spec.commandLine().getOut().println("wrote " + f);
            }
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "recall", mixinStandardHelpOptions = true,
            description = {"Fact recall in held-out paraphrases (no SAE): a world model's next-token loss and top-1 accuracy on the world's",
                    "forget.jsonl and retain.jsonl (templates no training document uses), split into fact values after / before their entity",
                    "is named, entity names, other tokens and <eos>; for values after the entity also top-1 among the relation's values. Also",
                    "the held-out loss as msts lm train computes it (documents packed into rows of --context). Writes fact_recall.json with --out",
                    "(docs/evals.md, \"Fact recall\")."})
    static final class Recall implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Mixin ModelOptions m = new ModelOptions();

        @Option(names = "--world", required = true, paramLabel = "DIR", description = "the world directory (msts world): world.json, forget.jsonl, retain.jsonl")
        Path world;

        @Range(min = 2) @Option(names = "--context", defaultValue = "128", description = "row length of the packed held-out loss (the model's training context)")
        int context;

        @Option(names = "--out", paramLabel = "DIR", description = "write fact_recall.json here")
        Path out;

        @Mixin BackendOption backend;
        @Mixin RunOptions run;
        @Mixin VerboseOption verbose;

        @Override
        public Integer call() throws Exception {
            run.apply();
            if (!Files.isDirectory(world)) throw new IllegalArgumentException(world + ": world directory not found");
            for (String f : new String[]{"world.json", "forget.jsonl", "retain.jsonl"})
                if (!Files.isRegularFile(world.resolve(f))) throw new IllegalArgumentException(world + ": no " + f + " (a directory written by msts world)");
            var entities = msts.evals.FactRecall.readWorld(world.resolve("world.json"));
            var pw = spec.commandLine().getOut();
            Map<String, Object> res = new LinkedHashMap<>();
            res.put("model", m.model.dir().toString());
            res.put("world", world.toString());
            Map<String, Object> corpora = new LinkedHashMap<>();
            try (Backend b = backend.backend(); GemmaModel model = m.load(b)) {
                int[] stream = msts.model.train.LmData.tokens(model.tokenizer(), List.of(world.resolve("forget.jsonl"), world.resolve("retain.jsonl")));
                int unk = model.tokenizer().tokenId("<unk>");
                long unknown = unk < 0 ? 0 : java.util.Arrays.stream(stream).filter(x -> x == unk).count();
                res.put("unknown_tokens", unknown);
                if (unknown > 0)
                    spec.commandLine().getErr().printf(java.util.Locale.ROOT, "msts: warning: %d of the %d tokens of %s's held-out documents are <unk> for the model's tokenizer; "
                            + "is this the world the model was trained on?%n", unknown, stream.length, world);
                for (String f : new String[]{"forget.jsonl", "retain.jsonl"}) {
                    List<String> docs = msts.model.train.LmData.documents(world.resolve(f)); // read (and checked) as the trainer reads them
                    Map<msts.evals.FactRecall.Kind, msts.evals.FactRecall.Stat> st;
                    try (var p = new msts.engine.util.Progress("recall " + f, docs.size(), "docs")) {
                        st = msts.evals.FactRecall.run(model, model.tokenizer(), entities, docs, m.batch, p::set);
                    }
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("documents", docs.size());
                    pw.printf(java.util.Locale.ROOT, "%s: %d documents (held-out templates)%n", f, docs.size());
                    for (var e : st.entrySet()) {
                        var v = e.getValue();
                        if (v.n() == 0) continue;
                        Map<String, Object> k = new LinkedHashMap<>();
                        k.put("predictions", v.n());
                        k.put("loss", v.loss());
                        k.put("top1_accuracy", v.top1Accuracy());
                        if (e.getKey() == msts.evals.FactRecall.Kind.VALUE_AFTER) k.put("top1_among_relation_values", v.top1AmongValuesAccuracy());
                        c.put(e.getKey().key, k);
                        pw.printf(java.util.Locale.ROOT, "  %-12s %7d predictions  loss %.4f  top-1 %.4f%s%n", e.getKey().key, v.n(), v.loss(), v.top1Accuracy(),
                                e.getKey() == msts.evals.FactRecall.Kind.VALUE_AFTER
                                        ? String.format(java.util.Locale.ROOT, "  top-1 among the relation's values %.4f", v.top1AmongValuesAccuracy()) : "");
                    }
                    corpora.put(f, c);
                }
                var rows = new msts.model.train.TokenRows(stream, context, model.tokenizer().bosId(), 0);
                List<int[]> all = new ArrayList<>();
                for (int r = 0; r < rows.rows(); r++) all.add(rows.row(r));
                double[] packed = msts.evals.FactRecall.rowsLoss(model, all, m.batch);
                Map<String, Object> pk = new LinkedHashMap<>();
                pk.put("loss", packed[0]);
                pk.put("predictions", (long) packed[1]);
                pk.put("rows", rows.rows());
                pk.put("context", context);
                res.put("corpora", corpora);
                res.put("packed_held_out_loss", pk);
                res.put("uniform_loss", Math.log(model.vocabSize()));
                pw.printf(java.util.Locale.ROOT, "held-out loss packed as msts lm train packs it: %.4f over %d predictions (%d rows of %d); uniform %.4f%n",
                        packed[0], (long) packed[1], rows.rows(), context, Math.log(model.vocabSize()));
            }
            if (out != null) {
                Files.createDirectories(out);
                Path f = out.resolve("fact_recall.json");
                Files.writeString(f, EvalOutput.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(res) + "\n");
                pw.println("wrote " + f);
            }
            pw.flush();
            return 0;
        }
    }

    @Command(name = "probing", mixinStandardHelpOptions = true,
            description = "Sparse probing: mean-pooled latents, top-k by class mean difference, L2 logistic regression (C=1).")
    static final class Probing extends ModelEval {

        @Option(names = "--data", required = true, arity = "1..*", paramLabel = "FILE", description = "labelled JSONL (text, label); one task per file (one-vs-rest if > 2 labels)")
        List<Path> data;

        @Range(min = 2) @Option(names = "--context", defaultValue = "128", description = "max tokens per example")
        int context;

        @Range(min = 1) @Option(names = "--k", split = ",", defaultValue = "1,2,5,10,20,50", description = "")
        int[] ks;

        @Range(min = 0, max = 1, minExclusive = true) @Option(names = "--train-fraction", defaultValue = "0.8", description = "")
        double trainFraction;

        @Range(min = Long.MIN_VALUE) @Option(names = "--seed", defaultValue = "42", description = "split seed")
        long seed;

        @Range(min = 1) @Option(names = "--max-examples", defaultValue = "5000", description = "per file")
        int maxExamples;

        private final List<SparseProbing.Task> tasks = new ArrayList<>();

        @Override
        void prepare() throws Exception {
            for (Path f : data) {
                if (!Files.isRegularFile(f)) throw new IllegalArgumentException(f + ": probing data file not found");
                tasks.addAll(SparseProbing.tasks(f));
            }
        }

        @Override
        Result run(Backend b, Sae sae, GemmaModel model) {
            EvalResult<ProbingMetrics> o = SparseProbing.run(model, model.tokenizer(), sae, m.layer(sae), tasks,
                    new SparseProbing.Config(context, trainFraction, seed, ks, 1.0, maxExamples), s.id());
            return new Result(o.output(), String.format(java.util.Locale.ROOT, "SAE top-1 accuracy %s",
                    o.metrics().saeTop(1)));
        }
    }

    @Command(name = "disentangle", mixinStandardHelpOptions = true,
            description = {"Disentanglement: decoder cosine histogram, co-activation, temporal persistence (lags 1..16) on activation",
                    "sequences (a store or an activations .safetensors); with --ground-truth, recovery of planted features per time scale."})
    static final class Disentangle extends EvalSubcommand {

        @Option(names = "--activations", required = true, paramLabel = "PATH", description = "activation store directory or .safetensors file (tensor 'activations' [n, ctx, d])")
        Path activations;

        @Option(names = "--ground-truth", paramLabel = "FILE", description = "ground_truth.safetensors from msts synthetic (or its directory)")
        Path groundTruth;

        @Range(min = 1) @Option(names = "--max-seqs", defaultValue = "512", description = "sequences to encode")
        int maxSeqs;

        @Option(names = "--max-lag", defaultValue = "16", description = "")
        int maxLag;

        @Option(names = "--include-first", description = "keep position 0 of each sequence (by default dropped: BOS in harvested stores)")
        boolean includeFirst;

        @Override
        Result run(Backend b, Sae sae) throws Exception {
            Disentanglement.GroundTruth gt = groundTruth == null ? null : SyntheticFiles.readGroundTruth(groundTruth);
            try (ActivationSource src = ActivationSources.open(activations)) {
                var d = Disentanglement.Config.defaults();
                EvalResult<DisentangleMetrics> o = Disentanglement.run(b.ops(), sae, src, gt, new Disentanglement.Config(maxSeqs, maxLag, d.topLatents(),
                        d.histogramBins(), d.histogramLatents(), !includeFirst), s.id());
                DisentangleMetrics q = o.metrics();
                return new Result(o.output(), String.format(java.util.Locale.ROOT, "mean persistence %.4f%s",
                        q.temporalPersistence().meanPersistence(),
                        q.groundTruth() == null ? "" : String.format(java.util.Locale.ROOT, ", ground-truth recovery mean %.4f, by time scale %s",
                                q.groundTruth().recoveryMean(), q.groundTruth().recoveryByTimeScale())));
            }
        }
    }
}
