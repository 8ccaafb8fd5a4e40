package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Random;

import msts.engine.DType;
import msts.engine.Ops;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * End-to-end parity on a tiny Gemma-2 checkpoint (TinyGemma2, HF layout on disk, mmap'd): residual stream
 * and logits of (a) the per-layer task-graph plan and (b) the unchanged Gemma2 forward running on
 * {@link TornadoOps} (the backend seam), against Gemma2 on the CPU reference ops.
 */
class Gemma2ParityAccelTest {
    @TempDir Path dir;

    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "{0} nSeq={1} T={2}")
    @CsvSource({"F32, 2, 9", "BF16, 1, 13"})
    void planAndOpsMatchCpu(DType dt, int nSeq, int T) throws Exception {
        Path ckpt = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small().withDtype(dt).withWindow(4), 11);
        Random r = new Random(3);
        try (Gemma2 cpu = Gemma2.load(ckpt, Ops.reference())) {
            var c = cpu.config();
            int L = c.numHiddenLayers(), H = c.hiddenSize(), V = c.vocabSize();
            int[][] batch = new int[nSeq][T];
            for (int[] s : batch) for (int t = 0; t < T; t++) s[t] = t == 0 ? c.bosTokenId() : r.nextInt(V);
            int[] capture = {0, L - 1};
            var want = cpu.forward(batch, new Gemma2.Options(-1, capture, null, Gemma2.LogitsMode.ALL));

            try (var plan = Gemma2Plans.create(cpu, nSeq, T, -1, capture, true, null, TornadoOptions.Matmul.AUTO)) {
                var out = plan.forward(Gemma2Plans.embed(cpu, batch));
                for (int s = 0; s < nSeq; s++) {
                    String tag = dt + " plan seq " + s;
                    check("resid layer0 " + tag, slice(out.captured()[0], s, T * H), want.resid()[0][s], 2e-5);
                    check("resid layer" + (L - 1) + " " + tag, slice(out.captured()[1], s, T * H), want.resid()[1][s], 2e-5);
                    check("logits " + tag, slice(out.logits(), s, T * V), want.logits()[s], 2e-5);
                }
            }

            TornadoOps tops = new TornadoOps(Ops.reference(), null);
            try (Gemma2 dev = Gemma2.load(ckpt, tops)) {
                var got = dev.forward(batch, new Gemma2.Options(-1, capture, null, Gemma2.LogitsMode.ALL));
                assertEquals(nSeq, got.logits().length);
                for (int s = 0; s < nSeq; s++) {
                    String tag = dt + " TornadoOps seq " + s;
                    check("resid layer" + (L - 1) + " " + tag, FloatArray.fromArray(got.resid()[1][s]), want.resid()[1][s], 2e-5);
                    check("logits " + tag, FloatArray.fromArray(got.logits()[s]), want.logits()[s], 2e-5);
                }
            } finally {
                tops.close();
            }
        }
    }

    static FloatArray slice(float[] a, int s, int len) {
        float[] out = new float[len];
        System.arraycopy(a, s * len, out, 0, len);
        return FloatArray.fromArray(out);
    }
}
