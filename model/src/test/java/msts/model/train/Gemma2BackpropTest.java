package msts.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.CpuOps;
import msts.engine.Ops;
import msts.io.SafeTensors;
import msts.model.gemma.Gemma2;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole backward pass against PyTorch autograd (scripts/gemma2_train_reference.py, float64, a tiny
 * config with T = 7 > sliding window 3, GQA 4/2, both soft-caps binding): loss, logits and the gradient of
 * every parameter, for the reference path (plain loops) and the fast path (CpuOps gemms, gemm attention).
 */
class Gemma2BackpropTest {
    static Path fixture() throws Exception {
        return Path.of(Gemma2BackpropTest.class.getResource("/gemma2-train-tiny").toURI());
    }

    static int[][] tokens(Path dir) throws Exception {
        JsonNode t = new ObjectMapper().readTree(dir.resolve("fixture.json").toFile()).get("tokens");
        int[][] rows = new int[t.size()][];
        for (int b = 0; b < rows.length; b++) {
            rows[b] = new int[t.get(b).size()];
            for (int i = 0; i < rows[b].length; i++) rows[b][i] = t.get(b).get(i).asInt();
        }
        return rows;
    }

    /** Max |a − e| / max|e| (the error relative to the tensor's scale). */
    static double relErr(float[] a, float[] e) {
        assertEquals(e.length, a.length);
        double m = 0, s = 1e-30;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - e[i]));
            s = Math.max(s, Math.abs(e[i]));
        }
        return Double.isFinite(m) ? m / s : Double.POSITIVE_INFINITY;
    }

    void checkAgainstTorch(Ops ops, boolean referenceAttention) throws Exception {
        Path dir = fixture();
        LmParams p = LmParams.load(dir);
        int[][] rows = tokens(dir);
        double expectedLoss = new ObjectMapper().readTree(dir.resolve("fixture.json").toFile()).get("loss").asDouble();
        Gemma2Backprop bp = new Gemma2Backprop(p.config(), ops, rows.length, rows[0].length, referenceAttention);
        float[] grad = new float[p.size()];
        double loss = bp.lossAndGradient(p.data(), p, rows, grad);
        assertEquals(expectedLoss, loss, 1e-5 * Math.abs(expectedLoss), "loss");
        assertEquals(rows.length * (rows[0].length - 1), bp.counted());
        try (SafeTensors exp = SafeTensors.open(dir.resolve("expected.safetensors"))) {
            assertTrue(relErr(bp.logits(), exp.tensor("logits").toFloatArray()) < 1e-5, "logits");
            int checked = 0;
            for (LmParams.Slot s : p.slots()) {
                float[] e = exp.tensor("grad." + s.name()).toFloatArray();
                float[] a = java.util.Arrays.copyOfRange(grad, s.offset(), s.offset() + s.size());
                double err = relErr(a, e);
                assertTrue(err < 2e-4, s.name() + ": max|Δgrad|/max|grad| = " + err);
                checked++;
            }
            assertEquals(2 + 11 * p.config().numHiddenLayers(), checked);
        }
    }

    @Test
    void referencePathMatchesTorchAutograd() throws Exception {
        checkAgainstTorch(Ops.reference(), true);
    }

    @Test
    void fastPathMatchesTorchAutograd() throws Exception {
        checkAgainstTorch(CpuOps.INSTANCE, false);
    }

    @Test
    void fastAndReferenceAttentionAgree() throws Exception {
        Path dir = fixture();
        LmParams p = LmParams.load(dir);
        int[][] rows = tokens(dir);
        float[] g1 = new float[p.size()], g2 = new float[p.size()];
        double l1 = new Gemma2Backprop(p.config(), CpuOps.INSTANCE, 2, 7, true).lossAndGradient(p.data(), p, rows, g1);
        double l2 = new Gemma2Backprop(p.config(), CpuOps.INSTANCE, 2, 7, false).lossAndGradient(p.data(), p, rows, g2);
        assertEquals(l1, l2, 1e-6);
        assertTrue(relErr(g2, g1) < 1e-5, "fast vs reference attention gradient");
    }

    @Test
    void trainingForwardMatchesInferenceForward() throws Exception {
        Path dir = fixture();
        LmParams p = LmParams.load(dir);
        int[][] rows = tokens(dir);
        Gemma2Backprop bp = new Gemma2Backprop(p.config(), CpuOps.INSTANCE, rows.length, rows[0].length, false);
        bp.loss(p.data(), p, rows);
        try (Gemma2 g = Gemma2.load(dir, CpuOps.INSTANCE)) {
            float[][] lg = g.forward(rows, Gemma2.Options.logitsAll()).logits();
            int TV = rows[0].length * p.config().vocabSize();
            for (int b = 0; b < rows.length; b++)
                assertTrue(relErr(java.util.Arrays.copyOfRange(bp.logits(), b * TV, (b + 1) * TV), lg[b]) < 1e-5);
        }
    }

    @Test
    void gradientDoesNotDependOnThreadsOrRepeats() throws Exception {
        Path dir = fixture();
        LmParams p = LmParams.load(dir);
        int[][] rows = tokens(dir);
        Gemma2Backprop bp = new Gemma2Backprop(p.config(), CpuOps.INSTANCE, 2, 7, false);
        float[] g1 = new float[p.size()], g2 = new float[p.size()];
        double l1 = bp.lossAndGradient(p.data(), p, rows, g1);
        double l2 = bp.lossAndGradient(p.data(), p, rows, g2);
        assertEquals(l1, l2);
        assertArrayEquals(g1, g2);
    }
}
