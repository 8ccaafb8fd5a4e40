package msts.tornado.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

import msts.engine.CpuOps;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import msts.sae.SaeConfig;
import msts.sae.SaeKernels;
import msts.sae.AbstractSae;
import msts.sae.SaeRegistry;
import msts.sae.SparsePolicy;
import msts.sae.SaeParams;
import msts.tornado.Gemma2Plan;
import msts.tornado.Gemma2Plans;
import msts.tornado.SaeTrainPlan;
import msts.tornado.TornadoOps;
import msts.tornado.TornadoOptions;
import msts.tornado.TornadoRuntimeInfo;

/**
 * Kernel and plan times on the TornadoVM device next to the CPU backend ({@link CpuOps}, Vector API) in the
 * same process and run. Median wall time of {@code reps} calls after {@code warm} warm-up calls (compilation
 * excluded; host↔device copies of the per-call inputs and outputs included). Run under the SDK:
 * <pre>java @$TORNADOVM_HOME/tornado-argfile @tornado-config/flags/common.flags -cp cli/target/msts.jar:tornado/target/msts-tornado-*.jar msts.tornado.bench.TornadoBench</pre>
 * Results and the command: docs/tornado.md.
 */
public final class TornadoBench {
    private TornadoBench() {}

    interface Body { void run() throws Exception; }

    static double medianMs(int warm, int reps, Body b) throws Exception {
        for (int i = 0; i < warm; i++) b.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            b.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    static void row(String what, double dev, double cpu) {
        System.out.printf(Locale.ROOT, "| %-52s | %10.2f | %10.2f | %6.2f |%n", what, dev, cpu, cpu / dev);
    }

    public static void main(String[] args) throws Exception {
        String why = TornadoRuntimeInfo.unavailableReason();
        if (why != null) {
            System.err.println("TornadoBench: " + why);
            System.exit(2);
        }
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        var dev = TornadoRuntimeInfo.devices().get(0);
        System.out.println("device " + dev.id() + " " + dev.name() + " [" + dev.description() + "], CPU backend: CpuOps ("
                + Runtime.getRuntime().availableProcessors() + " cores)");
        System.out.println("| op (median of " + reps + ") | TornadoVM ms | CPU ms | CPU/TornadoVM |");
        System.out.println("|---|---:|---:|---:|");
        Ops cpu = CpuOps.INSTANCE;
        Random r = new Random(1);

        // matmul: x [rows, 2304] · Wᵀ, W [2304, 2304] (Gemma-2-2B hidden), F32 and BF16 weights
        for (DType dt : new DType[]{DType.F32, DType.BF16}) {
            int rows = 64, in = 2304, out = 2304;
            Tensor w = Tensor.allocate(dt, out, in);
            for (long i = 0; i < w.numel(); i++) w.set(i, (float) r.nextGaussian() * 0.02f);
            float[] x = new float[rows * in], o = new float[rows * out];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            TornadoOps tops = new TornadoOps(cpu, null);
            double d = medianMs(2, reps, () -> tops.matmul(o, x, w, rows));
            double c = medianMs(2, reps, () -> cpu.matmul(o, x, w, rows));
            row("matmul " + dt + " 64×2304 · (2304×2304)ᵀ (op by op)", d, c);
            tops.close();
        }

        // one Gemma-2-2B-sized layer (BF16 weights, hidden 2304, 8/4 heads × 256, MLP 9216), 1 × 64 tokens
        Path tmp = Files.createTempDirectory("msts-bench");
        var spec = new TinyGemma2.Spec(1024, 2304, 9216, 1, 8, 4, 256, 4096, 50f, 30f, 256f, 10000f, DType.BF16, 0.5f, 1f);
        Path ckpt = TinyGemma2.write(tmp.resolve("layer"), spec, 5);
        try (Gemma2 model = Gemma2.load(ckpt, cpu)) {
            int T = 64;
            int[][] batch = new int[1][T];
            for (int t = 0; t < T; t++) batch[0][t] = r.nextInt(1024);
            try (Gemma2Plan plan = Gemma2Plans.create(model, 1, T, 0, new int[0], false, null, TornadoOptions.Matmul.AUTO)) {
                float[] emb = Gemma2Plans.embed(model, batch);
                double d = medianMs(1, reps, () -> plan.forward(emb));
                double c = medianMs(1, reps, () -> model.forward(batch, Gemma2.Options.residAt(0)));
                row("Gemma-2-2B layer, BF16, 64 tokens (layer plan)", d, c);
            }
        }

        // SAE training step: d_in 2304, d_sae 4096, 2 × 32 tokens, ReLU and temporal
        for (String arch : new String[]{"relu", "temporal"}) {
            int d = 2304, n = 4096, nSeq = 2, T = 32;
            SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture(arch).activation("relu").build();
            SaeParams p = new SaeParams(d, n, cfg.nScales());
            for (float[] a : p.arrays()) for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian() * 0.02f;
            SaeParams g = p.zerosLike(), m = p.zerosLike(), v = p.zerosLike();
            float[] x = new float[nSeq * T * d];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            var s = new SaeTrainPlan.Spec(d, n, nSeq, T, 1, cfg.temporal() ? cfg.dilations() : new int[0], false, false,
                    0.9f, 0.999f, 1e-8f);
            AbstractSae loss = SaeRegistry.create(cfg, p, cpu);
            var in = new AbstractSae.LossInput(1, 1f, null, 0L, SparsePolicy.AUTO);
            try (SaeTrainPlan plan = new SaeTrainPlan(s, p.W_enc, p.b_enc, p.W_dec, p.b_dec, p.conv_w, null)) {
                double dt = medianMs(1, reps, () -> plan.step(x, 1e-4f, 1f));
                double ct = medianMs(1, reps, () -> {
                    loss.loss(x, nSeq, T, in, g);
                    float[][] pa = p.arrays(), ga = g.arrays(), ma = m.arrays(), va = v.arrays();
                    for (int i = 0; i < pa.length; i++) SaeKernels.adam(pa[i], ga[i], ma[i], va[i], 1e-4f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.001f, 0, pa[i].length);
                });
                row("SAE step " + arch + " d=2304 n=4096, 2×32 tokens (step plan)", dt, ct);
            }
        }
    }
}
