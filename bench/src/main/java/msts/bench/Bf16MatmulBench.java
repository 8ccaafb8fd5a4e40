package msts.bench;

import msts.engine.CpuOps;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.engine.Tensor;
import msts.engine.bf16.Bf16Native;
import msts.engine.bf16.Bf16Ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * {@code msts bench matmul --compute bf16}: per Gemma-2-2B projection shape (1 and 128 rows), back to back,
 * the GFLOP/s of msts's F32 compute (F32 weights; BF16 weights widened), of BF16 compute ({@link Bf16Ops}:
 * the native AVX512_BF16 kernel and the Vector API fallback), and of the PyTorch-CPU BF16 peer
 * {@code bench/src/main/resources/msts/bench/torch_bf16_matmul.py} (torch.matmul on bfloat16 tensors, as many threads as msts), so that
 * all see the same machine load: the msts variants run interleaved, one call each per round. Medians and best runs.
 */
public final class Bf16MatmulBench {
    private Bf16MatmulBench() {}

    /** One shape: median GFLOP/s of each variant (NaN when not run) and torch's. */
    public record Row(String name, double f32w, double bf16wF32, double bf16Native, double bf16Vector, double torch,
                      double torchBest, double nativeBest) {}

    public record Report(List<Row> rows, String loadBefore, String loadAfter, String peerInfo, String nativeInfo) {}

