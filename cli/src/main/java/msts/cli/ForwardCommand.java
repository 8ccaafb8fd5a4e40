package msts.cli;

import msts.engine.Tensor;
import msts.engine.backend.Backend;
import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineFactory;
import msts.model.gemma.Gemma2;
import msts.io.SafeTensors;
import msts.model.tokenizer.GemmaTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code msts forward}: one Gemma-2 forward pass, every layer's resid_post and the logits to safetensors. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Runs a Gemma-2 checkpoint (HF layout) on one token sequence and writes F32 tensors",
                "resid_post.<i> [T, hidden] for every layer i and, per --logits, the (soft-capped) logits",
                "[T, vocab] (all), [1, vocab] at the last position (last) or none to --out."})
public final class ForwardCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin
    ModelOption model; // --model DIR, --tokenizer FILE (for --text)

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--tokens", paramLabel = "IDS", description = "comma-separated token ids, e.g. 2,651,1234 (used as given: no BOS added)")
        String tokens;

        @Option(names = "--text", paramLabel = "TEXT", description = "text to tokenize (BOS is prepended)")
        String text;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output .safetensors file")
    Path out;

    @Option(names = "--force", description = "overwrite an existing --out file")
    boolean force;

    @Option(names = "--logits", defaultValue = "all", paramLabel = "WHICH",
            description = "logits to write: all ([T, vocab]; 4·T·vocab bytes: 1 MB per token for Gemma-2), last ([1, vocab], position T-1) or none")
    Logits logits;

    enum Logits {
        none(Gemma2.LogitsMode.NONE), last(Gemma2.LogitsMode.LAST), all(Gemma2.LogitsMode.ALL);

        final Gemma2.LogitsMode mode;

        Logits(Gemma2.LogitsMode mode) { this.mode = mode; }
    }

    @picocli.CommandLine.Mixin
    BackendOption backend; // --backend cpu|reference|tornado, --device B:D

    @picocli.CommandLine.Mixin
    RunOptions run; // --threads N

    @picocli.CommandLine.Mixin
    ComputeOption compute; // --compute f32|bf16

    @picocli.CommandLine.Mixin
    VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        compute.value(); // a bad --compute is reported before anything else
        if (java.nio.file.Files.exists(out) && !force)
            throw new IllegalArgumentException(out + " already exists; pass --force to overwrite it or choose another --out");
        run.apply();
        try (Backend b = backend.backend()) {
            return run(compute.apply(b));
        }
    }

    private Integer run(Backend b) throws Exception {
        Path dir = model.dir();
        int[] ids;
        if (input.tokens != null) {
            ids = parseTokens(input.tokens);
        } else {
            try (GemmaTokenizer tok = GemmaTokenizer.load(model.tokenizerJson())) {
                ids = tok.encode(input.text, true);
            }
        }
        long t0 = System.nanoTime();
        try (Gemma2 m = Gemma2.load(dir, b.ops())) {
            ForwardEngine engine = ForwardEngineFactory.engine(b, m);
            try {
            int L = m.config().numHiddenLayers(), H = m.config().hiddenSize(), V = m.config().vocabSize(), T = ids.length;
            // captured residuals and logits (kept for the output file) + one head's attention scores
            long need = msts.engine.util.Memory.product(4, T, (long) L * H + V), scores = msts.engine.util.Memory.product(4, T, T);
            msts.engine.util.Memory.require(need < 0 || scores < 0 ? -1 : need + scores,
                    "forward on " + T + " tokens (" + L + " layers × " + H + " + logits × " + V + ")",
                    "pass fewer tokens or use a larger heap (MSTS_JAVA_OPTS=-Xmx…)");
            int[] layers = new int[L];
            for (int l = 0; l < L; l++) layers[l] = l;
            Gemma2.Result r = engine.forward(new int[][]{ids}, new Gemma2.Options(-1, layers, null, logits.mode));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (int l = 0; l < L; l++) tensors.put("resid_post." + l, Tensor.of(r.resid()[l][0], T, H));
            if (logits == Logits.all) tensors.put("logits", Tensor.of(r.logits()[0], T, V));
            if (logits == Logits.last) tensors.put("logits", Tensor.of(r.logits()[0], 1, V));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("model", dir.toAbsolutePath().toString());
            meta.put("tokens", Arrays.toString(ids).replaceAll("[\\[\\] ]", ""));
            meta.put("ops", b.ops().name());
            meta.put("logits", logits.name());
            meta.put("engine", engine.describe());
            SafeTensors.write(out, tensors, meta);
            double sec = (System.nanoTime() - t0) / 1e9;
            String lg = switch (logits) {
                case all -> ", logits [" + T + ", " + V + "]";
                case last -> ", logits [1, " + V + "] (last position)";
                case none -> "";
            };
            spec.commandLine().getOut().printf("wrote %s: %d tokens, resid_post.0..%d [%d, %d]%s (%s, %.2f s)%n",
                    out, T, L - 1, T, H, lg, engine.describe(), sec);
            spec.commandLine().getOut().flush();
            } finally {
                ForwardEngineFactory.close(engine, m);
            }
        }
        return 0;
    }

    static int[] parseTokens(String s) {
        String[] parts = s.trim().split("[,\\s]+");
        if (s.isBlank() || parts.length == 0) throw new IllegalArgumentException("--tokens is empty");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--tokens: '" + parts[i] + "' is not a token id");
            }
            if (ids[i] < 0) throw new IllegalArgumentException("--tokens: negative token id " + ids[i]);
        }
        return ids;
    }
}
