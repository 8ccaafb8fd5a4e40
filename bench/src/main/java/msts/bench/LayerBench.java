package msts.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Layer benchmark ({@code msts bench layer}): tokens/s of one full-size Gemma-2-2B decoder layer (random
 * weights, off-heap, BF16 and/or F32) on one sequence of T tokens through {@link Gemma2#forward}, next to the
 * numpy/OpenBLAS peer {@code scripts/bench_layer_numpy.py} doing the same layer math in float32, run in the
 * same invocation. A benchmark, not a test.
 */
public final class LayerBench {
    private LayerBench() {}

    /**
     * @param dtypes      weight dtypes by name (bf16, f32, f16), run in this order
     * @param peerScript  bench_layer_numpy.py, or null to look for scripts/ next to the jar or in the working directory
     * @param peerThreads OPENBLAS_NUM_THREADS settings for the peer ("default" = unset), each run separately
     */
    public record Options(int tokens, List<String> dtypes, int warmup, int runs, boolean peer, String python,
                          Path peerScript, List<String> peerThreads) {}

    /** Runs the layer on {@code o} for every dtype, then the peer, printing one line each to {@code out}. */
    public static void run(Options opt, Ops o, PrintWriter out) {
        int tokens = opt.tokens(), runs = opt.runs(), warmup = opt.warmup();
        if (tokens <= 0 || runs <= 0 || warmup < 0) throw new IllegalArgumentException("--tokens and --runs must be positive");
        String loadBefore = load();
        out.printf(Locale.ROOT, "Gemma-2-2B layer, T=%d tokens, ops=%s, %d warm-up + %d timed runs, %d cores, load %s%n",
                tokens, o.name(), warmup, runs, Runtime.getRuntime().availableProcessors(), loadBefore);
        out.flush();
        for (String d : opt.dtypes()) {
            DType dt = switch (d.toLowerCase(Locale.ROOT)) {
                case "bf16" -> DType.BF16;
                case "f32" -> DType.F32;
                case "f16" -> DType.F16;
                default -> throw new IllegalArgumentException("--dtype " + d + " (bf16, f32 or f16)");
            };
            double[] s = runJava(o, dt, tokens, warmup, runs);
            out.printf(Locale.ROOT, "  msts  %-5s weights: median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)%n",
                    dt, s[0] * 1e3, s[1] * 1e3, tokens / s[0]);
            out.flush();
        }
        if (opt.peer()) {
            for (String th : opt.peerThreads()) {
                out.println("  " + runPeer(opt, th));
                out.flush();
            }
        }
        out.printf("load after: %s%n", load());
        out.flush();
    }

    /** Median and best seconds of one layer forward. */
    public static double[] runJava(Ops o, DType dt, int tokens, int warmup, int runs) {
        Gemma2Config c = new Gemma2Config(16, 2304, 9216, 1, 8, 4, 256, 1e-6f, 10000f, 256f, 50f, 30f, 4096,
                2, 1, 0, true, false, "gelu_pytorch_tanh", null, dt.name());
        long seed = 1;
        int H = c.hiddenSize(), I = c.intermediateSize();
        Gemma2Weights.Layer layer = new Gemma2Weights.Layer(
                random(dt, 0.1f, seed++, H),
                random(dt, 1f / 48, seed++, c.qDim(), H), random(dt, 1f / 48, seed++, c.kvDim(), H),
                random(dt, 1f / 48, seed++, c.kvDim(), H), random(dt, 1f / 45, seed++, H, c.qDim()),
                random(dt, 0.1f, seed++, H), random(dt, 0.1f, seed++, H),
                random(dt, 1f / 48, seed++, I, H), random(dt, 1f / 48, seed++, I, H), random(dt, 1f / 96, seed++, H, I),
                random(dt, 0.1f, seed++, H), null, null, null, null);
        Tensor embed = random(dt, 1f, seed++, c.vocabSize(), H);
        Gemma2Weights w = new Gemma2Weights(embed, new Gemma2Weights.Layer[]{layer}, random(dt, 0.1f, seed, H), embed);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = (i * 7 + 3) % c.vocabSize();
        Gemma2 m = new Gemma2(c, w, o, null);
        Gemma2.Options opts = new Gemma2.Options(0, null, null, Gemma2.LogitsMode.NONE);
        for (int i = 0; i < warmup; i++) m.forward(new int[][]{ids}, opts);
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            m.forward(new int[][]{ids}, opts);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        double best = Arrays.stream(t).min().orElseThrow();
        Arrays.sort(t);
        return new double[]{t[t.length / 2], best};
    }

    /** Uniform values in [-a·√3, a·√3] (std a) from a cheap hash, written in place (no heap copy). */
    public static Tensor random(DType dt, float std, long seed, long... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        float k = (float) (std * Math.sqrt(3) / (1L << 23));
        for (long i = 0, n = t.numel(); i < n; i++) {
            s ^= s << 13; s ^= s >>> 7; s ^= s << 17;
            t.set(i, ((int) (s >>> 40) - (1 << 23)) * k);
        }
        return t;
    }

    static String runPeer(Options opt, String threads) {
        int tokens = opt.tokens(), runs = opt.runs(), warmup = opt.warmup();
        String python = opt.python();
        Path script = opt.peerScript() != null ? opt.peerScript() : findScript();
        if (script == null) return "numpy peer: scripts/bench_layer_numpy.py not found (use --peer-script)";
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--tokens", Integer.toString(tokens),
                "--runs", Integer.toString(runs), "--warmup", Integer.toString(warmup)));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (!threads.equals("default")) {
                pb.environment().put("OPENBLAS_NUM_THREADS", threads);
                pb.environment().put("OMP_NUM_THREADS", threads);
            }
            Process p = pb.start();
            String txt = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) return "numpy peer failed: " + txt;
            String last = txt.lines().reduce((a, b) -> b).orElse("");
            JsonNode j = new ObjectMapper().readTree(last);
            return String.format(Locale.ROOT, "numpy f32   weights: median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)  [numpy %s, %s, OPENBLAS_NUM_THREADS=%s]",
                    j.get("median_s").asDouble() * 1e3, j.get("best_s").asDouble() * 1e3, j.get("tokens_per_s").asDouble(),
                    j.path("numpy").asText(), j.path("blas").asText(), threads);
        } catch (Exception e) {
            return "numpy peer failed: " + e;
        }
    }

    static Path findScript() {
        List<Path> cands = new ArrayList<>();
        cands.add(Path.of("scripts", "bench_layer_numpy.py"));
        try {
            Path jar = Path.of(LayerBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = jar.getParent(); p != null; p = p.getParent()) cands.add(p.resolve("scripts/bench_layer_numpy.py"));
        } catch (Exception ignored) { }
        for (Path p : cands) if (Files.isRegularFile(p)) return p;
        return null;
    }

    public static String load() {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", l);
    }
}
