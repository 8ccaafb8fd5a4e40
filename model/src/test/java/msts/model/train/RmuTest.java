package msts.model.train;

import msts.engine.Ops;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * RMU's loss gradient (resid_post at layer L, backward through layers L−2..L) against central finite differences
 * of the loss itself, on the tiny Gemma-2 fixture (3 layers, hidden 32, T = 7, both soft-caps binding; the
 * forward is the one Gemma2BackpropTest checks against PyTorch). And the fine-tuning loop: only the selected
 * MLP weights move, and the forget term falls.
 */
class RmuTest {
    static final Path FIXTURE = Path.of("src/test/resources/gemma2-train-tiny");

    static double loss(Gemma2Backprop bp, LmParams lay, float[] p, int[][] f, int[][] r, float[] frozenAct, float[] cu, double alpha,
                       int layer, int first) {
        float[] g = new float[p.length], d = new float[bp.batch() * bp.context() * lay.config().hiddenSize()];
        return Rmu.term(bp, lay, p, f, layer, first, cu, 1.0, g, d) + Rmu.term(bp, lay, p, r, layer, first, frozenAct, alpha, g, d);
    }

    /** Loss and every parameter gradient of layers 0..2 against PyTorch autograd in float64 (scripts/rmu_reference.py). */
    @Test
    void lossAndGradientMatchTorchAutograd() throws Exception {
        Path ref = Path.of("src/test/resources/rmu-tiny");
        com.fasterxml.jackson.databind.JsonNode fx = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ref.resolve("fixture.json").toFile());
        int layer = fx.get("layer").asInt(), first = fx.get("first_layer").asInt();
        double alpha = fx.get("alpha").asDouble();
        LmParams lay = LmParams.load(FIXTURE);
        int[][] forget = Gemma2BackpropTest.tokens(FIXTURE);
        int B = forget.length, T = forget[0].length, H = lay.config().hiddenSize();
        int[][] retain = new int[B][];
        for (int i = 0; i < B; i++) retain[i] = forget[B - 1 - i].clone();
        for (boolean referencePath : new boolean[]{true, false}) {
            Ops ops = referencePath ? Ops.reference() : msts.engine.CpuOps.INSTANCE;
            Gemma2Backprop bp = new Gemma2Backprop(lay.config(), ops, B, T, referencePath);
            float[] p = lay.data().clone();
            float[] frozenAct = bp.residPost(p, lay, retain, layer).clone();
            try (msts.io.SafeTensors exp = msts.io.SafeTensors.open(ref.resolve("expected.safetensors"))) {
                float[] cu = exp.tensor("cu").toFloatArray();
                for (LmParams.Slot s : lay.slots())
                    if (s.name().contains(".mlp.") && exp.names().contains("perturbed." + s.name()))
                        System.arraycopy(exp.tensor("perturbed." + s.name()).toFloatArray(), 0, p, s.offset(), s.size());
                float[] grad = new float[p.length], d = new float[B * T * H];
                double loss = Rmu.term(bp, lay, p, forget, layer, first, cu, 1.0, grad, d)
                        + Rmu.term(bp, lay, p, retain, layer, first, frozenAct, alpha, grad, d);
                assertEquals(fx.get("loss").asDouble(), loss, 1e-5 * fx.get("loss").asDouble(), "loss");
                int checked = 0;
                for (LmParams.Slot s : lay.slots()) {
                    if (!exp.names().contains("grad." + s.name())) continue;
                    double err = Gemma2BackpropTest.relErr(java.util.Arrays.copyOfRange(grad, s.offset(), s.offset() + s.size()),
                            exp.tensor("grad." + s.name()).toFloatArray());
                    assertTrue(err < 1e-3, s.name() + " (reference path " + referencePath + "): max|Δgrad|/max|grad| = " + err);
                    checked++;
                }
                assertEquals(11 * (layer - first + 1), checked);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() throws Exception {
        LmParams lay = LmParams.load(FIXTURE);
        int[][] rows = Gemma2BackpropTest.tokens(FIXTURE);
        int B = rows.length, T = rows[0].length, H = lay.config().hiddenSize(), layer = 2, first = 0;
        int[][] forget = rows, retain = new int[B][];
        for (int i = 0; i < B; i++) retain[i] = rows[B - 1 - i].clone();
        Ops ops = Ops.reference();
        Gemma2Backprop bp = new Gemma2Backprop(lay.config(), ops, B, T, true);
        float[] frozen = lay.data().clone();
        float[] frozenAct = bp.residPost(frozen, lay, retain, layer).clone();
        // move the MLP weights away from the frozen model so that the retain term has a gradient too
        float[] p = frozen.clone();
        SplittableRandom r = new SplittableRandom(7);
        Rmu.Config c = new Rmu.Config(layer, first, List.of("gate", "up", "down"), 3.0, 5.0, 1e-3f, 0, B, 1, 0f);
        List<int[]> ranges = Rmu.updatedRanges(lay, c);
        for (int[] rg : ranges) for (int i = rg[0]; i < rg[1]; i++) p[i] += (float) (0.05 * r.nextGaussian());
        float[] u = Rmu.unitVector(H, 1), cu = new float[H];
        for (int k = 0; k < H; k++) cu[k] = (float) (c.steering() * u[k]);

        float[] grad = new float[p.length], d = new float[B * T * H];
        Rmu.term(bp, lay, p, forget, layer, first, cu, 1.0, grad, d);
        Rmu.term(bp, lay, p, retain, layer, first, frozenAct, c.alpha(), grad, d);

        int checked = 0;
        for (int[] rg : ranges) {
            // the 4 largest-gradient entries of each updated tensor, plus 2 random ones
            Integer[] idx = new Integer[rg[1] - rg[0]];
            for (int i = 0; i < idx.length; i++) idx[i] = rg[0] + i;
            Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(grad[b]), Math.abs(grad[a])));
            int[] pick = {idx[0], idx[1], idx[2], idx[3], rg[0] + r.nextInt(idx.length), rg[0] + r.nextInt(idx.length)};
            for (int i : pick) {
                float save = p[i], h = 1e-2f * Math.max(0.05f, Math.abs(save));
                p[i] = save + h;
                double lp = loss(bp, lay, p, forget, retain, frozenAct, cu, c.alpha(), layer, first);
                p[i] = save - h;
                double lm = loss(bp, lay, p, forget, retain, frozenAct, cu, c.alpha(), layer, first);
                p[i] = save;
                double fd = (lp - lm) / ((double) (save + h) - (save - h));
                double tol = 2e-2 * Math.abs(fd) + 2e-3 * Math.abs(grad[idx[0]]) + 1e-7;
                assertEquals(fd, grad[i], tol, "parameter " + i);
                checked++;
            }
        }
        assertEquals(6 * 9, checked);
        // layers below firstLayer and the embedding get no gradient at all when firstLayer = L
        float[] g2 = new float[p.length];
        Rmu.term(bp, lay, p, forget, layer, layer, cu, 1.0, g2, d);
        LmParams.Slot below = lay.slot("model.layers.1.mlp.down_proj.weight"), emb = lay.slot("model.embed_tokens.weight");
        for (int i = below.offset(); i < below.offset() + below.size(); i++) assertEquals(0f, g2[i]);
        for (int i = emb.offset(); i < emb.offset() + emb.size(); i++) assertEquals(0f, g2[i]);
        LmParams.Slot at = lay.slot("model.layers.2.mlp.down_proj.weight");
        double n = 0;
        for (int i = at.offset(); i < at.offset() + at.size(); i++) n += Math.abs(g2[i]);
        assertTrue(n > 0, "layer L's down_proj has a gradient");
    }

