package msts.cli;

import msts.engine.Ops;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.io.SafeTensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code msts info}: what a checkpoint is (architecture, sizes, parameter count, dtypes, bytes mapped). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describes a Gemma-2 checkpoint directory (HF layout).")
public final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint directory")
    Path model;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException(model + ": model directory not found");
        PrintWriter out = spec.commandLine().getOut();
        try (Gemma2 m = Gemma2.load(model, Ops.reference()); SafeTensors st = SafeTensors.open(model)) {
            Gemma2Config c = m.config();
            Map<String, long[]> dtypes = new TreeMap<>();
            for (String n : st.names()) {
                var e = st.entry(n);
                long numel = 1;
                for (long d : e.shape()) numel *= d;
                long[] agg = dtypes.computeIfAbsent(e.dtype(), k -> new long[2]);
                agg[0]++;
                agg[1] += numel;
            }
            out.printf("model          %s%n", model.toAbsolutePath());
            out.printf("architecture   gemma2 (Gemma2ForCausalLM)%n");
            out.printf("layers         %d (sliding window %d on layers %s)%n", c.numHiddenLayers(), c.slidingWindow(), slidingList(c));
            out.printf("hidden         %d, intermediate %d, vocab %d%n", c.hiddenSize(), c.intermediateSize(), c.vocabSize());
            out.printf("attention      %d heads, %d kv heads, head_dim %d, scale %.6g (query_pre_attn_scalar %s)%n",
                    c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.attnScale(), fmt(c.queryPreAttnScalar()));
            out.printf("soft-caps      attention %s, final logits %s%n", cap(c.attnLogitSoftcapping()), cap(c.finalLogitSoftcapping()));
            out.printf("rope_theta     %s, rms_norm_eps %s, activation %s%n", fmt(c.ropeTheta()), c.rmsNormEps(), c.hiddenActivation());
            out.printf("embeddings     %s%n", m.weights().lmHead() == m.weights().embedTokens() ? "tied (lm_head = embed_tokens)" : "untied lm_head");
            out.printf("parameters     %,d%n", m.weights().parameterCount());
            StringBuilder sb = new StringBuilder();
            dtypes.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(": ").append(v[0])
                    .append(" tensors / ").append(String.format("%,d", v[1])).append(" values"));
            out.printf("dtypes         %s%n", sb);
            out.printf("files          %d (%s)%n", st.files().size(), st.files().size() == 1 ? st.files().get(0).getFileName() : "sharded");
            out.printf("bytes mapped   %,d (%.1f MiB)%n", m.mappedBytes(), m.mappedBytes() / 1048576.0);
            out.flush();
        }
        return 0;
    }

    private static String slidingList(Gemma2Config c) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (int l = 0; l < c.numHiddenLayers(); l++)
            if (c.windowOf(l) > 0) { if (n++ < 8) sb.append(sb.isEmpty() ? "" : ",").append(l); }
        if (n > 8) sb.append(",…");
        return n == 0 ? "none" : sb.toString();
    }

    private static String cap(float c) { return c > 0 ? fmt(c) : "none"; }

    private static String fmt(float f) { return f == (long) f ? Long.toString((long) f) : Float.toString(f); }
}
