package msts.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.model.gemma.Gemma2Config;
import msts.model.train.AdamW;
import msts.model.train.Gemma2Backprop;
import msts.model.train.LmParams;
import msts.model.train.LmTrainConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Language-model training benchmark ({@code msts bench lm}): Gemma-2 training steps (forward, cross-entropy,
 * backward, clipping, AdamW) in msts and in PyTorch-CPU (scripts/lm_train_torch.py, same initial weights,
 * same token rows, same optimizer settings) run back to back; reports the median step time of each as
 * tokens/s, their ratio, tokens per CPU-second of each process (on a shared machine the wall-clock rate
 * depends on the load, the CPU-time rate much less) and the largest difference between the two loss
 * trajectories (a cross-check that both train the same model).
 */
public final class LmTrainBench {
    /** Model shape, batch, steps and the peer. */
    public record Options(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, int context,
                          int window, int batch, int steps, int warmup, float lr, long seed, int threads,
                          boolean peer, String python, Path peerScript) {}

    private final int vocab, hidden, layers, heads, kvHeads, intermediate, context, window, batch, steps, warmup, threads;
    private final float lr;
    private final long seed;
    private final boolean noPeer;
    private final String python;
    private final Path peerScript;

    public LmTrainBench(Options o) {
        vocab = o.vocab(); hidden = o.hidden(); layers = o.layers(); heads = o.heads(); kvHeads = o.kvHeads();
        intermediate = o.intermediate(); context = o.context(); window = o.window(); batch = o.batch();
        steps = o.steps(); warmup = o.warmup(); threads = o.threads(); lr = o.lr(); seed = o.seed();
        noPeer = !o.peer(); python = o.python(); peerScript = o.peerScript();
    }

    static final ObjectMapper JSON = new ObjectMapper();

    /** Runs msts, then the peer, printing to {@code System.out}. */
    public void run(Ops ops) throws Exception {
        int hd = hidden / heads;
        Gemma2Config cfg = new Gemma2Config(vocab, hidden, intermediate, layers, heads, kvHeads, hd, 1e-6f, 10000f, hd,
                50f, 30f, window, 2, 1, 0, true, false, "gelu_pytorch_tanh", null, "float32");
        int total = warmup + steps;
        LmTrainConfig tc = new LmTrainConfig(total, batch, lr, 2, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, seed, 0.02f, 0);
        LmParams p = LmParams.initialize(cfg, seed, 0.02f);
        SplittableRandom r = new SplittableRandom(seed + 1);
        int[][][] rows = new int[total][batch][context];
        for (int[][] b : rows)
            for (int[] row : b) {
                row[0] = 2;
                for (int t = 1; t < context; t++) row[t] = 3 + r.nextInt(vocab - 3);
            }
        Path dir = Files.createTempDirectory("msts-bench-lm");
        try {
            p.writeModel(dir.resolve("model"), Map.of());
            Files.writeString(dir.resolve("rows.json"), JSON.writeValueAsString(rows));
            System.out.printf(Locale.ROOT, "msts bench lm: %s, %d parameters; batch %d × %d tokens; %d timed steps after %d warm-up; msts %s ops, %d threads; load %s%n",
                    cfg, p.size(), batch, context, steps, warmup, ops.name(), Parallel.threads(), loadAvg());
            double[] ours = runOurs(ops, p, tc, rows);
            double oursTps = batch * context / median(Arrays.copyOfRange(ours, warmup, total));
            System.out.printf(Locale.ROOT, "msts     %8.0f tokens/s  (median %.3f s/step; %.0f tokens per CPU-second)  losses %.4f → %.4f%n",
                    oursTps, median(Arrays.copyOfRange(ours, warmup, total)), batch * context * steps / cpuOurs, lossesOurs[0], lossesOurs[total - 1]);
            if (!noPeer) {
                JsonNode peer = runPeer(dir, tc);
                if (peer != null) {
                    double med = peer.get("median_step_seconds").asDouble();
                    double maxDiff = 0;
                    for (int i = 0; i < total; i++) maxDiff = Math.max(maxDiff, Math.abs(peer.get("losses").get(i).asDouble() - lossesOurs[i]));
                    System.out.printf(Locale.ROOT, "pytorch  %8.0f tokens/s  (median %.3f s/step; %.0f tokens per CPU-second; %d threads, torch %s)  losses %.4f → %.4f%n",
                            batch * context / med, med, batch * context * steps / peer.get("timed_cpu_seconds").asDouble(), threads,
                            peer.get("torch").asText(), peer.get("losses").get(0).asDouble(),
                            peer.get("losses").get(total - 1).asDouble());
                    System.out.printf(Locale.ROOT, "msts/pytorch %.2f×   max |Δloss| over %d steps %.2e%n", oursTps / (batch * context / med), total, maxDiff);
                }
            }
            System.out.println("load after: " + loadAvg());
        } finally {
            try (var s = Files.walk(dir)) {
                for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
            }
        }
    }

    private double[] lossesOurs;
    private double cpuOurs;

    /** Seconds of each step (warm-up included); records the losses. */
    private double[] runOurs(Ops ops, LmParams p, LmTrainConfig tc, int[][][] rows) {
        int total = rows.length;
        Gemma2Backprop bp = new Gemma2Backprop(p.config(), ops, batch, context, false);
        AdamW adam = new AdamW(p);
        float[] grad = new float[p.size()];
        double[] sec = new double[total];
        lossesOurs = new double[total];
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = 0;
        for (int s = 0; s < total; s++) {
            if (s == warmup) cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            lossesOurs[s] = bp.lossAndGradient(p.data(), p, rows[s], grad);
            double norm = AdamW.globalNorm(grad);
            AdamW.clip(grad, norm, tc.clip());
            adam.step(p.data(), grad, s + 1, tc.lrAt(s), tc);
            sec[s] = (System.nanoTime() - t0) / 1e9;
        }
        cpuOurs = (os.getProcessCpuTime() - cpu0) / 1e9;
        return sec;
    }

    private JsonNode runPeer(Path dir, LmTrainConfig tc) throws Exception {
        if (!Files.isRegularFile(peerScript)) {
            System.out.println("pytorch  skipped: " + peerScript + " not found (run from the repository root)");
            return null;
        }
        String[] cmd = {python, peerScript.toString(), "--model", dir.resolve("model").toString(), "--rows", dir.resolve("rows.json").toString(),
                "--warmup-steps", Integer.toString(warmup), "--lr", Float.toString(tc.lr()), "--lr-warmup", Integer.toString(tc.warmup()),
                "--weight-decay", Float.toString(tc.weightDecay()), "--clip", Float.toString(tc.clip()), "--threads", Integer.toString(threads)};
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader br = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = br.readLine()) != null) out.append(line).append('\n');
        }
        if (!proc.waitFor(30, TimeUnit.MINUTES) || proc.exitValue() != 0) {
            System.out.println("pytorch  failed: " + out.toString().trim());
            return null;
        }
        String[] lines = out.toString().trim().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }

    private static String loadAvg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "n/a";
        }
    }
}