    public static Report run(boolean quick, boolean peer, String casesRegex, String python, PrintStream log) {
        Predicate<String> want = casesRegex == null || casesRegex.isBlank() ? s -> true : Pattern.compile(casesRegex).asPredicate();
        String loadBefore = MatmulBench.loadAverage();
        Ops cpu = CpuOps.INSTANCE;
        Ops vec = Bf16Ops.of(cpu, Bf16Ops.Kernel.VECTOR);
        Ops nat = Bf16Native.load().isPresent() ? Bf16Ops.of(cpu, Bf16Ops.Kernel.NATIVE) : null;
        double minTime = quick ? 0.3 : 1.0;
        int minRuns = quick ? 3 : 5, warm = quick ? 2 : 4;
        Random rnd = new Random(0);
        List<Row> rows = new ArrayList<>();
        String peerInfo = null;
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : MatmulBench.MATMUL) {
                int in = s[0], outDim = s[1];
                boolean any = false;
                for (int r : MatmulBench.ROWS) any |= want.test(name(in, outDim, r));
                if (!any) continue;
                Tensor wf = Tensor.allocate(arena, DType.F32, outDim, in), wb = Tensor.allocate(arena, DType.BF16, outDim, in);
                for (long i = 0; i < (long) outDim * in; i++) {
                    float v = (float) rnd.nextGaussian();
                    wf.set(i, v);
                    wb.set(i, v);
                }
                for (int r : MatmulBench.ROWS) {
                    String name = name(in, outDim, r);
                    if (!want.test(name)) continue;
                    float[] x = MatmulBench.gaussian(rnd, r * in), y = new float[r * outDim];
                    long flops = 2L * r * in * outDim;
                    List<Runnable> bodies = new ArrayList<>(List.of(() -> cpu.matmul(y, x, wf, r), () -> cpu.matmul(y, x, wb, r),
                            () -> vec.matmul(y, x, wb, r)));
                    if (nat != null) bodies.add(() -> nat.matmul(y, x, wb, r));
                    double[][] ms = interleaved(bodies, minTime, minRuns, warm);
                    String[] what = {"f32 compute, F32 weights", "f32 compute, BF16 weights", "bf16 compute, vector fallback", "bf16 compute, native avx512bf16"};
                    for (int v = 0; v < ms.length; v++)
                        log.printf(Locale.ROOT, "  %-24s %8.3f ms  %7.1f GFLOP/s (best %.1f, %d rounds)  [%s]%n", name, ms[v][0],
                                flops / ms[v][0] / 1e6, flops / ms[v][1] / 1e6, (int) ms[v][2], what[v]);
                    MatmulBench.Result f32 = res(name, flops, ms[0]), bw = res(name, flops, ms[1]), bv = res(name, flops, ms[2]);
                    MatmulBench.Result bn = nat == null ? null : res(name, flops, ms[3]);
                    double tm = Double.NaN, tb = Double.NaN;
                    if (peer) {
                        try {
                            String json = runTorch(python, name, quick, log);
                            MatmulBench.Result t = MatmulBench.parsePeer(json).get(0);
                            log.println(MatmulBench.line(t) + "  [torch bf16]");
                            tm = t.gflopsMedian();
                            tb = t.gflopsBest();
                            if (peerInfo == null) peerInfo = "torch " + str(json, "torch") + ", " + num(json, "threads") + " threads";
                        } catch (IOException | RuntimeException e) {
                            log.println("torch peer failed: " + e.getMessage());
                            peer = false;
                            peerInfo = "torch peer failed: " + e.getMessage();
                        }
                    }
                    rows.add(new Row(name, f32.gflopsMedian(), bw.gflopsMedian(), bn == null ? Double.NaN : bn.gflopsMedian(),
                            bv.gflopsMedian(), tm, tb, bn == null ? Double.NaN : bn.gflopsBest()));
                }
            }
        }
        String ni = Bf16Native.load().isPresent() ? "native kernel: avx512bf16" : "native kernel unavailable: " + Bf16Native.unavailableReason();
        return new Report(rows, loadBefore, MatmulBench.loadAverage(), peerInfo, ni);
    }

    /**
     * Times the bodies in turn, round after round (each round runs every body once), so that all see the same
     * machine load however it drifts (the machine is shared). Warm-up: {@code warm} calls and 1 s per body.
     * Returns per body {median ms, best ms, rounds}.
     */
    static double[][] interleaved(List<Runnable> bodies, double minTime, int minRuns, int warm) {
        for (Runnable b : bodies) {
            long w0 = System.nanoTime();
            for (int i = 0; i < warm || System.nanoTime() - w0 < Math.max(1.0, minTime) * 1e9; i++) b.run();
        }
        List<List<Long>> ns = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) ns.add(new ArrayList<>());
        long start = System.nanoTime();
        while (ns.get(0).size() < minRuns || System.nanoTime() - start < minTime * bodies.size() * 1e9) {
            for (int i = 0; i < bodies.size(); i++) {
                long t0 = System.nanoTime();
                bodies.get(i).run();
                ns.get(i).add(System.nanoTime() - t0);
            }
            if (ns.get(0).size() >= 1000) break;
        }
        double[][] out = new double[bodies.size()][];
        for (int i = 0; i < bodies.size(); i++) {
            List<Long> t = ns.get(i);
            t.sort(null);
            out[i] = new double[]{t.get(t.size() / 2) / 1e6, t.get(0) / 1e6, t.size()};
        }
        return out;
    }

    private static MatmulBench.Result res(String name, long flops, double[] ms) {
        return new MatmulBench.Result(name, "matmul", "BF16", flops, (int) ms[2], ms[0], ms[1], flops / ms[0] / 1e6, flops / ms[1] / 1e6);
    }

    static String name(int in, int out, int rows) { return "matmul_" + in + "x" + out + "_r" + rows; }

    static String runTorch(String python, String name, boolean quick, PrintStream log) throws IOException {
        Path script = script();
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--threads", Integer.toString(Parallel.threads()), "--cases", name));
        if (quick) cmd.add("--quick");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("torch peer timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) throw new IOException("torch peer exited with " + p.exitValue() + " (" + String.join(" ", cmd) + ")");
        return json;
    }

    /** bench/src/main/resources/msts/bench/torch_bf16_matmul.py above the working directory, else the jar's copy. */
    static Path script() throws IOException {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("bench/src/main/resources/msts/bench/torch_bf16_matmul.py");
            if (Files.isRegularFile(p)) return p;
        }
        try (InputStream in = Bf16MatmulBench.class.getResourceAsStream("/msts/bench/torch_bf16_matmul.py")) {
            if (in == null) throw new IOException("bench/src/main/resources/msts/bench/torch_bf16_matmul.py not found");
            Path tmp = Files.createTempFile("msts-torch-bf16", ".py");
            tmp.toFile().deleteOnExit();
            Files.write(tmp, in.readAllBytes());
            return tmp;
        }
    }

    private static String str(String o, String key) {
        var m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(o);
        return m.find() ? m.group(1) : "?";
    }

    private static String num(String o, String key) {
        var m = Pattern.compile("\"" + key + "\"\\s*:\\s*([0-9]+)").matcher(o);
        return m.find() ? m.group(1) : "?";
    }

    public static String table(Report rep) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s %8s %8s %8s %8s %8s | %8s %8s %8s %8s%n", "case (median GF/s)", "f32", "f32/bf16w",
                "bf16", "bf16-vec", "torch", "bf16/f32", "bf16/bfw", "vec/bfw", "bf16/tch"));
        for (Row r : rep.rows())
            sb.append(String.format(Locale.ROOT, "%-24s %8.1f %8.1f %8.1f %8.1f %8.1f | %8.2f %8.2f %8.2f %8.2f%n", r.name(), r.f32w(),
                    r.bf16wF32(), r.bf16Native(), r.bf16Vector(), r.torch(), r.bf16Native() / r.f32w(), r.bf16Native() / r.bf16wF32(),
                    r.bf16Vector() / r.bf16wF32(), r.bf16Native() / r.torch()));
        sb.append("f32 = F32 compute, F32 weights; f32/bf16w = F32 compute, BF16 weights widened; bf16 = --compute bf16, native\n"
                + "AVX512_BF16 kernel; bf16-vec = --compute bf16, Vector API fallback; torch = torch.matmul on bfloat16 (peer, same run)\n");
        sb.append("threads: ").append(Parallel.threads()).append("; ").append(rep.nativeInfo()).append("; load before ")
                .append(rep.loadBefore()).append(", after ").append(rep.loadAfter()).append('\n');
        if (rep.peerInfo() != null) sb.append("peer: ").append(rep.peerInfo()).append('\n');
        return sb.toString();
    }
}
