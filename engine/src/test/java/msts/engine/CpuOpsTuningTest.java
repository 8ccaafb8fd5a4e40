package msts.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The typed CPU tuning (block sizes) and the --threads setting: other values still compute the same formulas. */
class CpuOpsTuningTest {
    @Test
    void smallBlocksStillMatchTheReference() {
        CpuOps small = new CpuOps(new CpuOps.Tuning(32, 16, 8, 48));
        Ops ref = Ops.reference();
        Random rnd = new Random(11);
        int[][] shapes = {{37, 101, 70}, {9, 300, 129}, {70, 5, 257}}; // m, n, k: several blocks in every direction
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = CpuOpsTest.rand(rnd, m * k), b = CpuOpsTest.rand(rnd, k * n);
            float[] want = new float[m * n], got = new float[m * n];
            ref.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, want, 0, n);
            small.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, got, 0, n);
            double[] scale = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++) scale[i * n + j] += Math.abs(a[i * k + p] * b[p * n + j]);
            CpuOpsTest.check("gemm small blocks " + m + "x" + n + "x" + k, want, got, scale, got.length, 2 * Math.sqrt(k) + 2);
        }
        int rows = 5, in = 300, out = 33;
        Tensor w = Tensor.allocate(DType.F32, out, in);
        for (long i = 0; i < w.numel(); i++) w.set(i, rnd.nextFloat() * 2f - 1f);
        float[] x = CpuOpsTest.rand(rnd, rows * in), want = new float[rows * out], got = new float[rows * out];
        ref.matmul(want, x, w, rows);
        small.matmul(got, x, w, rows);
        double[] scale = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) scale[r * out + o] += Math.abs(x[r * in + i] * w.get((long) o * in + i));
        CpuOpsTest.check("matmul small k blocks", want, got, scale, got.length, 2 * Math.sqrt(in) + 2);
        assertEquals(new CpuOps.Tuning(32, 16, 8, 48), small.tuning());
    }

    @Test
    void badTuningAndThreadsAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> new CpuOps.Tuning(0, 256, 128, 2048));
        assertThrows(IllegalArgumentException.class, () -> Parallel.configure(0));
        int n = Parallel.threads(); // starts the pool
        Parallel.configure(n); // the same count again is fine
        var e = assertThrows(IllegalStateException.class, () -> Parallel.configure(n + 1));
        assertTrue(e.getMessage().contains("--threads " + (n + 1)), e.getMessage());
    }
}
