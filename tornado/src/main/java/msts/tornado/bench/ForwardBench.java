package msts.tornado.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Random;

import msts.engine.CpuOps;
import msts.engine.DType;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import msts.tornado.Gemma2Plan;
import msts.tornado.Gemma2Plans;
import msts.tornado.TornadoOptions;
import msts.tornado.TornadoRuntimeInfo;

/**
 * A Gemma-2 forward pass with Gemma-2-2B shapes (hidden 2304, 8/4 heads × 256, MLP 9216, soft-caps 50/30,
 * window 4096) and random weights, on the TornadoVM device through the whole-layer plan ({@link Gemma2Plan}: the
 * path of {@code msts forward --backend tornado}), logits included. The peer is scripts/bench_forward_torch.py
 * with the same arguments; the device kit's check runs both back to back and prints the ratio.
 * <pre>ForwardBench [layers=4] [tokens=128] [vocab=256000] [dtype=bf16] [runs=5]</pre>
 * Prints one JSON line: ms_median of one forward after one warm-up (kernel compilation excluded; the embedded
 * input sent and the logits brought back included).
 */
public final class ForwardBench {
    private ForwardBench() {}

    public static void main(String[] args) throws Exception {
        String why = TornadoRuntimeInfo.unavailableReason();
        if (why != null) {
            System.err.println("msts: ForwardBench: " + why);
            System.exit(2);
        }
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int T = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int vocab = args.length > 2 ? Integer.parseInt(args[2]) : 256000;
        DType dt = args.length > 3 && args[3].equalsIgnoreCase("f32") ? DType.F32 : DType.BF16;
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        var spec = new TinyGemma2.Spec(vocab, 2304, 9216, layers, 8, 4, 256, 4096, 50f, 30f, 256f, 10000f, dt, 0.5f, 1f);
        Path tmp = Files.createTempDirectory("msts-forward-bench");
        try {
            Path ckpt = TinyGemma2.write(tmp.resolve("model"), spec, 5);
            try (Gemma2 model = Gemma2.load(ckpt, CpuOps.INSTANCE)) {
                Random r = new Random(1);
                int[][] batch = new int[1][T];
                for (int t = 0; t < T; t++) batch[0][t] = r.nextInt(vocab);
                try (Gemma2Plan plan = Gemma2Plans.create(model, 1, T, layers - 1, new int[0], true, null, TornadoOptions.Matmul.AUTO)) {
                    float[] emb = Gemma2Plans.embed(model, batch);
                    long c0 = System.nanoTime();
                    Gemma2Plan.Output first = plan.forward(emb); // compiles the kernels, transfers the weights
                    double firstMs = (System.nanoTime() - c0) / 1e6;
                    double[] ms = new double[runs];
                    float[] logits = first.logits();
                    for (int i = 0; i < runs; i++) {
                        long t0 = System.nanoTime();
                        logits = plan.forward(emb).logits();
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                    for (float v : logits) if (!Float.isFinite(v)) throw new IllegalStateException("non-finite logit");
                    double[] sorted = ms.clone();
                    java.util.Arrays.sort(sorted);
                    var dev = TornadoRuntimeInfo.devices().get(0);
                    System.out.printf(Locale.ROOT, "{\"bench\": \"forward\", \"engine\": \"msts-tornado-plan\", \"device\": \"%s\", "
                                    + "\"dtype\": \"%s\", \"layers\": %d, \"tokens\": %d, \"vocab\": %d, \"first_ms\": %.1f, "
                                    + "\"ms_median\": %.3f, \"ms\": %s}%n", dev.name().replace("\"", "'"), dt.name().toLowerCase(Locale.ROOT),
                            layers, T, vocab, firstMs, sorted[runs / 2], java.util.Arrays.toString(ms));
                }
            }
        } finally {
            try (var s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
