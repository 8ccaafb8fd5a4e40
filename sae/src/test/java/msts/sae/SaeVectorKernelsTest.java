package msts.sae;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The Vector API sparse kernels against the plain-loop reference kernels in SaeKernels. */
class SaeVectorKernelsTest {
    @Test
    void sparseProductsMatchReference() {
        SplittableRandom r = new SplittableRandom(5);
        for (int d : new int[]{1, 7, 37, 130}) {
            int rows = 23, n = 19;
            float[] f = new float[rows * n];
            for (int i = 0; i < f.length; i++) if (r.nextDouble() < 0.2) f[i] = (float) r.nextDouble(-2, 2);
            SparseRows s = new SparseRows();
            s.build(f, rows, n, true);
            float[] b = new float[n * d], a = new float[rows * d];
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
            float[] o1 = new float[rows * d], o2 = new float[rows * d];
            for (boolean acc : new boolean[]{false, true}) {
                SaeKernels.spmmRows(s.start, s.idx, s.val, b, d, o1, acc, 0, rows);
                SaeVectorKernels.spmmRows(s.start, s.idx, s.val, b, d, o2, acc, 0, rows);
                assertArrayEquals(o1, o2, 1e-4f);
                float[] c1 = new float[n * d], c2 = new float[n * d];
                SaeKernels.spmmCols(s.colStart, s.rowIdx, s.cval, a, d, c1, acc, 0, n);
                SaeVectorKernels.spmmCols(s.colStart, s.rowIdx, s.cval, a, d, c2, acc, 0, n);
                assertArrayEquals(c1, c2, 1e-4f);
            }
            float[] v1 = new float[s.nnz], v2 = new float[s.nnz];
            SaeKernels.sampledDot(s.start, s.idx, a, b, d, v1, 0, rows);
            SaeVectorKernels.sampledDot(s.start, s.idx, a, b, d, v2, 0, rows);
            assertArrayEquals(v1, v2, 1e-4f);
            // CSR/CSC agree with the dense matrix
            float[] dense = new float[rows * n];
            for (int q = 0; q < rows; q++) for (int e = s.start[q]; e < s.start[q + 1]; e++) dense[q * n + s.idx[e]] = s.val[e];
            assertArrayEquals(f, dense, 0f);
            float[] dense2 = new float[rows * n];
            for (int j = 0; j < n; j++) for (int e = s.colStart[j]; e < s.colStart[j + 1]; e++) dense2[s.rowIdx[e] * n + j] = s.cval[e];
            assertArrayEquals(f, dense2, 0f);
        }
    }

    /**
     * The fast dot product gives the same bits on its first (interpreted) calls as after the JIT compiled it
     * (reduceLanes' order differs between tiers; the sparse training path must be deterministic).
     */
    @Test
    void sampledDotIsTheSameInEveryJitTier() {
        SplittableRandom r = new SplittableRandom(8);
        int rows = 4, n = 6, d = 67;
        float[] f = new float[rows * n];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextDouble(-1, 1);
        SparseRows s = new SparseRows();
        s.build(f, rows, n, false);
        float[] a = new float[rows * d], b = new float[n * d];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
        float[] first = new float[s.nnz], out = new float[s.nnz];
        SaeVectorKernels.sampledDot(s.start, s.idx, a, b, d, first, 0, rows);
        int changed = 0;
        for (int call = 0; call < 20000; call++) {
            SaeVectorKernels.sampledDot(s.start, s.idx, a, b, d, out, 0, rows);
            if (!java.util.Arrays.equals(first, out)) changed++;
        }
        org.junit.jupiter.api.Assertions.assertEquals(0, changed, "calls whose result differed from the first call's");
    }
}