    @Test
    void fineTuningMovesOnlyTheSelectedWeightsAndLowersTheForgetTerm() throws Exception {
        LmParams lay = LmParams.load(FIXTURE);
        int[][] rows = Gemma2BackpropTest.tokens(FIXTURE);
        float[] before = lay.data().clone();
        Rmu.Config c = new Rmu.Config(2, 1, List.of("down"), 4.0, 10.0, 1e-2f, 30, 2, 3, 0.01f);
        double[] first = new double[2], last = new double[2];
        Rmu.run(lay, Ops.reference(), rows, rows, rows[0].length, c, (s, lf, lr, p) -> {
            if (s == 1) { first[0] = lf; first[1] = lr; }
            last[0] = lf;
            last[1] = lr;
        });
        assertTrue(last[0] < 0.9 * first[0], "forget term " + first[0] + " -> " + last[0]);
        assertEquals(0, first[1], 1e-12, "at step 1 the model is the frozen one: retain term 0");
        List<int[]> ranges = Rmu.updatedRanges(lay, c);
        assertEquals(2, ranges.size());
        float[] after = lay.data();
        int moved = 0;
        for (int i = 0; i < after.length; i++) {
            boolean inRange = false;
            for (int[] rg : ranges) inRange |= i >= rg[0] && i < rg[1];
            if (!inRange) assertEquals(before[i], after[i], "parameter " + i + " outside the updated MLPs changed");
            else if (before[i] != after[i]) moved++;
        }
        assertTrue(moved > 0);
        // deterministic: the same seed gives the same bits
        LmParams again = LmParams.load(FIXTURE);
        Rmu.run(again, Ops.reference(), rows, rows, rows[0].length, c, null);
        assertArrayEquals(after, again.data());
    }

