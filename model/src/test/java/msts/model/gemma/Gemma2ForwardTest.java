package msts.model.gemma;

import msts.engine.Kernels;
import msts.engine.Ops;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static msts.model.gemma.Gemma2ParityTest.resource;
import static org.junit.jupiter.api.Assertions.*;

/** Options semantics: stopAfterLayer, captures, hooks, LAST logits, input errors. */
class Gemma2ForwardTest {
    static final int[] SEQ = {2, 17, 200, 5, 99, 31, 31, 7, 250, 64, 128};

    @Test
    void stopAfterLayerAndCaptureMatchFullRun() {
        try (Gemma2 m = Gemma2.load(resource("gemma2-tiny"), Ops.reference())) {
            var full = m.forward(new int[][]{SEQ, SEQ}, Gemma2.Options.logitsAll().withCapture(0, 1, 2));
            var part = m.forward(new int[][]{SEQ, SEQ}, Gemma2.Options.residAt(1));
            assertNull(part.logits());
            assertArrayEquals(full.resid()[1][0], part.resid()[0][0]);
            assertArrayEquals(full.resid()[1][1], part.resid()[0][1]);
            var reordered = m.forward(new int[][]{SEQ}, new Gemma2.Options(-1, new int[]{2, 0}, null, Gemma2.LogitsMode.LAST));
            assertArrayEquals(full.resid()[2][0], reordered.resid()[0][0]);
            assertArrayEquals(full.resid()[0][0], reordered.resid()[1][0]);
            int V = m.config().vocabSize();
            float[] lastRow = Arrays.copyOfRange(full.logits()[0], (SEQ.length - 1) * V, SEQ.length * V);
            assertArrayEquals(lastRow, reordered.logits()[0], 1e-6f);
        }
    }

    @Test
    void largeBatchUsesChunkedMlpAndMatchesSingleSequences() {
        // 50 sequences of 11..14 tokens: 600+ rows > the 512-row MLP chunk; unequal lengths
        for (Ops ops : Gemma2ParityTest.allOps()) {
            try (Gemma2 m = Gemma2.load(resource("gemma2-tiny"), ops)) {
                java.util.Random rnd = new java.util.Random(5);
                int[][] batch = new int[50][];
                for (int s = 0; s < batch.length; s++) {
                    batch[s] = new int[11 + s % 4];
                    batch[s][0] = 2;
                    for (int i = 1; i < batch[s].length; i++) batch[s][i] = rnd.nextInt(256);
                }
                batch[37] = SEQ.clone();
                var all = m.forward(batch, Gemma2.Options.logitsAll().withCapture(2));
                for (int s : new int[]{0, 13, 37, 49}) {
                    var one = m.forward(new int[][]{batch[s]}, Gemma2.Options.logitsAll().withCapture(2));
                    assertArrayEquals(one.resid()[0][0], all.resid()[0][s], 1e-5f, ops.name() + " seq " + s);
                    assertArrayEquals(one.logits()[0], all.logits()[s], 1e-5f, ops.name() + " seq " + s);
                }
            }
        }
    }

    @Test
    void hookSeesAndReplacesResidPost() {
        try (Gemma2 m = Gemma2.load(resource("gemma2-tiny"), Ops.reference())) {
            int H = m.config().hiddenSize(), L = m.config().numHiddenLayers();
            var plain = m.forward(new int[][]{SEQ}, Gemma2.Options.logitsAll().withCapture(0, L - 1));
            int[] calls = new int[L];
            // identity hook: every layer, every sequence, [T, hidden], same values as captured
            var same = m.forward(new int[][]{SEQ}, Gemma2.Options.logitsAll().withCapture(0).withHook((l, s, r, T) -> {
                calls[l]++;
                assertEquals(SEQ.length, T);
                assertEquals(T * H, r.length);
                if (l == 0) assertArrayEquals(plain.resid()[0][0], r);
            }));
            assertArrayEquals(new int[]{1, 1, 1}, calls);
            assertArrayEquals(plain.logits()[0], same.logits()[0]);
            // zeroing the last resid_post: final RMSNorm of 0 is 0, so every logit is exactly 0
            var zero = m.forward(new int[][]{SEQ}, Gemma2.Options.logitsAll().withCapture(L - 1)
                    .withHook((l, s, r, T) -> { if (l == L - 1) Arrays.fill(r, 0f); }));
            for (float f : zero.logits()[0]) assertEquals(0f, f);
            for (float f : zero.resid()[0][0]) assertEquals(0f, f, "capture is taken after the hook");
            // a change at layer 0 propagates to later layers
            var changed = m.forward(new int[][]{SEQ}, Gemma2.Options.logitsAll().withCapture(L - 1)
                    .withHook((l, s, r, T) -> { if (l == 0) r[5] += 10f; }));
            assertFalse(Arrays.equals(plain.resid()[1][0], changed.resid()[0][0]));
        }
    }

    @Test
    void badInputsAreClearErrors() {
        try (Gemma2 m = Gemma2.load(resource("gemma2-tiny"), Ops.reference())) {
            var e = assertThrows(IllegalArgumentException.class, () -> m.forward(new int[][]{{2, 256}}, Gemma2.Options.logitsLast()));
            assertTrue(e.getMessage().contains("256"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.forward(new int[][]{{}}, Gemma2.Options.logitsLast()));
            assertThrows(IllegalArgumentException.class, () -> m.forward(new int[][]{SEQ}, Gemma2.Options.residAt(3)));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(new int[][]{SEQ}, new Gemma2.Options(1, null, null, Gemma2.LogitsMode.ALL)));
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(new int[][]{SEQ}, new Gemma2.Options(0, new int[]{1}, null, Gemma2.LogitsMode.NONE)));
        }
    }

    @Test
    void exactErfGelu() {
        // erf reference values (Abramowitz & Stegun table / mpmath)
        assertEquals(0.5204998778130465, Kernels.erf(0.5), 1e-14);
        assertEquals(0.8427007929497149, Kernels.erf(1.0), 1e-14);
        assertEquals(0.9953222650189527, Kernels.erf(2.0), 1e-14);
        assertEquals(0.9999779095030014, Kernels.erf(3.0), 1e-14);
        assertEquals(-0.9661051464753108, Kernels.erf(-1.5), 1e-14);
        assertEquals(0.0, Kernels.erf(0.0), 0.0);
        assertEquals(1.0, Kernels.erf(10.0), 1e-15);
    }
}
