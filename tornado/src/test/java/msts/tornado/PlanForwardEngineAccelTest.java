package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Path;
import java.util.Random;

import msts.engine.DType;
import msts.engine.Ops;
import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineFactory;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The forward seam used by {@code msts forward/harvest --backend tornado}: the tornado backend (resolved through
 * ServiceLoader) offers {@link PlanForwardEngine} as its {@link ForwardEngineFactory} extension; its results (captured residuals, ALL/LAST logits,
 * harvest-style stop after a layer, unequal-length batches split into groups, a resid hook falling back to
 * op by op on TornadoOps) must match {@link Gemma2} on the CPU reference ops.
 */
class PlanForwardEngineAccelTest {
    @TempDir Path dir;

    @BeforeEach
    void device() { assumeDevice(); }

    private static void same(String what, Gemma2.Result got, Gemma2.Result want) {
        assertEquals(want.resid().length, got.resid().length, what + " captures");
        for (int k = 0; k < want.resid().length; k++)
            for (int s = 0; s < want.resid()[k].length; s++)
                check(what + " resid[" + k + "] seq " + s, FloatArray.fromArray(got.resid()[k][s]), want.resid()[k][s], 2e-5);
        if (want.logits() == null) {
            assertEquals(null, got.logits(), what + " logits");
            return;
        }
        for (int s = 0; s < want.logits().length; s++)
            check(what + " logits seq " + s, FloatArray.fromArray(got.logits()[s]), want.logits()[s], 2e-5);
    }

    @Test
    void engineMatchesCpu() throws Exception {
        Path ckpt = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small().withDtype(DType.BF16).withWindow(4), 5);
        TornadoOps tops = new TornadoOps(Ops.reference(), null);
        try (Gemma2 cpu = Gemma2.load(ckpt, Ops.reference()); Gemma2 dev = Gemma2.load(ckpt, tops)) {
            var c = cpu.config();
            int L = c.numHiddenLayers(), V = c.vocabSize();
            msts.engine.backend.Backend backend = msts.engine.backend.Backends.resolve("tornado", null);
            ForwardEngine e = ForwardEngineFactory.engine(backend, dev);
            PlanForwardEngine pe = assertInstanceOf(PlanForwardEngine.class, e);
            try {
                Random r = new Random(9);
                // forward-command style: all layers captured, all logits
                int[] all = new int[L];
                for (int l = 0; l < L; l++) all[l] = l;
                int[][] b1 = batch(r, V, c.bosTokenId(), 7, 7);
                var o1 = Gemma2.Options.logitsAll().withCapture(all);
                same("equal ALL", e.forward(b1, o1), cpu.forward(b1, o1));
                // unequal lengths → groups by length; last-position logits
                int[][] b2 = batch(r, V, c.bosTokenId(), 5, 9, 5, 1);
                var o2 = Gemma2.Options.logitsLast().withCapture(0);
                same("unequal LAST", e.forward(b2, o2), cpu.forward(b2, o2));
                // harvest style: stop after layer 0, twice on one plan
                var o3 = Gemma2.Options.residAt(0);
                int[][] b3 = batch(r, V, c.bosTokenId(), 6, 6, 6);
                same("residAt(0) #1", e.forward(b3, o3), cpu.forward(b3, o3));
                int[][] b4 = batch(r, V, c.bosTokenId(), 6, 6, 6);
                same("residAt(0) #2", e.forward(b4, o3), cpu.forward(b4, o3));
                assertEquals(pe.maxPlans(), pe.cachedPlans(), "plans are cached and bounded");
                // a hook: op by op on TornadoOps, same result as the CPU with the same hook
                Gemma2.ResidHook hook = (layer, seq, resid, T) -> {
                    if (layer == 0) for (int i = 0; i < resid.length; i++) resid[i] *= 0.5f;
                };
                var o5 = Gemma2.Options.logitsAll().withCapture(L - 1).withHook(hook);
                same("hook", e.forward(b1, o5), cpu.forward(b1, o5));
            } finally {
                ForwardEngineFactory.close(e, dev);
                tops.close();
                backend.close();
            }
        }
    }
}
