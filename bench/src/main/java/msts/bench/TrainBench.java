package msts.bench;

import msts.data.BatchSource;
import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.sae.SparsePolicy;
import msts.engine.Parallel;
import msts.sae.SaeConfig;
import msts.sae.SaeTrainer;
import msts.sae.TrainConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Training benchmark ({@code msts bench train}): SAE training-step throughput (forward, loss, backward, Adam)
 * for the baseline ReLU and the temporal SAE (and TopK on request), next to the same step in PyTorch-CPU
 * (scripts/bench_train_torch.py) run back to back. Effective GFLOP/s counts 6·d_in·d_sae per token.
 */
public final class TrainBench {
    /**
     * @param configs d_sae:batch_tokens pairs
     * @param archs   relu, relu-sparse, temporal and/or topk
     */
    public record Options(int dIn, List<String> configs, List<String> archs, int k, int l0, int ctx, int steps,
                          int warmup, boolean peer, String python, Path peerScript, double sparse) {
        /** With the automatic sparse-products policy (sparse = -1). */
        public Options(int dIn, List<String> configs, List<String> archs, int k, int l0, int ctx, int steps,
                       int warmup, boolean peer, String python, Path peerScript) {
            this(dIn, configs, archs, k, l0, ctx, steps, warmup, peer, python, peerScript, -1);
        }
    }

    private final int dIn, k, l0, ctx, steps, warmup;
    private final List<String> configs, archs;
    private final boolean noPeer;
    private final String python;
    private final Path peerScript;
    private final double sparse;

    public TrainBench(Options o) {
        this.dIn = o.dIn();
        this.configs = o.configs();
        this.archs = o.archs();
        this.k = o.k();
        this.l0 = o.l0();
        this.ctx = o.ctx();
        this.steps = o.steps();
        this.warmup = o.warmup();
        this.noPeer = !o.peer();
        this.python = o.python();
        this.peerScript = o.peerScript();
        this.sparse = o.sparse();
    }

    /** Runs every (config, arch) pair on {@code backend}, each next to the peer unless disabled, printing to {@code System.out}. */
    public void run(Backend backend) throws Exception {
        Ops ops = backend.ops();
        System.out.printf(Locale.ROOT, "msts bench train: d_in %d, ops %s, %d threads, %d timed step(s) after %d warm-up; load %s%n",
                dIn, ops.name(), Parallel.threads(), steps, warmup, loadAvg());
        for (String c : configs) {
            String[] kv = c.split(":");
            int dSae = Integer.parseInt(kv[0].trim()), batch = Integer.parseInt(kv[1].trim());
            for (String arch : archs) {
                double flopPerTok = 6.0 * dIn * dSae;
                double[] ours = runOurs(backend, arch, dSae, batch);
                System.out.printf(Locale.ROOT, "%-8s d_sae %5d batch %4d  msts    %8.1f tok/s  %6.1f GFLOP/s  (%.3f s/step, L0 %.0f)%n",
                        arch, dSae, batch, ours[0], ours[0] * flopPerTok / 1e9, ours[1], lastL0);
                if (!noPeer) {
                    double[] theirs = runPeer(arch, dSae, batch);
                    if (theirs == null) continue;
                    System.out.printf(Locale.ROOT, "%-8s d_sae %5d batch %4d  pytorch %8.1f tok/s  %6.1f GFLOP/s  (%.3f s/step)  msts/pytorch %.2f×%n",
                            arch, dSae, batch, theirs[0], theirs[0] * flopPerTok / 1e9, theirs[1], ours[0] / theirs[0]);
                }
                System.out.flush();
            }
        }
        System.out.println("load after: " + loadAvg());
    }

    private double lastL0;