    /** post_norm selects each updated layer's post-feed-forward RMSNorm weight (and only with it does the MLP output's size change). */
    @Test
    void postNormModuleUpdatesThePostFeedForwardNormWeight() throws Exception {
        LmParams lay = LmParams.load(FIXTURE);
        int[][] rows = Gemma2BackpropTest.tokens(FIXTURE);
        float[] before = lay.data().clone();
        Rmu.Config c = new Rmu.Config(2, 1, List.of("down", "post_norm"), 4.0, 10.0, 1e-2f, 5, 2, 3, 0.01f);
        List<int[]> ranges = Rmu.updatedRanges(lay, c);
        List<String> want = List.of("model.layers.1.mlp.down_proj.weight", "model.layers.1.post_feedforward_layernorm.weight",
                "model.layers.2.mlp.down_proj.weight", "model.layers.2.post_feedforward_layernorm.weight");
        assertEquals(want.size(), ranges.size());
        for (int i = 0; i < want.size(); i++) {
            LmParams.Slot s = lay.slot(want.get(i));
            assertArrayEquals(new int[]{s.offset(), s.offset() + s.size()}, ranges.get(i), want.get(i));
        }
        Rmu.run(lay, Ops.reference(), rows, rows, rows[0].length, c, null);
        LmParams.Slot norm = lay.slot("model.layers.2.post_feedforward_layernorm.weight"), pre = lay.slot("model.layers.2.pre_feedforward_layernorm.weight");
        assertFalse(Arrays.equals(Arrays.copyOfRange(before, norm.offset(), norm.offset() + norm.size()),
                Arrays.copyOfRange(lay.data(), norm.offset(), norm.offset() + norm.size())), "the post-feed-forward norm moved");
        assertArrayEquals(Arrays.copyOfRange(before, pre.offset(), pre.offset() + pre.size()),
                Arrays.copyOfRange(lay.data(), pre.offset(), pre.offset() + pre.size()), "other norms stay frozen");
    }

    @Test
    void unitVectorIsUnitAndNonNegative() {
        float[] u = Rmu.unitVector(64, 5);
        double n = 0;
        for (float x : u) {
            assertTrue(x >= 0);
            n += x * x;
        }
        assertEquals(1, n, 1e-6);
        assertThrows(IllegalArgumentException.class, () -> new Rmu.Config(2, 3, List.of("down"), 1, 1, 1e-3f, 1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Rmu.Config(2, 0, List.of("attn"), 1, 1, 1e-3f, 1, 1, 0, 0));
    }
}
