package msts.bench;

import msts.engine.CpuOps;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.engine.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Matmul benchmark (not a test): GFLOP/s of {@link CpuOps#matmul} on the Gemma-2-2B projection shapes
 * (2304→9216, 9216→2304, 2304→2048; 1 and 128 rows; F32 and BF16 weights in off-heap segments) and of
 * {@link CpuOps#gemm} on SAE-training shapes, run back to back with the numpy/OpenBLAS peer
 * {@code bench/src/main/resources/msts/bench/numpy_sgemm.py} on the same cases. Each case: warm-up, then timed runs for at least
 * {@code minTime}; the median and the best run are reported. Results: a readable table and JSON.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp msts.jar msts.bench.MatmulBench [--quick] [--no-peer] [--out FILE.json] [--cases REGEX]</pre>
 */
public final class MatmulBench {
    private MatmulBench() {}

    /** One measured case. */
    public record Result(String name, String kind, String dtype, long flops, int runs,
                         double msMedian, double msBest, double gflopsMedian, double gflopsBest) {}

    /** Bench options: quick (shorter runs), peer (run numpy too), a case-name filter, the python command. */
    public record Options(boolean quick, boolean peer, String casesRegex, String python, Path numpyScript) {
        public static Options defaults() { return new Options(false, true, null, "python3", null); }
    }

    /** Everything one run produced. */
    public record Report(List<Result> java, List<Result> peer /* per java row, null when absent */, String peerInfo, String loadBefore,
                         String loadAfter, String peerError) {}

    record Gemm(String name, boolean ta, boolean tb, int m, int n, int k) {}

    static final int[][] MATMUL = {{2304, 9216}, {9216, 2304}, {2304, 2048}};
    static final int[] ROWS = {1, 128};
    static final Gemm[] GEMM = {
            new Gemm("gemm_NN_4096x2304x2304", false, false, 4096, 2304, 2304),
            new Gemm("gemm_NN_1024x16384x2304", false, false, 1024, 16384, 2304),
            new Gemm("gemm_TN_2304x16384x1024", true, false, 2304, 16384, 1024),
            new Gemm("gemm_NT_1024x2304x16384", false, true, 1024, 2304, 16384),
    };

    /**
     * Runs every selected case in Java and, right after each, the numpy peer on the same case (a fresh
     * python process per case), so both see the same machine load.
     */
    public static Report run(Options opt, PrintStream log) {
        Predicate<String> want = opt.casesRegex() == null || opt.casesRegex().isBlank()
                ? s -> true : Pattern.compile(opt.casesRegex()).asPredicate();
        String loadBefore = loadAverage();
        List<Result> peer = new ArrayList<>();
        String[] info = {null, null}; // peer info, peer error
        List<Result> java = runJava(opt, want, log, r -> {
            if (!opt.peer() || info[1] != null) {
                peer.add(null);
                return;
            }
            try {
                String json = runNumpy(opt, List.of(r.name().replace("_BF16", "_F32")), log);
                Result p = parsePeer(json).get(0);
                log.println(line(p) + "  [numpy]");
                peer.add(p);
                if (info[0] == null) info[0] = peerInfo(json);
            } catch (IOException | RuntimeException e) {
                info[1] = e.getMessage();
                peer.add(null);
                log.println("numpy peer failed: " + e.getMessage());
            }
        });
        return new Report(java, peer, info[0], loadBefore, loadAverage(), info[1]);
    }

    static List<Result> runJava(Options opt, Predicate<String> want, PrintStream log, Consumer<Result> after) {
        Ops ops = CpuOps.INSTANCE;
        Random rnd = new Random(0);
        List<Result> out = new ArrayList<>();
        double minTime = opt.quick() ? 0.3 : 1.0;
        int minRuns = opt.quick() ? 3 : 5, warm = opt.quick() ? 2 : 4;
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : MATMUL) {
                int in = s[0], outDim = s[1];
                for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                    boolean any = false;
                    for (int rows : ROWS) any |= want.test(matmulName(in, outDim, rows, dt));
                    if (!any) continue;
                    Tensor w = Tensor.allocate(arena, dt, outDim, in);
                    for (long i = 0; i < (long) outDim * in; i++) w.set(i, (float) rnd.nextGaussian());
                    for (int rows : ROWS) {
                        String name = matmulName(in, outDim, rows, dt);
                        if (!want.test(name)) continue;
                        float[] x = gaussian(rnd, rows * in), y = new float[rows * outDim];
                        Result r = time(name, "matmul", dt.name(), 2L * rows * in * outDim,
                                () -> ops.matmul(y, x, w, rows), minTime, minRuns, warm);
                        log.println(line(r));
                        out.add(r);
                        after.accept(r);
                    }
                }
            }
        }
        for (Gemm g : GEMM) {
            if (!want.test(g.name())) continue;
            float[] a = gaussian(rnd, g.m() * g.k()), b = gaussian(rnd, g.k() * g.n()), c = new float[g.m() * g.n()];
            int lda = g.ta() ? g.m() : g.k(), ldb = g.tb() ? g.k() : g.n();
            Result r = time(g.name(), "gemm", "F32", 2L * g.m() * g.n() * g.k(),
                    () -> ops.gemm(g.ta(), g.tb(), g.m(), g.n(), g.k(), 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, g.n()),
                    minTime, Math.max(3, minRuns - 2), Math.max(1, warm - 2));
            log.println(line(r));
            out.add(r);
            after.accept(r);
        }
        return out;
    }

    static String matmulName(int in, int out, int rows, DType dt) {
        return "matmul_" + in + "x" + out + "_r" + rows + "_" + dt;
    }

    static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static Result time(String name, String kind, String dtype, long flops, Runnable body,
                       double minTime, int minRuns, int warm) {
        // warm-up: at least `warm` calls and 1 s, so C2 has compiled the kernels (interpreted Vector API
        // code is orders of magnitude slower, and on a loaded machine the compiler threads are slow too)
        long w0 = System.nanoTime();
        for (int i = 0; i < warm || System.nanoTime() - w0 < Math.max(1.0, minTime) * 1e9; i++) body.run();
        List<Long> ns = new ArrayList<>();
        long start = System.nanoTime();
        while (ns.size() < minRuns || (System.nanoTime() - start) < minTime * 1e9) {
            long t0 = System.nanoTime();
            body.run();
            ns.add(System.nanoTime() - t0);
            if (ns.size() >= 1000) break;
        }
        ns.sort(null);
        double med = ns.get(ns.size() / 2) / 1e9, best = ns.get(0) / 1e9;
        return new Result(name, kind, dtype, flops, ns.size(), med * 1e3, best * 1e3, flops / med / 1e9, flops / best / 1e9);
    }

    static String line(Result r) {
        return String.format(Locale.ROOT, "  %-28s %8.3f ms  %7.1f GFLOP/s (best %.1f, %d runs)",
                r.name(), r.msMedian(), r.gflopsMedian(), r.gflopsBest(), r.runs());
    }

    // ---- numpy peer -----------------------------------------------------------------------------------

    /** The peer script: --numpy-script, else bench/src/main/resources/msts/bench/numpy_sgemm.py above the working directory, else the jar's copy. */
    static Path numpyScript(Options opt) throws IOException {
        if (opt.numpyScript() != null) return opt.numpyScript();
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("bench/src/main/resources/msts/bench/numpy_sgemm.py");
            if (Files.isRegularFile(p)) return p;
        }
        try (InputStream in = MatmulBench.class.getResourceAsStream("/msts/bench/numpy_sgemm.py")) {
            if (in == null) throw new IOException("numpy_sgemm.py not found (pass --numpy-script)");
            Path tmp = Files.createTempFile("msts-numpy-sgemm", ".py");
            tmp.toFile().deleteOnExit();
            Files.write(tmp, in.readAllBytes());
            return tmp;
        }
    }

    static String runNumpy(Options opt, List<String> cases, PrintStream log) throws IOException {
        Path script = numpyScript(opt);
        List<String> cmd = new ArrayList<>(List.of(opt.python(), script.toString(), "--cases", String.join(",", cases)));
        if (opt.quick()) cmd.add("--quick");
        log.println("numpy peer: " + String.join(" ", cmd));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        // the peer gets as many BLAS threads as the Java side has (-Dmsts.threads), unless set explicitly
        for (String v : new String[] {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"})
            pb.environment().putIfAbsent(v, Integer.toString(Parallel.threads()));
        Process p = pb.start();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("numpy peer timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) throw new IOException("numpy peer exited with " + p.exitValue());
        return json;
    }

    private static final Pattern OBJ = Pattern.compile("\\{[^{}]*\"name\"[^{}]*}");

    /** Minimal reader for the peer's flat result objects (no JSON library in engine/). */
    static List<Result> parsePeer(String json) {
        List<Result> out = new ArrayList<>();
        Matcher m = OBJ.matcher(json);
        while (m.find()) {
            String o = m.group();
            out.add(new Result(str(o, "name"), str(o, "kind"), str(o, "dtype"), 0, (int) num(o, "runs"),
                    num(o, "ms_median"), num(o, "ms_best"), num(o, "gflops_median"), num(o, "gflops_best")));
        }
        if (out.isEmpty()) throw new IllegalStateException("numpy peer printed no results");
        return out;
    }

    static String peerInfo(String json) {
        StringBuilder sb = new StringBuilder();
        for (String key : new String[] {"numpy", "blas", "blas_version"}) {
            String v = str(json, key);
            if (v != null) sb.append(sb.isEmpty() ? "" : ", ").append(key).append(' ').append(v);
        }
        return sb.toString();
    }

    private static String str(String o, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(o);
        return m.find() ? m.group(1) : null;
    }

    private static double num(String o, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*([-0-9.eE+]+)").matcher(o);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    // ---- output -------------------------------------------------------------------------------------

    static Result peerFor(Report rep, int i) {
        return i < rep.peer().size() ? rep.peer().get(i) : null;
    }

    /** Side-by-side table: Java median GFLOP/s, numpy median GFLOP/s, ratio. */
    public static String table(Report rep) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-28s %-5s %9s %9s %9s %9s %9s %7s %7s%n",
                "case", "dtype", "java ms", "java GF/s", "(best)", "numpy GF/s", "(best)", "ratio", "(best)"));
        for (int i = 0; i < rep.java().size(); i++) {
            Result j = rep.java().get(i), p = peerFor(rep, i);
            sb.append(String.format(Locale.ROOT, "%-28s %-5s %9.3f %9.1f %9.1f %9s %9s %7s %7s%n", j.name(), j.dtype(),
                    j.msMedian(), j.gflopsMedian(), j.gflopsBest(),
                    p == null ? "-" : String.format(Locale.ROOT, "%.1f", p.gflopsMedian()),
                    p == null ? "-" : String.format(Locale.ROOT, "%.1f", p.gflopsBest()),
                    p == null ? "-" : String.format(Locale.ROOT, "%.2f", j.gflopsMedian() / p.gflopsMedian()),
                    p == null ? "-" : String.format(Locale.ROOT, "%.2f", j.gflopsBest() / p.gflopsBest())));
        }
        sb.append("GF/s = median over timed runs (best = fastest run); ratio = java / numpy; numpy runs right after each\n"
                + "java case on the same shape (F32 sgemm, also for the BF16 rows: numpy has no bf16 matmul)\n");
        sb.append("threads: java ").append(Parallel.threads()).append("; load before ").append(rep.loadBefore())
                .append(", after ").append(rep.loadAfter()).append('\n');
        if (rep.peerInfo() != null) sb.append("peer: ").append(rep.peerInfo()).append('\n');
        if (rep.peerError() != null) sb.append("peer failed: ").append(rep.peerError()).append('\n');
        return sb.toString();
    }

    public static String json(Report rep) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"java\": \"").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.version")).append("\",\n");
        sb.append("  \"threads\": ").append(Parallel.threads()).append(",\n");
        sb.append("  \"load_before\": \"").append(rep.loadBefore()).append("\",\n");
        sb.append("  \"load_after\": \"").append(rep.loadAfter()).append("\",\n");
        sb.append("  \"peer\": ").append(rep.peerInfo() == null ? "null" : "\"" + rep.peerInfo() + "\"").append(",\n");
        sb.append("  \"results\": [\n");
        for (int i = 0; i < rep.java().size(); i++) {
            Result j = rep.java().get(i);
            Result p = peerFor(rep, i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", j.name());
            m.put("kind", j.kind());
            m.put("dtype", j.dtype());
            m.put("flops", j.flops());
            m.put("runs", j.runs());
            m.put("ms_median", j.msMedian());
            m.put("gflops_median", j.gflopsMedian());
            m.put("gflops_best", j.gflopsBest());
            m.put("numpy_gflops_median", p == null ? null : p.gflopsMedian());
            m.put("numpy_gflops_best", p == null ? null : p.gflopsBest());
            m.put("ratio_median", p == null ? null : j.gflopsMedian() / p.gflopsMedian());
            m.put("ratio_best", p == null ? null : j.gflopsBest() / p.gflopsBest());
            sb.append("    {");
            int f = 0;
            for (var e : m.entrySet()) {
                if (f++ > 0) sb.append(", ");
                sb.append('"').append(e.getKey()).append("\": ");
                Object v = e.getValue();
                if (v == null) sb.append("null");
                else if (v instanceof String s) sb.append('"').append(s).append('"');
                else if (v instanceof Double d) sb.append(String.format(Locale.ROOT, "%.4f", d));
                else sb.append(v);
            }
            sb.append(i + 1 < rep.java().size() ? "},\n" : "}\n");
        }
        sb.append("  ]\n}\n");
        return sb.toString();
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    public static void main(String[] args) throws IOException {
        boolean quick = false, peer = true;
        String cases = null, python = "python3";
        Path out = null, script = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--no-peer" -> peer = false;
                case "--cases" -> cases = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--python" -> python = args[++i];
                case "--numpy-script" -> script = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Report rep = run(new Options(quick, peer, cases, python, script), System.out);
        System.out.println();
        System.out.print(table(rep));
        if (out != null) {
            Files.writeString(out, json(rep));
            System.out.println("wrote " + out);
        }
    }
}