    /** Returns {counted tokens/s, seconds per step} over the timed steps. */
    private double[] runOurs(Backend backend, String arch, int dSae, int batch) throws Exception {
        String archName = "relu-sparse".equals(arch) ? "standard" : arch;
        SaeConfig c = SaeConfig.builder().dIn(dIn).dSae(dSae).architecture(archName)
                .activation("topk".equals(arch) ? "topk" : "relu").k(k).l1Coefficient(5f).build();
        boolean temporal = "temporal".equals(arch);
        int T = temporal ? ctx : 1, nSeq = temporal ? Math.max(1, Math.round((float) batch / ctx)) : batch;
        float[] data = new float[nSeq * T * dIn];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < data.length; i++) data[i] = (float) (r.nextDouble() * 2 - 1);
        BatchSource src = new BatchSource() {
            public int dIn() { return dIn; }
            public int seqLen() { return T; }
            public int lossStart() { return temporal ? 1 : 0; }
            public int rows() { return nSeq * T; }
            public void fill(long index, float[] x) { System.arraycopy(data, 0, x, 0, data.length); }
        };
        TrainConfig t = TrainConfig.builder().totalTokens((long) (warmup + steps) * src.countedRows()).normalize(false)
                .lrWarmupSteps(0).initEncoderBias(encoderBias(arch, dSae)).products(new SparsePolicy(sparse)).build();
        double[] times = new double[warmup + steps];
        var summary = new SaeTrainer(c, t, backend, null).quiet(true).recordStepTimes(times).train(src, false);
        lastL0 = summary.fin().l0();
        double s = 0;
        for (int i = warmup; i < times.length; i++) s += times[i];
        s /= steps;
        return new double[]{src.countedRows() / s, s};
    }

    private double[] runPeer(String arch, int dSae, int batch) {
        if (!Files.isRegularFile(peerScript)) {
            System.out.println("  (peer skipped: " + peerScript + " not found; run from the repository root or pass --peer-script)");
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of(python, peerScript.toString(), "--d-in", "" + dIn, "--d-sae", "" + dSae,
                "--batch", "" + batch, "--arch", "relu-sparse".equals(arch) ? "relu" : arch, "--ctx", "" + ctx, "--steps", "" + steps, "--warmup", "" + warmup, "--k", "" + k,
                "--b-enc-init", "" + encoderBias(arch, dSae),
                "--threads", "" + Runtime.getRuntime().availableProcessors()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            StringBuilder outText = new StringBuilder();
            String json = null;
            try (BufferedReader br = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = br.readLine()) != null; ) {
                    outText.append(line).append('\n');
                    if (line.startsWith("{")) json = line;
                }
            }
            if (!p.waitFor(2, TimeUnit.HOURS) || p.exitValue() != 0 || json == null) {
                System.out.println("  (peer failed: " + outText.toString().strip().lines().reduce((a, b) -> b).orElse("no output") + ")");
                return null;
            }
            var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            return new double[]{m.get("tokens_per_s").asDouble(), m.get("seconds_per_step").asDouble()};
        } catch (Exception e) {
            System.out.println("  (peer unavailable: " + e.getMessage() + ")");
            return null;
        }
    }

    /**
     * relu-sparse: the initial b_enc giving about l0 active latents per token. At init, pre_j = x·W_enc[:, j]
     * with x uniform in [−1, 1] (variance 1/3) and encoder columns of norm 0.1, so pre_j ~ N(0, σ²) with
     * σ = 0.1/sqrt(3); P(pre_j + b > 0) = l0/d_sae for b = −σ·Φ⁻¹(1 − l0/d_sae). Other archs: 0.
     */
    public float encoderBias(String arch, int dSae) {
        if (!"relu-sparse".equals(arch)) return 0f;
        double p = Math.min(0.5, (double) l0 / dSae), lo = 0, hi = 10;
        for (int i = 0; i < 100; i++) {           // Φ⁻¹(1 − p) by bisection on the upper tail
            double mid = (lo + hi) / 2;
            if (upperTail(mid) > p) lo = mid; else hi = mid;
        }
        return (float) (-0.1 / Math.sqrt(3) * lo);
    }

    /** 1 − Φ(z) for z ≥ 0 (Abramowitz–Stegun 26.2.17, |error| < 7.5e-8). */
    public static double upperTail(double z) {
        double t = 1 / (1 + 0.2316419 * z);
        double poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI) * poly;
    }

    private static String loadAvg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "n/a";
        }
    }
}
