package msts.cli;

import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineFactory;
import msts.model.gemma.Gemma2;
import msts.data.GemmaActivations;
import msts.data.Harvester;
import msts.data.HarvestSpec;
import msts.data.StoreManifest;
import msts.model.tokenizer.GemmaTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code msts harvest}: Gemma-2 resid_post sequences of one layer over a corpus → activation store. */
@Command(name = "harvest", mixinStandardHelpOptions = true,
        description = {"Runs Gemma-2 up to --layer over a corpus cut into rows of --context tokens (BOS at 0, documents "
                + "joined with EOS) and stores resid_post sequences [n_seq, ctx, d] in safetensors shards with a manifest "
                + "(docs/activation-store.md).",
                "Re-running the same command continues after the last complete shard; a larger --tokens extends a "
                + "finished store."})
public final class HarvestCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin
    ModelOption model; // --model DIR, --tokenizer FILE

    @Option(names = "--layer", required = true, showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER, paramLabel = "L", description = "layer whose resid_post is stored (0-based; hook blocks.L.hook_resid_post)")
    int layer;

    @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE",
            description = "corpus files: .jsonl/.ndjson (field \"text\", one object per line) or plain text (.gz allowed)")
    List<Path> corpus;

    @Range(min = 2) @Option(names = "--context", defaultValue = "128", paramLabel = "CTX", description = "tokens per sequence, BOS included")
    int context;

    @Option(names = "--tokens", required = true, paramLabel = "N", description = "tokens to harvest (e.g. 2000000, 2M, 500k): ceil(N/CTX) sequences")
    String tokens;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "store directory (created, or continued if it holds a store made with the same arguments)")
    Path out;

    @Range(min = 1) @Option(names = "--batch-seqs", defaultValue = "8", paramLabel = "B", description = "sequences per forward pass")
    int batchSeqs;

    @Range(min = 1) @Option(names = "--shard-seqs", paramLabel = "S", description = "sequences per shard (default: ceil(16384 / CTX))")
    Integer shardSeqs;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "T", description = "bf16 or f32")
    String dtype;

    @Option(names = "--min-chars", defaultValue = "0", paramLabel = "C", description = "keep documents longer than C chars (SAEBench unlearning corpora: 50)")
    int minChars;

    @Option(names = "--text-split", defaultValue = "blocks", paramLabel = "MODE", description = "plain-text documents: blocks (blank-line separated), lines, or file")
    String textSplit;

    @Option(names = "--bos-mode", defaultValue = "prepend", paramLabel = "MODE", description = "prepend: [BOS] + CTX-1 stream tokens; overwrite: CTX stream tokens with position 0 set to BOS (SAEBench)")
    String bosMode;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME", description = "JSONL field holding the text")
    String textField;

    @picocli.CommandLine.Mixin
    BackendOption backend; // --backend cpu|reference|tornado, --device B:D

    @picocli.CommandLine.Mixin
    RunOptions run; // --threads N

    @picocli.CommandLine.Mixin
    ComputeOption compute; // --compute f32|bf16

    @picocli.CommandLine.Mixin
    QuietOption quiet;

    @picocli.CommandLine.Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        run.apply();
        try (Backend b = backend.backend()) {
            return run(compute.apply(b));
        }
    }

    private Integer run(Backend b) throws Exception {
        Ops o = b.ops();
        Path dir = model.dir();
        HarvestSpec h = new HarvestSpec(dir, layer, corpus, context, tokens, batchSeqs, shardSeqs, dtype,
                model.tokenizer, minChars, textSplit, bosMode, textField, o.name());
        Harvester.Config cfg;
        try {
            cfg = h.config();
        } catch (IllegalArgumentException e) { // a value that does not parse is a usage error (exit 2); out of range: exit 1
            if (e.getMessage() != null && e.getMessage().contains("is not a count"))
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            throw e;
        }
        // the arithmetic changes the activations, so a store is continued only with the same one; recorded only
        // when not the default, so that stores made before --compute existed continue as before
        if (compute.value() != msts.engine.Compute.F32) cfg.arguments().put("compute", compute.value().name().toLowerCase(Locale.ROOT));
        Path tj = h.tokenizerJson();

        try (GemmaTokenizer tok = GemmaTokenizer.load(tj); Gemma2 m = Gemma2.load(dir, o)) {
            ForwardEngine engine = ForwardEngineFactory.engine(b, m);
            try {
            var gm = new GemmaActivations(engine, layer);
            Harvester.Result r = Harvester.run(out, cfg, tok, gm, quiet.quiet);
            var w = spec.commandLine().getOut();
            w.printf(Locale.ROOT, "%s: %d sequences × %d tokens × d %d (%s, %s)%s; this run %d sequences in %.1f s (%.1f tok/s, %s)%n",
                    out, r.sequencesInStore(), context, gm.dIn(), StoreManifest.hookName(layer), cfg.dtype(),
                    r.corpusExhausted() ? ", corpus exhausted" : "", r.sequencesWritten(), r.seconds(),
                    r.tokensPerSecond(context), engine.describe());
            w.flush();
            } finally {
                ForwardEngineFactory.close(engine, m);
            }
        }
        return 0;
    }

    static String abs(Path p) { return HarvestSpec.abs(p); }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String opt, String v) { return HarvestSpec.parseEnum(type, opt, v); }

    /** "2000000", "2M", "500k", "1e6" → a positive count. */
    static long parseCount(String opt, String s) { return HarvestSpec.parseCount(opt, s); }
}
