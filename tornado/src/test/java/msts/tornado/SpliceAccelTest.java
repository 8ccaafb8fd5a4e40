package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;

import msts.engine.DType;
import msts.engine.Ops;
import msts.evals.ResidHook;
import msts.evals.SaeApply;
import msts.evals.Unlearning;
import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineFactory;
import msts.model.gemma.Gemma2;
import msts.model.gemma.SaeSplice;
import msts.model.gemma.TinyGemma2;
import msts.sae.AbstractSae;
import msts.sae.SaeConfig;
import msts.sae.SaeParams;
import msts.sae.SaeRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The SAE splice on the device (issue 14): the evals' hooks ({@link SaeApply#splice}, the core eval's
 * replacement at masked positions; {@link Unlearning#clamp}, the unlearning eval's clamp) carry their SAE
 * ({@link SaeSplice.Hook}), and {@link PlanForwardEngine} runs it inside the plan's layer graph — encode
 * (x − b_dec, the temporal convolution, W_enc, b_enc, ReLU / TopK / JumpReLU), decode, replace or clamp.
 * Logits (every position) and the captured resid_post of the splice layer and the last layer must match
 * {@link Gemma2} on the reference ops calling the same hook on the host; the plan path must have been taken
 * (a plan cached, no op-by-op fallback) and the splice must have changed the logits.
 */
class SpliceAccelTest {
    @TempDir Path dir;

    @BeforeEach
    void device() { assumeDevice(); }

    /** A random SAE over d_in = H: its parameters Gaussian, encoder scaled so that a fair share of latents fire. */
    static AbstractSae sae(String arch, String act, int H, int n, int k, long seed) {
        SaeConfig.Builder b = SaeConfig.builder().dIn(H).dSae(n).architecture(arch).activation(act).k(k).dilations(1, 2);
        SaeConfig cfg = b.build();
        Random r = new Random(seed);
        SaeParams p = new SaeParams(H, n, cfg.nScales());
        for (float[] a : p.arrays()) for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian() * 0.2f;
        for (int i = 0; i < p.b_enc.length; i++) p.b_enc[i] = 0.05f;
        java.util.Map<String, float[]> extra = new java.util.HashMap<>();
        if (cfg.activation() == msts.sae.Activation.JUMPRELU) {
            float[] th = new float[n];
            for (int j = 0; j < n; j++) th[j] = 0.05f + 0.1f * r.nextFloat();
            extra.put("threshold", th);
        }
        return SaeRegistry.create(cfg, p, extra, Ops.reference());
    }

    @ParameterizedTest(name = "{0} {1} {2} layer={3} lengths={4}")
    @CsvSource({
            "standard, relu,     replace, 0, 6 6",
            "temporal, topk,     replace, 1, 7 4 7",
            "temporal, relu,     clamp,   0, 5 5",
            "jumprelu, jumprelu, clamp,   1, 8 3",
            "topk,     topk,     clamp,   0, 6",
            "temporal, jumprelu, replace, 0, 9 9"})
    void splicedForwardMatchesCpu(String arch, String act, String mode, int layer, String lengths) throws Exception {
        Path ckpt = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small().withDtype(DType.BF16).withWindow(4), 5);
        TornadoOps tops = new TornadoOps(Ops.reference(), null);
        try (Gemma2 cpu = Gemma2.load(ckpt, Ops.reference()); Gemma2 dev = Gemma2.load(ckpt, tops)) {
            var c = cpu.config();
            int L = c.numHiddenLayers(), V = c.vocabSize(), H = c.hiddenSize(), n = 40;
            AbstractSae s = sae(arch, act, H, n, 5, 17 + layer);
            Random r = new Random(11);
            int[] lens = java.util.Arrays.stream(lengths.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            int[][] b = batch(r, V, c.bosTokenId(), lens);
            ResidHook hook;
            if (mode.equals("replace")) {
                boolean[][] mask = new boolean[b.length][];
                for (int q = 0; q < b.length; q++) {
                    mask[q] = new boolean[b[q].length];
                    for (int t = 1; t < mask[q].length; t++) mask[q][t] = r.nextDouble() < 0.7;
                }
                hook = SaeApply.splice(s, layer, mask);
            } else {
                // latents that fire on these tokens (from a host pass): the clamp must hit something
                float[] x0 = cpu.forward(new int[][]{b[0]}, Gemma2.Options.residAt(layer)).resid()[0][0];
                float[] f0 = SaeApply.encode(s, x0, b[0].length);
                java.util.List<Integer> firing = new java.util.ArrayList<>();
                for (int j = 0; j < n && firing.size() < 6; j++)
                    for (int t = 1; t < b[0].length; t++) if (f0[t * n + j] > 0) { firing.add(j); break; }
                assertTrue(!firing.isEmpty(), "some latent fires");
                hook = Unlearning.clamp(s, layer, firing.stream().mapToInt(Integer::intValue).toArray(), 3.0);
            }
            SaeSplice.Hook carried = assertInstanceOf(SaeSplice.Hook.class, hook, "the evals' hook carries its splice");
            Gemma2.ResidHook g = carried;
            msts.engine.backend.Backend backend = msts.engine.backend.Backends.resolve("tornado", null);
            ForwardEngine e = ForwardEngineFactory.engine(backend, dev);
            PlanForwardEngine pe = assertInstanceOf(PlanForwardEngine.class, e);
            try {
                int[] cap = layer == L - 1 ? new int[]{layer} : new int[]{layer, L - 1};
                var opts = Gemma2.Options.logitsAll().withCapture(cap).withHook(g);
                Gemma2.Result want = cpu.forward(b, opts), got = e.forward(b, opts);
                assertTrue(pe.cachedPlans() > 0, "the spliced forward ran as a plan (no op-by-op fallback)");
                Gemma2.Result plain = cpu.forward(b, Gemma2.Options.logitsAll());
                String tag = arch + "/" + act + " " + mode + " @" + layer;
                double moved = 0;
                for (int q = 0; q < b.length; q++) {
                    for (int k = 0; k < cap.length; k++)
                        check(tag + " resid@" + cap[k] + " seq " + q, FloatArray.fromArray(got.resid()[k][q]), want.resid()[k][q], 2e-5);
                    check(tag + " logits seq " + q, FloatArray.fromArray(got.logits()[q]), want.logits()[q], 2e-5);
                    moved = Math.max(moved, maxErr(FloatArray.fromArray(plain.logits()[q]), want.logits()[q]));
                }
                System.out.printf("[accel] %s: the splice moved the logits by up to %.3g%n", tag, moved);
                assertTrue(moved > 1e-3, "the splice changed the logits (" + moved + ")");
                // a second call on the same plan with other tokens (per-call inputs refreshed)
                int[][] b2 = batch(r, V, c.bosTokenId(), lens);
                Gemma2.Result want2 = cpu.forward(b2, opts), got2 = e.forward(b2, opts);
                for (int q = 0; q < b2.length; q++)
                    check(tag + " call 2 logits seq " + q, FloatArray.fromArray(got2.logits()[q]), want2.logits()[q], 2e-5);
                // a new hook for the same SAE (the core eval makes one per batch) reuses the plan
                int built = pe.plansBuilt();
                ResidHook again = mode.equals("replace") ? SaeApply.splice(s, layer, ((SaeSplice.Hook) hook).splice().rowMask())
                        : Unlearning.clamp(s, layer, ((SaeSplice.Hook) hook).splice().features(), 2.0);
                var opts3 = Gemma2.Options.logitsAll().withCapture(cap).withHook((Gemma2.ResidHook) again);
                Gemma2.Result want3 = cpu.forward(b2, opts3), got3 = e.forward(b2, opts3);
                for (int q = 0; q < b2.length; q++)
                    check(tag + " new hook logits seq " + q, FloatArray.fromArray(got3.logits()[q]), want3.logits()[q], 2e-5);
                if (java.util.Arrays.stream(lens).distinct().count() == 1) // (several lengths: one plan each, maxPlans = 1)
                    assertEquals(built, pe.plansBuilt(), "a new hook for the same SAE reuses the plan");
            } finally {
                ForwardEngineFactory.close(e, dev);
                tops.close();
                backend.close();
            }
        }
    }
}
