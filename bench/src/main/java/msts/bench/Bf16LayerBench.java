package msts.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.Compute;
import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.engine.Tensor;
import msts.engine.bf16.Bf16Native;
import msts.engine.bf16.Bf16Ops;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code msts bench layer --compute bf16}: one Gemma-2-2B decoder layer with random BF16 weights on T tokens,
 * with F32 compute and with {@code --compute bf16} (native AVX512_BF16 kernel where present, and the Vector API
 * fallback) — the variants interleaved, one forward each per round, so that all see the same load on a shared
 * machine — then the error of bf16 against f32 on the same weights and input, then the PyTorch-CPU BF16 peer
 * {@code scripts/bench_layer_torch.py} (the same layer in torch.bfloat16, as many threads as msts).
 */
public final class Bf16LayerBench {
    private Bf16LayerBench() {}

    public static void run(int tokens, int warmup, int runs, boolean peer, String torchPython, Ops base, PrintWriter out) {
        if (tokens <= 0 || runs <= 0 || warmup < 0) throw new IllegalArgumentException("--tokens and --runs must be positive");
        DType dt = DType.BF16;
        List<Ops> variants = new ArrayList<>(List.of(base, Bf16Ops.of(base, Bf16Ops.Kernel.VECTOR)));
        if (Bf16Native.load().isPresent()) variants.add(Bf16Ops.of(base, Bf16Ops.Kernel.NATIVE));
        out.printf(Locale.ROOT, "Gemma-2-2B layer, BF16 weights, T=%d tokens, %d warm-up + %d interleaved rounds, %d threads, load %s; %s%n",
                tokens, warmup, runs, Parallel.threads(), LayerBench.load(),
                Bf16Native.load().isPresent() ? "native kernel: avx512bf16" : "native kernel unavailable: " + Bf16Native.unavailableReason());
        out.flush();
        Gemma2Config c = new Gemma2Config(16, 2304, 9216, 1, 8, 4, 256, 1e-6f, 10000f, 256f, 50f, 30f, 4096,
                2, 1, 0, true, false, "gelu_pytorch_tanh", null, dt.name());
        Gemma2Weights w = weights(c, dt);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = (i * 7 + 3) % c.vocabSize();
        Gemma2.Options opts = new Gemma2.Options(0, new int[]{0}, null, Gemma2.LogitsMode.NONE);
        List<Gemma2> models = new ArrayList<>();
        for (Ops o : variants) models.add(new Gemma2(c, w, o, null));
        float[][] outs = new float[variants.size()][];
        for (int i = 0; i < warmup; i++) for (Gemma2 m : models) m.forward(new int[][]{ids}, opts);
        double[][] t = new double[variants.size()][runs];
        for (int r = 0; r < runs; r++) {
            for (int v = 0; v < models.size(); v++) {
                long t0 = System.nanoTime();
                outs[v] = models.get(v).forward(new int[][]{ids}, opts).resid()[0][0];
                t[v][r] = (System.nanoTime() - t0) / 1e9;
            }
        }
        float[] in = new float[tokens * c.hiddenSize()];
        Kernels.embed(in, ids, w.embedTokens(), c.hiddenSize(), models.get(0).embedScale());
        double f32Median = median(t[0]);
        for (int v = 0; v < variants.size(); v++) {
            double med = median(t[v]), best = java.util.Arrays.stream(t[v]).min().orElseThrow();
            out.printf(Locale.ROOT, "  msts  %-24s median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)  ×%.2f of f32 compute%n",
                    variants.get(v).name(), med * 1e3, best * 1e3, tokens / med, f32Median / med);
            if (v > 0) {
                double[] eu = relErr(minus(outs[v], in), minus(outs[0], in)), eo = relErr(outs[v], outs[0]);
                out.printf(Locale.ROOT, "        vs f32 compute: layer update (out − in) rel. RMS error %.3g, max |Δ| %.3g (update RMS %.3g);"
                        + " layer output rel. RMS error %.3g (output RMS %.3g)%n", eu[0], eu[1], eu[2], eo[0], eo[2]);
            }
            out.flush();
        }
        if (peer) {
            out.println("  " + runTorchPeer(torchPython, tokens, warmup, runs));
            out.flush();
        }
        out.printf("load after: %s%n", LayerBench.load());
        out.flush();
    }

    static Gemma2Weights weights(Gemma2Config c, DType dt) {
        long seed = 1;
        int H = c.hiddenSize(), I = c.intermediateSize();
        Gemma2Weights.Layer layer = new Gemma2Weights.Layer(
                LayerBench.random(dt, 0.1f, seed++, H),
                LayerBench.random(dt, 1f / 48, seed++, c.qDim(), H), LayerBench.random(dt, 1f / 48, seed++, c.kvDim(), H),
                LayerBench.random(dt, 1f / 48, seed++, c.kvDim(), H), LayerBench.random(dt, 1f / 45, seed++, H, c.qDim()),
                LayerBench.random(dt, 0.1f, seed++, H), LayerBench.random(dt, 0.1f, seed++, H),
                LayerBench.random(dt, 1f / 48, seed++, I, H), LayerBench.random(dt, 1f / 48, seed++, I, H),
                LayerBench.random(dt, 1f / 96, seed++, H, I),
                LayerBench.random(dt, 0.1f, seed++, H), null, null, null, null);
        Tensor embed = LayerBench.random(dt, 1f, seed++, c.vocabSize(), H);
        return new Gemma2Weights(embed, new Gemma2Weights.Layer[]{layer}, LayerBench.random(dt, 0.1f, seed, H), embed);
    }

    static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    static float[] minus(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return d;
    }

    /** {‖a − b‖/‖b‖, max |a − b|, RMS of b}. */
    static double[] relErr(float[] a, float[] b) {
        double d = 0, n = 0, mx = 0;
        for (int i = 0; i < a.length; i++) {
            double x = (double) a[i] - b[i];
            d += x * x;
            n += (double) b[i] * b[i];
            mx = Math.max(mx, Math.abs(x));
        }
        return new double[]{Math.sqrt(d / n), mx, Math.sqrt(n / a.length)};
    }

    static String runTorchPeer(String python, int tokens, int warmup, int runs) {
        Path numpy = LayerBench.findScript();
        Path script = numpy != null ? numpy.resolveSibling("bench_layer_torch.py") : Path.of("scripts", "bench_layer_torch.py");
        if (!Files.isRegularFile(script)) return "torch peer: scripts/bench_layer_torch.py not found";
        List<String> cmd = List.of(python, script.toString(), "--tokens", Integer.toString(tokens), "--runs", Integer.toString(runs),
                "--warmup", Integer.toString(warmup), "--threads", Integer.toString(Parallel.threads()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String txt = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) return "torch peer failed: " + txt;
            JsonNode j = new ObjectMapper().readTree(txt.lines().reduce((a, b) -> b).orElse(""));
            return String.format(Locale.ROOT, "torch bf16 model (peer)        median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)  [torch %s, %d threads]",
                    j.get("median_s").asDouble() * 1e3, j.get("best_s").asDouble() * 1e3, j.get("tokens_per_s").asDouble(),
                    j.path("torch").asText(), j.path("threads").asInt());
        } catch (Exception e) {
            return "torch peer failed: " + e;
        }
    }
}
