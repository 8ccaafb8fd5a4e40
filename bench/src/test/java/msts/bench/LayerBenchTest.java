package msts.bench;

import msts.engine.DType;
import msts.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LayerBenchTest {
    @Test
    void randomWeightsHaveTheRequestedStdAndAreReproducible() {
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            Tensor a = LayerBench.random(dt, 0.25f, 3, 100, 1000), b = LayerBench.random(dt, 0.25f, 3, 100, 1000);
            double s = 0, ss = 0, max = 0;
            long n = a.numel();
            for (long i = 0; i < n; i++) {
                float v = a.get(i);
                assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(b.get(i)), "same seed, same value at " + i);
                s += v;
                ss += v * v;
                max = Math.max(max, Math.abs(v));
            }
            double mean = s / n, std = Math.sqrt(ss / n - mean * mean);
            assertEquals(0.0, mean, 0.005, dt + " mean");
            assertEquals(0.25, std, 0.005, dt + " std");
            assertTrue(max <= 0.25 * Math.sqrt(3) * 1.01, dt + " uniform bound, max " + max);
            assertNotEquals(a.get(0), LayerBench.random(dt, 0.25f, 4, 100, 1000).get(0), "another seed differs");
        }
    }
}
