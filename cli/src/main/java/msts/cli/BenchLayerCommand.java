package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code msts bench layer}: tokens/s of one full-size Gemma-2-2B decoder layer (random weights, off-heap,
 * BF16 and/or F32) on one sequence of T tokens, next to the numpy/OpenBLAS peer
 * {@code scripts/bench_layer_numpy.py} doing the same layer math in float32, run in the same invocation.
 * A benchmark, not a test.
 */
@Command(name = "layer", mixinStandardHelpOptions = true,
        description = {"Tokens/s of one Gemma-2-2B layer (hidden 2304, 8/4 heads × 256, intermediate 9216) with random weights,",
                "next to the numpy peer scripts/bench_layer_numpy.py on the same machine."})
public final class BenchLayerCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--tokens", defaultValue = "128", description = "sequence length (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--dtype", defaultValue = "bf16,f32", split = ",", description = "weight dtypes: bf16, f32 (default ${DEFAULT-VALUE})")
    List<String> dtypes;

    @Option(names = "--ops", defaultValue = "cpu", description = "cpu or reference (default ${DEFAULT-VALUE})")
    String ops;

    @Option(names = "--warmup", defaultValue = "2") int warmup;

    @Option(names = "--runs", defaultValue = "5") int runs;

    @Option(names = "--no-peer", description = "skip the numpy peer") boolean noPeer;

    @Option(names = "--python", defaultValue = "python3", description = "python with numpy for the peer") String python;

    @Option(names = "--peer-script", description = "path of bench_layer_numpy.py (default: scripts/ next to the jar or in the working directory)")
    Path peerScript;

    @Option(names = "--peer-threads", defaultValue = "default,1", split = ",",
            description = "OPENBLAS_NUM_THREADS settings for the numpy peer, each run separately (default ${DEFAULT-VALUE}; oversubscribed machines often favour 1)")
    List<String> peerThreads;

    @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

    @Option(names = "--compute", defaultValue = "f32", split = ",", paramLabel = "f32|bf16",
            description = {"matmul arithmetic(s), each run in turn (default ${DEFAULT-VALUE}); bf16 (BF16 weights only) also reports its",
                    "error against f32 on the same weights and runs the PyTorch-CPU BF16 peer scripts/bench_layer_torch.py"})
    List<String> computes;

    @Option(names = "--torch-python", defaultValue = "/usr/bin/python3", description = "python with torch for the bf16 peer (default ${DEFAULT-VALUE})")
    String torchPython;

    /** The layer output (resid_post) of the last {@link #runJava} call. */
    private float[] lastOut;
    /** The layer input (scaled embeddings) of the last {@link #runJava} call. */
    private float[] lastIn;

    @Override
    public Integer call() throws Exception {
        if (tokens <= 0 || runs <= 0 || warmup < 0) throw new IllegalArgumentException("--tokens and --runs must be positive");
        Ops o = OpsChoice.byName(ops);
        PrintWriter out = spec.commandLine().getOut();
        String loadBefore = load();
        out.printf(Locale.ROOT, "Gemma-2-2B layer, T=%d tokens, ops=%s, %d warm-up + %d timed runs, %d cores, load %s%n",
                tokens, o.name(), warmup, runs, Runtime.getRuntime().availableProcessors(), loadBefore);
        out.flush();
        for (String d : dtypes) {
            DType dt = switch (d.toLowerCase(Locale.ROOT)) {
                case "bf16" -> DType.BF16;
                case "f32" -> DType.F32;
                case "f16" -> DType.F16;
                default -> throw new IllegalArgumentException("--dtype " + d + " (bf16, f32 or f16)");
            };
            float[] f32Out = null;
            for (String cs : computes) {
                msts.engine.Compute c = msts.engine.Compute.parse(cs);
                if (c == msts.engine.Compute.BF16 && dt != DType.BF16) {
                    out.printf("  (--compute bf16 applies to BF16 weights; skipped for %s)%n", dt);
                    continue;
                }
                List<Ops> variants = c == msts.engine.Compute.F32 ? List.of(o)
                        : msts.engine.bf16.Bf16Native.load().isPresent()
                        ? List.of(msts.engine.bf16.Bf16Ops.of(o, msts.engine.bf16.Bf16Ops.Kernel.NATIVE), msts.engine.bf16.Bf16Ops.of(o, msts.engine.bf16.Bf16Ops.Kernel.VECTOR))
                        : List.of(c.apply(o));
                for (Ops oc : variants) {
                double[] s = runJava(oc, dt);
                out.printf(Locale.ROOT, "  msts  %-5s weights, %-4s compute: median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)  [%s]%n",
                        dt, c.name().toLowerCase(Locale.ROOT), s[0] * 1e3, s[1] * 1e3, tokens / s[0], oc.name());
                if (c == msts.engine.Compute.F32) f32Out = lastOut.clone();
                else if (f32Out != null) {
                    double[] e = relErr(lastOut, f32Out);
                    float[] u16 = lastOut.clone(), u32 = f32Out.clone();
                    for (int i = 0; i < u16.length; i++) {
                        u16[i] -= lastIn[i];
                        u32[i] -= lastIn[i];
                    }
                    double[] eu = relErr(u16, u32);
                    out.printf(Locale.ROOT, "        bf16 vs f32 compute: layer update (out − in) rel. RMS error %.3g, max |Δ| %.3g (update RMS %.3g);"
                                    + " layer output rel. RMS %.3g (output RMS %.3g)%n", eu[0], eu[1], eu[2], e[0], e[2]);
                }
                out.flush();
                }
            }
        }
        if (!noPeer && computes.stream().anyMatch(cs -> msts.engine.Compute.parse(cs) == msts.engine.Compute.BF16)) {
            out.println("  " + runTorchPeer());
            out.flush();
        }
        if (!noPeer) {
            for (String th : peerThreads) {
                out.println("  " + runPeer(th));
                out.flush();
            }
        }
        out.printf("load after: %s%n", load());
        out.flush();
        return 0;
    }

    /** Median and best seconds of one layer forward. */
    double[] runJava(Ops o, DType dt) {
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
        lastIn = new float[tokens * H];
        msts.engine.Kernels.embed(lastIn, ids, embed, H, m.embedScale());
        Gemma2.Options opts = new Gemma2.Options(0, new int[]{0}, null, Gemma2.LogitsMode.NONE);
        for (int i = 0; i < warmup; i++) m.forward(new int[][]{ids}, opts);
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            lastOut = m.forward(new int[][]{ids}, opts).resid()[0][0];
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        double best = Arrays.stream(t).min().orElseThrow();
        Arrays.sort(t);
        return new double[]{t[t.length / 2], best};
    }

    /** Uniform values in [-a·√3, a·√3] (std a) from a cheap hash, written in place (no heap copy). */
    static Tensor random(DType dt, float std, long seed, long... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        float k = (float) (std * Math.sqrt(3) / (1L << 23));
        for (long i = 0, n = t.numel(); i < n; i++) {
            s ^= s << 13; s ^= s >>> 7; s ^= s << 17;
            t.set(i, ((int) (s >>> 40) - (1 << 23)) * k);
        }
        return t;
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

    /** scripts/bench_layer_torch.py: the same layer in torch.bfloat16, as many threads as msts. */
    String runTorchPeer() {
        Path numpyScript = peerScript != null ? peerScript : findScript();
        Path script = numpyScript == null ? Path.of("scripts", "bench_layer_torch.py") : numpyScript.resolveSibling("bench_layer_torch.py");
        if (!Files.isRegularFile(script)) return "torch peer: scripts/bench_layer_torch.py not found";
        List<String> cmd = List.of(torchPython, script.toString(), "--tokens", Integer.toString(tokens), "--runs", Integer.toString(runs),
                "--warmup", Integer.toString(warmup), "--threads", Integer.toString(msts.engine.Parallel.threads()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String txt = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) return "torch peer failed: " + txt;
            JsonNode j = new ObjectMapper().readTree(txt.lines().reduce((a, b) -> b).orElse(""));
            return String.format(Locale.ROOT, "torch bf16  weights, bf16 model  : median %8.1f ms  best %8.1f ms  → %8.1f tokens/s (median)  [torch %s, %d threads]",
                    j.get("median_s").asDouble() * 1e3, j.get("best_s").asDouble() * 1e3, j.get("tokens_per_s").asDouble(),
                    j.path("torch").asText(), j.path("threads").asInt());
        } catch (Exception e) {
            return "torch peer failed: " + e;
        }
    }

    String runPeer(String threads) {
        Path script = peerScript != null ? peerScript : findScript();
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
            Path jar = Path.of(BenchLayerCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = jar.getParent(); p != null; p = p.getParent()) cands.add(p.resolve("scripts/bench_layer_numpy.py"));
        } catch (Exception ignored) { }
        for (Path p : cands) if (Files.isRegularFile(p)) return p;
        return null;
    }

    static String load() {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", l);
    }
}
