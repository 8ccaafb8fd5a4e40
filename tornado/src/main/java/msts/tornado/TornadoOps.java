package msts.tornado;

import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;

import msts.engine.Ops;
import msts.engine.Tensor;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * {@link Ops} on a TornadoVM device, the seam that lets unchanged model code (which receives an {@code Ops})
 * run on another backend. {@link #matmul} — the bulk of a forward pass — runs on the device with each
 * weight transferred once and kept resident (one small plan per weight tensor and row count); the other
 * ops run on the CPU {@code fallback}. This op-by-op path pays a host↔device copy of the activations per
 * call; the whole-layer path without those copies is {@link Gemma2Plan}.
 */
public final class TornadoOps implements Ops {
    private final Ops fallback;
    private final TornadoDevice device;
    private final String deviceName;
    private final Map<Tensor, Map<Integer, MatmulPlan>> plans = new IdentityHashMap<>();

    public TornadoOps(Ops fallback, TornadoDevice device) {
        this.fallback = fallback;
        this.device = device;
        this.deviceName = device == null ? "default" : device.getDeviceName();
    }

    @Override
    public String name() { return "tornado(" + deviceName + ")"; }

    private final class MatmulPlan {
        final FloatArray x, out;
        final TornadoExecutionPlan plan;

        MatmulPlan(Tensor w, int rows) {
            int outDim = (int) w.dim(0), in = (int) w.dim(1);
            x = new FloatArray(rows * in);
            out = new FloatArray(rows * outDim);
            TornadoNativeArray dw = Gemma2Plan.weight(w);
            FloatArray exp2 = LayerKernels.bf16ExponentTable();
            TaskGraph g = new TaskGraph("mm").transferToDevice(DataTransferMode.EVERY_EXECUTION, x)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, dw, exp2);
            if (dw instanceof ShortArray s)
                g.task("t", LayerKernels::matmulBF16, new KernelContext(), out, x, s, exp2, rows, in, outDim);
            else
                g.task("t", LayerKernels::matmulF32, new KernelContext(), out, x, (FloatArray) dw, rows, in, outDim);
            g.transferToHost(DataTransferMode.EVERY_EXECUTION, out);
            GridScheduler gs = new GridScheduler();
            Grids.groupPerItem(gs, "mm", "t", outDim);
            plan = new TornadoExecutionPlan(g.snapshot()).withGridScheduler(gs);
            if (device != null) plan.withDevice(device);
        }
    }

    @Override
    public synchronized void matmul(float[] out, float[] x, Tensor w, int rows) {
        MatmulPlan p = plans.computeIfAbsent(w, k -> new java.util.HashMap<>()).computeIfAbsent(rows, r -> new MatmulPlan(w, r));
        int in = (int) w.dim(1), outDim = (int) w.dim(0);
        MemorySegment.copy(MemorySegment.ofArray(x), 0, p.x.getSegment(), 0, (long) rows * in * Float.BYTES);
        p.plan.execute();
        MemorySegment.copy(p.out.getSegment(), 0, MemorySegment.ofArray(out), 0, (long) rows * outDim * Float.BYTES);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        fallback.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps) {
        fallback.rmsNorm(out, x, w, rows, dim, eps);
    }

    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta) {
        fallback.rope(x, rows, heads, headDim, pos0, theta);
    }

    @Override
    public void attention(float[] out, float[] q, float[] k, float[] v, int T, int heads, int kvHeads, int headDim,
                          float scale, float softcap, int window) {
        fallback.attention(out, q, k, v, T, heads, kvHeads, headDim, scale, softcap, window);
    }

    @Override
    public void geglu(float[] out, float[] gate, float[] up, int n) {
        fallback.geglu(out, gate, up, n);
    }

    /** Frees the device memory of all cached plans. */
    public synchronized void close() {
        for (var m : plans.values())
            for (MatmulPlan p : m.values()) {
                try {
                    p.plan.freeDeviceMemory();
                    p.plan.close();
                } catch (Exception ignored) {
                    // best effort at shutdown
                }
            }
        plans.clear();
    }
}
