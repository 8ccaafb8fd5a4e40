package msts.tornado;

import static msts.tornado.Accel.*;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/** Each {@link LayerKernels} kernel on the device against its reference in {@link Kernels}, awkward shapes. */
class LayerKernelsAccelTest {
    static final int EVERY = DataTransferMode.EVERY_EXECUTION;

    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "rows={0} in={1} out={2}")
    @CsvSource({"1,1,1", "1,67,5", "3,130,33", "7,257,65", "2,1000,3"})
    void matmulF32(int rows, int in, int outDim) {
        Random rnd = new Random(rows * 31 + in);
        float[] x = randn(rnd, rows * in, 1f), w = randn(rnd, outDim * in, 0.1f);
        float[] want = new float[rows * outDim];
        Kernels.matmulF32(want, x, MemorySegment.ofArray(w), rows, in, outDim);
        FloatArray dx = FloatArray.fromArray(x), dw = FloatArray.fromArray(w), out = poisoned(rows * outDim);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dx, dw)
                .task("t", LayerKernels::matmulF32, new KernelContext(), out, dx, dw, rows, in, outDim)
                .transferToHost(EVERY, out);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", outDim);
        run(tg, gs);
        check("matmulF32 " + rows + "x" + in + "x" + outDim, out, want, 1e-5);

        FloatArray out2 = poisoned(rows * outDim);
        TaskGraph tg2 = new TaskGraph("g2").transferToDevice(EVERY, dx, dw)
                .task("t", LayerKernels::matmulF32Threads, out2, dx, dw, rows, in, outDim)
                .transferToHost(EVERY, out2);
        run(tg2, null);
        check("matmulF32Threads " + rows + "x" + in + "x" + outDim, out2, want, 1e-5);
    }

    @ParameterizedTest(name = "rows={0} in={1} out={2}")
    @CsvSource({"1,1,1", "3,130,33", "5,200,17"})
    void matmulBF16(int rows, int in, int outDim) {
        Random rnd = new Random(rows * 17 + in);
        float[] x = randn(rnd, rows * in, 1f);
        Tensor w = Tensor.allocate(DType.BF16, outDim, in);
        for (int i = 0; i < outDim * in; i++) w.set(i, (float) rnd.nextGaussian() * 0.1f);
        w.segment().setAtIndex(Tensor.I16, 0, (short) 0x0005); // a subnormal
        if (outDim * in > 2) w.segment().setAtIndex(Tensor.I16, 1, (short) 0x8001); // a negative subnormal
        float[] want = new float[rows * outDim];
        Kernels.matmulBF16(want, x, w.segment(), rows, in, outDim);
        FloatArray dx = FloatArray.fromArray(x), out = poisoned(rows * outDim);
        ShortArray dw = ShortArray.fromSegment(w.segment());
        FloatArray exp2 = LayerKernels.bf16ExponentTable();
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dx, dw, exp2)
                .task("t", LayerKernels::matmulBF16, new KernelContext(), out, dx, dw, exp2, rows, in, outDim)
                .transferToHost(EVERY, out);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", outDim);
        run(tg, gs);
        check("matmulBF16 " + rows + "x" + in + "x" + outDim, out, want, 1e-5);

        FloatArray out2 = poisoned(rows * outDim);
        TaskGraph tg2 = new TaskGraph("g2").transferToDevice(EVERY, dx, dw, exp2)
                .task("t", LayerKernels::matmulBF16Threads, out2, dx, dw, exp2, rows, in, outDim)
                .transferToHost(EVERY, out2);
        run(tg2, null);
        check("matmulBF16Threads " + rows + "x" + in + "x" + outDim, out2, want, 1e-5);
    }

    @ParameterizedTest(name = "rows={0} dim={1}")
    @CsvSource({"1,1", "1,63", "3,130", "4,2304"})
    void rmsNorm(int rows, int dim) {
        Random rnd = new Random(dim);
        float[] x = randn(rnd, rows * dim, 2f), w = randn(rnd, dim, 0.5f);
        float[] want = new float[rows * dim];
        Kernels.rmsNorm(want, x, Tensor.of(w, dim), rows, dim, 1e-6f);
        FloatArray dx = FloatArray.fromArray(x), dw = FloatArray.fromArray(w), out = poisoned(rows * dim);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dx, dw)
                .task("t", LayerKernels::rmsNorm, new KernelContext(), out, dx, dw, dim, 1e-6f)
                .transferToHost(EVERY, out);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", rows);
        run(tg, gs);
        check("rmsNorm " + rows + "x" + dim, out, want, 1e-5);
    }

    @ParameterizedTest(name = "rows={0} heads={1} hd={2} pos0={3}")
    @CsvSource({"1,1,2,0", "5,3,10,7", "33,2,64,4000"})
    void rope(int rows, int heads, int headDim, int pos0) {
        Random rnd = new Random(rows + heads);
        float[] x = randn(rnd, rows * heads * headDim, 1f);
        float[] want = x.clone();
        Kernels.rope(want, rows, heads, headDim, pos0, 10000f);
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = Kernels.ropeInvFreq(i, headDim, 10000f);
        FloatArray dx = FloatArray.fromArray(x), dinv = FloatArray.fromArray(inv);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dx, dinv)
                .task("t", LayerKernels::rope, dx, dinv, rows, rows, heads, headDim, pos0)
                .transferToHost(EVERY, dx);
        run(tg, null);
        check("rope " + rows + "x" + heads + "x" + headDim + "@" + pos0, dx, want, 2e-5);
    }

    @ParameterizedTest(name = "T={0} heads={1} kv={2} hd={3} softcap={4} window={5}")
    @CsvSource({"1,1,1,4,0,0", "13,4,2,16,50,0", "29,2,1,8,50,5", "70,8,4,32,0,16"})
    void attention(int T, int heads, int kvHeads, int headDim, float softcap, int window) {
        Random rnd = new Random(T * 7 + heads);
        float[] q = randn(rnd, T * heads * headDim, 1f);
        float[] k = randn(rnd, T * kvHeads * headDim, 1f), v = randn(rnd, T * kvHeads * headDim, 1f);
        float scale = (float) (1 / Math.sqrt(headDim)) * 3f; // sharper than usual: exercises the soft-cap
        float[] want = new float[T * heads * headDim];
        Kernels.attention(want, q, k, v, new float[T], T, heads, kvHeads, headDim, scale, softcap, window);
        FloatArray dq = FloatArray.fromArray(q), dk = FloatArray.fromArray(k), dv = FloatArray.fromArray(v);
        FloatArray out = poisoned(want.length);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dq, dk, dv)
                .task("t", LayerKernels::attention, out, dq, dk, dv, 1, T, heads, kvHeads, headDim, scale, softcap, window)
                .transferToHost(EVERY, out);
        run(tg, null);
        check("attention T=" + T + " h=" + heads + "/" + kvHeads + " w=" + window, out, want, 1e-5);
    }

    @ParameterizedTest(name = "n={0}")
    @CsvSource({"1", "1001"})
    void gegluAddSoftcap(int n) {
        Random rnd = new Random(n);
        float[] gate = randn(rnd, n, 3f), up = randn(rnd, n, 1f), acc = randn(rnd, n, 40f);
        float[] g1 = new float[n];
        Kernels.gegluTanh(g1, gate, up, n);
        float[] a1 = acc.clone();
        Kernels.add(a1, g1, n);
        Kernels.softcap(a1, n, 30f);
        FloatArray dg = FloatArray.fromArray(gate), du = FloatArray.fromArray(up), da = FloatArray.fromArray(acc);
        FloatArray out = poisoned(n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dg, du, da)
                .task("geglu", LayerKernels::gegluTanh, out, dg, du, n)
                .task("add", LayerKernels::add, da, out, n)
                .task("cap", LayerKernels::softcap, da, n, 30f)
                .transferToHost(EVERY, out, da);
        run(tg, null);
        check("geglu n=" + n, out, g1, 1e-5);
        check("add+softcap n=" + n, da, a1, 1e-5);
    }

    @ParameterizedTest(name = "n={0}")
    @CsvSource({"1", "1001"})
    void gegluErfAndBias(int n) {
        Random rnd = new Random(n + 5);
        int dim = 7, rows = (n + dim - 1) / dim;
        float[] gate = randn(rnd, n, 3f), up = randn(rnd, n, 1f), x = randn(rnd, rows * dim, 1f), b = randn(rnd, dim, 1f);
        float[] g1 = new float[n];
        Kernels.gegluErf(g1, gate, up, n);
        float[] x1 = x.clone();
        Kernels.addBias(x1, msts.engine.Tensor.of(b, dim), rows, dim);
        FloatArray dg = FloatArray.fromArray(gate), du = FloatArray.fromArray(up), dx = FloatArray.fromArray(x),
                db = FloatArray.fromArray(b);
        FloatArray out = poisoned(n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dg, du, dx, db)
                .task("gegluErf", LayerKernels::gegluErf, out, dg, du, n)
                .task("bias", LayerKernels::addBias, dx, db, rows, dim)
                .transferToHost(EVERY, out, dx);
        run(tg, null);
        check("gegluErf n=" + n, out, g1, 1e-5);
        check("addBias rows=" + rows, dx, x1, 1e-6);
    }
}
