package msts.bench;

import msts.engine.Kernels;
import msts.engine.Ops;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainBenchTest {
    static TrainBench bench(int l0) {
        return new TrainBench(new TrainBench.Options(16, List.of("32:8"), List.of("relu", "temporal"), 4, l0, 4, 1, 1,
                false, "python3", Path.of("none.py")));
    }

    /** 1 − Φ(z) = ½·(1 − erf(z/√2)), with the reference erf as the independent value. */
    static double tail(double z) { return 0.5 * (1 - Kernels.erf(z / Math.sqrt(2))); }

    @Test
    void upperTailMatchesErf() {
        for (double z : new double[] {0, 0.5, 1, 1.959963984540054, 3, 5})
            assertEquals(tail(z), TrainBench.upperTail(z), 7.5e-8, "z=" + z);
        assertEquals(0.025, TrainBench.upperTail(1.959963984540054), 1e-7);
    }

    @Test
    void reluSparseBiasGivesTheRequestedActiveFraction() {
        int dSae = 4096, l0 = 64;
        float b = bench(l0).encoderBias("relu-sparse", dSae);
        double sigma = 0.1 / Math.sqrt(3);
        assertTrue(b < 0, "bias " + b);
        // P(pre + b > 0) with pre ~ N(0, σ²) is the upper tail at −b/σ
        assertEquals((double) l0 / dSae, tail(-b / sigma), 1e-6);
        assertEquals(0f, bench(l0).encoderBias("relu", dSae));
        assertEquals(0f, bench(l0).encoderBias("temporal", dSae));
    }

    @Test
    void runsEveryArchWithoutPeer() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        String quiet = System.getProperty("msts.quiet");
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            bench(4).run(msts.engine.backend.Backends.reference());
        } finally {
            System.setOut(old);
            if (quiet == null) System.clearProperty("msts.quiet"); else System.setProperty("msts.quiet", quiet);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("msts bench train: d_in 16, ops reference"), out);
        for (String arch : List.of("relu", "temporal"))
            assertTrue(out.lines().anyMatch(l -> l.startsWith(arch) && l.contains("d_sae    32 batch    8  msts") && l.contains("tok/s")), out);
        assertFalse(out.contains("pytorch"), out);
        assertTrue(out.contains("load after: "), out);
    }
}
