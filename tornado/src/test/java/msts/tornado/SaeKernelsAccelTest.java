package msts.tornado;

import static msts.tornado.Accel.*;

import java.util.Random;

import msts.engine.Kernels;
import msts.sae.SaeKernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** The SAE kernels on the device against their plain-Java references in msts.sae.SaeKernels, awkward shapes. */
class SaeKernelsAccelTest {
    static final int EVERY = DataTransferMode.EVERY_EXECUTION;

    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "nSeq={0} T={1} d={2} centred={3}")
    @CsvSource({"1,1,1,false", "3,7,5,false", "2,33,70,true", "1,130,3,false"})
    void convForwardAndBackward(int nSeq, int T, int d, boolean centred) {
        Random rnd = new Random(T * 13 + d);
        int[] dil = {1, 2, 4};
        int N = nSeq * T, S = dil.length;
        float[] xc = randn(rnd, N * d, 1f), w = randn(rnd, S * d * 3, 0.5f), dz = randn(rnd, N * d, 1f);
        float[] z = new float[N * d], dxc = new float[N * d], dw = new float[S * d * 3];
        SaeKernels.convForward(xc, w, dil, centred, T, d, z, 0, N);
        SaeKernels.convBackwardInput(dz, w, dil, centred, T, d, dxc, 0, N);
        SaeKernels.convBackwardWeights(dz, xc, dil, centred, N, T, d, dw, 0, d);
        FloatArray dXc = FloatArray.fromArray(xc), dW = FloatArray.fromArray(w), dDz = FloatArray.fromArray(dz);
        IntArray dDil = IntArray.fromArray(dil);
        FloatArray oZ = poisoned(N * d), oDxc = poisoned(N * d), oDw = poisoned(S * d * 3);
        int c = centred ? 1 : 0;
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dXc, dW, dDz, dDil, oZ, oDxc, oDw)
                .task("fwd", SaeKernelsGpu::convForward, dXc, dW, dDil, S, c, T, d, oZ, N)
                .task("bx", SaeKernelsGpu::convBackwardInput, dDz, dW, dDil, S, c, T, d, oDxc, N)
                .task("bw", SaeKernelsGpu::convBackwardWeights, new KernelContext(), dDz, dXc, dDil, c, N, T, d, oDw)
                .transferToHost(EVERY, oZ, oDxc, oDw);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "bw", S * d * 3);
        run(tg, gs);
        String tag = N + "x" + d + (centred ? " centred" : " causal");
        check("convForward " + tag, oZ, z, 1e-5);
        check("convBackwardInput " + tag, oDxc, dxc, 1e-5);
        check("convBackwardWeights " + tag, oDw, dw, 1e-5);
    }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4}")
    @CsvSource({"0,0,1,1,1", "0,0,7,33,65", "1,0,13,5,70", "0,1,9,31,17", "1,1,3,4,5"})
    void gemm(int ta, int tb, int m, int n, int k) {
        Random rnd = new Random(m * 100 + n * 10 + k);
        float[] a = randn(rnd, m * k, 1f), b = randn(rnd, k * n, 1f), c0 = randn(rnd, m * n, 1f);
        int lda = ta == 1 ? m : k, ldb = tb == 1 ? k : n;
        float[] want = c0.clone();
        Kernels.gemm(ta == 1, tb == 1, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, 2f, want, 0, n);
        FloatArray dA = FloatArray.fromArray(a), dB = FloatArray.fromArray(b), dC = FloatArray.fromArray(c0);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dA, dB, dC)
                .task("t", SaeKernelsGpu::gemm, ta, tb, m, n, k, 0.5f, dA, lda, dB, ldb, 2f, dC, n)
                .transferToHost(EVERY, dC);
        run(tg, null);
        check("gemm " + ta + tb + " " + m + "x" + n + "x" + k, dC, want, 1e-5);
    }

    /** The tiled gemm: partial tiles on every edge, k below/at/above TS, padded leading dimensions, β = 0 and ≠ 0. */
    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4} beta={5}")
    @CsvSource({"0,0,1,1,1,0", "0,0,17,33,65,2", "1,0,13,5,70,0", "0,1,40,31,16,2", "1,1,3,47,5,2", "1,1,32,32,32,0",
            "0,0,64,100,300,0.5"})
    void gemmTiled(int ta, int tb, int m, int n, int k, float beta) {
        Random rnd = new Random(m * 100 + n * 10 + k + 7);
        int lda = (ta == 1 ? m : k) + 3, ldb = (tb == 1 ? k : n) + 1, ldc = n + 2;
        float[] a = randn(rnd, (ta == 1 ? k : m) * lda, 1f), b = randn(rnd, (tb == 1 ? n : k) * ldb, 1f);
        float[] c0 = randn(rnd, m * ldc, 1f);
        float[] want = c0.clone();
        Kernels.gemm(ta == 1, tb == 1, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, beta, want, 0, ldc);
        FloatArray dA = FloatArray.fromArray(a), dB = FloatArray.fromArray(b), dC = FloatArray.fromArray(c0);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dA, dB, dC)
                .task("t", SaeKernelsGpu::gemmTiled, new KernelContext(), ta, tb, m, n, k, 0.5f, dA, lda, dB, ldb, beta, dC, ldc)
                .transferToHost(EVERY, dC);
        GridScheduler gs = new GridScheduler();
        Grids.tiles(gs, "g", "t", m, n);
        run(tg, gs);
        // the padding columns of C (j ≥ n) are never written: they keep c0, as in the reference
        check("gemmTiled " + ta + tb + " " + m + "x" + n + "x" + k + " β=" + beta, dC, want, 1e-5);
    }

    @ParameterizedTest(name = "rows={0} cols={1} T={2} lossStart={3}")
    @CsvSource({"1,1,1,0", "7,65,7,1", "130,3,13,2"})
    void columnSumsAndRowNorms(int rows, int cols, int T, int ls) {
        Random rnd = new Random(rows + cols);
        float[] a = randn(rnd, rows * cols, 1f);
        float[] sums = new float[cols], counts = new float[cols], norms = new float[rows];
        for (int r = 0; r < rows; r++) {
            double q = 0;
            for (int c = 0; c < cols; c++) {
                float v = a[r * cols + c];
                q += (double) v * v;
                if (r % T >= ls) {
                    sums[c] += v;
                    counts[c] += v > 0 ? 1 : 0;
                }
            }
            norms[r] = (float) Math.sqrt(q);
        }
        FloatArray dA = FloatArray.fromArray(a), oS = poisoned(cols), oC = poisoned(cols), oN = poisoned(rows);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dA, oS, oC, oN)
                .task("s", SaeKernelsGpu::columnSums, new KernelContext(), dA, rows, cols, T, ls, 1f, 0, 0, oS)
                .task("c", SaeKernelsGpu::columnSums, new KernelContext(), dA, rows, cols, T, ls, 1f, 0, 1, oC)
                .task("n", SaeKernelsGpu::rowNorms, new KernelContext(), dA, cols, oN)
                .transferToHost(EVERY, oS, oC, oN);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "s", cols);
        Grids.groupPerItem(gs, "g", "c", cols);
        Grids.groupPerItem(gs, "g", "n", rows);
        run(tg, gs);
        check("columnSums " + rows + "x" + cols, oS, sums, 1e-5);
        check("activeCounts " + rows + "x" + cols, oC, counts, 0);
        check("rowNorms " + rows + "x" + cols, oN, norms, 1e-5);
    }

    @ParameterizedTest(name = "rows={0} n={1}")
    @CsvSource({"1,1", "7,65", "3,300"})
    void addRowVectorReluFused(int rows, int n) {
        Random rnd = new Random(rows * 17 + n);
        float[] pre = randn(rnd, rows * n, 1f), b = randn(rnd, n, 0.5f), want = new float[rows * n];
        float[] biased = pre.clone();
        SaeKernels.addRowVector(biased, b, n, 0, rows);
        SaeKernels.relu(biased, want, 0, rows * n);
        FloatArray dPre = FloatArray.fromArray(pre), dB = FloatArray.fromArray(b), out = poisoned(rows * n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dPre, dB, out)
                .task("t", SaeKernelsGpu::addRowVectorRelu, dPre, dB, out, rows, n)
                .transferToHost(EVERY, out);
        run(tg, null);
        check("addRowVectorRelu " + rows + "x" + n, out, want, 0);
    }

    @Test
    void adam() {
        Random rnd = new Random(5);
        int n = 1027;
        float[] p = randn(rnd, n, 1f), g = randn(rnd, n, 1f), m = randn(rnd, n, 0.1f), v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.abs(rnd.nextGaussian()) * 0.01f;
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, bc1 = 1 - 0.9f * 0.9f * 0.9f, bc2 = 1 - (float) Math.pow(0.999, 3);
        FloatArray dp = FloatArray.fromArray(p), dg = FloatArray.fromArray(g), dm = FloatArray.fromArray(m),
                dv = FloatArray.fromArray(v), hyper = FloatArray.fromElements(lr, bc1, bc2, 0f, 0f);
        SaeKernels.adam(p, g, m, v, lr, b1, b2, eps, bc1, bc2, 0, n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dp, dg, dm, dv, hyper)
                .task("t", SaeKernelsGpu::adam, dp, dg, dm, dv, hyper, b1, b2, eps, n)
                .transferToHost(EVERY, dp, dm, dv);
        run(tg, null);
        check("adam p", dp, p, 1e-6);
        check("adam m", dm, m, 1e-6);
        check("adam v", dv, v, 1e-6);
    }
}
