package msts.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import msts.data.ActivationSource;
import msts.data.ActivationSources;
import msts.data.ActivationStore;
import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.engine.util.Progress;
import msts.evals.dashboard.DashboardWriter;
import msts.evals.dashboard.LatentScan;
import msts.evals.dashboard.LogitLens;
import msts.evals.dashboard.SaeView;
import msts.model.gemma.Gemma2;
import msts.model.tokenizer.GemmaTokenizer;
import msts.sae.SaeIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code msts features}: static HTML feature dashboards of an SAE over an activation store (docs/features.md). */
@Command(name = "features", mixinStandardHelpOptions = true,
        description = {"Writes static HTML feature dashboards: DIR/index.html (every latent's density and maximum; sortable,",
                "searchable) and DIR/latents/NNNNN.html per latent (top contexts with per-token highlighting, activation",
                "histogram, output tokens promoted/suppressed with --model, temporal filters). One pass over the store;",
                "the pages load nothing from the network."})
public final class FeaturesCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--sae", required = true, paramLabel = "DIR", description = "SAELens-layout SAE directory") Path sae;
    @Option(names = "--store", required = true, paramLabel = "PATH", description = "activation store directory, or a safetensors file with 'activations' [n_seq, ctx, d]") Path store;
    @Option(names = "--model", paramLabel = "DIR", description = "Gemma-2 checkpoint: output tokens from its tied embedding (W_dec·W_U), and its tokenizer") Path model;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: --model DIR/tokenizer.json, else the store's recorded tokenizer; without one, token ids are shown)") Path tokenizer;
    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--force", description = "overwrite existing dashboards in --out") boolean force;
    @Option(names = "--top", defaultValue = "16", description = "top contexts per latent") int top;
    @Option(names = "--before", defaultValue = "24", description = "tokens shown before the maximum") int before;
    @Option(names = "--after", defaultValue = "8", description = "tokens shown after the maximum") int after;
    @Option(names = "--logit-tokens", defaultValue = "10", description = "promoted and suppressed tokens per latent") int logitTokens;
    @Option(names = "--max-sequences", defaultValue = "0", description = "scan only the first N sequences (default: all)") int maxSequences;
    @Mixin BackendOption backend; // --backend cpu|reference|tornado, --device B:D: the SAE's and the logits' GEMMs
    @Mixin RunOptions runOptions; // --threads N
    @Mixin QuietOption quiet;
    @Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        if (top < 1 || before < 0 || after < 0 || logitTokens < 1 || maxSequences < 0)
            throw new CommandLine.ParameterException(spec.commandLine(), "--top and --logit-tokens must be >= 1; --before, --after, --max-sequences >= 0");
        if (model != null && !Files.isRegularFile(model.resolve("config.json")))
            throw new IllegalArgumentException(model + ": no config.json (not a Hugging Face model directory)");
        Outputs.refuseOverwrite(out, force, "index.html");
        runOptions.apply();
        try (Backend b = backend.backend()) {
            return run(b.ops());
        }
    }

    private int run(Ops ops) throws Exception {
        long t0 = System.nanoTime();
        SaeView v = SaeView.of(SaeIO.load(sae, ops));
        var say = spec.commandLine().getOut();
        try (ActivationSource src = ActivationSources.open(store)) {
            // an msts store has BOS at position 0 of every row: context for the convolution, not counted
            int first = src instanceof ActivationStore ? 1 : 0;
            var opts = new LatentScan.Options(top, before, after, 64, first, maxSequences, 0);
            int nSeq = maxSequences > 0 ? Math.min(maxSequences, src.numSequences()) : src.numSequences();
            LatentScan.Result scan;
            try (Progress p = new Progress("features: scan", nSeq, "seq", System.err, quiet.quiet)) {
                scan = LatentScan.scan(v, src, opts, p);
            }
            long t1 = System.nanoTime();
            LogitLens.Result logits = null;
            String modelName = null;
            if (model != null) {
                try (Gemma2 g = Gemma2.load(model, ops)) {
                    logits = LogitLens.compute(v.wDec(), v.dSae(), v.dIn(), g.weights().lmHead(), logitTokens, ops);
                    modelName = model.getFileName() + (g.weights().lmHead() == g.weights().embedTokens() ? " (tied embedding)" : " (lm_head)");
                }
            }
            long t2 = System.nanoTime();
            String[] pieces = tokenizerPieces(src);
            IntFunction<String> piece = pieces == null ? null : id -> id >= 0 && id < pieces.length ? pieces[id] : null;
            List<String> notes = new ArrayList<>();
            notes.add("Density: fraction of " + (first == 1 ? "non-BOS " : "") + "tokens with activation > 0; contexts ranked by each sequence's maximum.");
            if (logits != null) notes.add("Output tokens: W_dec·W_U, direct path; Gemma-2's final RMSNorm and logit soft-cap are left out, as sae_vis and Neuronpedia do.");
            if (pieces == null && src.numSequences() > 0 && src.tokens(0) != null) notes.add("No tokenizer given: token ids are shown.");
            String title = sae.toAbsolutePath().normalize().getFileName().toString();
            DashboardWriter.write(out, v, scan, logits, src, new DashboardWriter.Info(title, store.toString(), modelName, piece, notes));
            long t3 = System.nanoTime();
            say.printf(Locale.ROOT, "wrote %s (%d latents, %d sequences x %d tokens) in %.1f s: scan %.1f s, output tokens %.1f s, pages %.1f s%n",
                    out.resolve("index.html"), v.dSae(), scan.sequences(), scan.contextSize(), (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
            say.flush();
        }
        return 0;
    }

    /**
     * --tokenizer, else --model DIR/tokenizer.json, else the tokenizer recorded in the store's manifest if it is
     * still there, else (with --model) the default Gemma tokenizer; none: token ids are shown.
     */
    private String[] tokenizerPieces(ActivationSource src) {
        Path tj = tokenizer;
        if (tj == null && model != null && Files.isRegularFile(model.resolve("tokenizer.json"))) tj = model.resolve("tokenizer.json");
        if (tj == null && src instanceof ActivationStore s && !s.manifest().tokenizer().isEmpty()) {
            Path p = Path.of(s.manifest().tokenizer());
            if (Files.isRegularFile(p)) tj = p;
        }
        if (tj == null && model != null) tj = GemmaTokenizer.defaultTokenizerJson(); // as the evals do for a model without one
        return tj == null ? null : GemmaTokenizer.readPieces(tj);
    }
}
