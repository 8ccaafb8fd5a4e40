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
public final class TornadoOps extends msts.engine.ForwardingOps {
    private final TornadoDevice device;
    private final String deviceName;
    private final TornadoOptions.Matmul matmul;
    private final Map<Tensor, Map<Integer, MatmulPlan>> plans = new IdentityHashMap<>();

    public TornadoOps(Ops fallback, TornadoDevice device) {
        this(fallback, device, TornadoOptions.Matmul.AUTO);
    }

    /** @param matmul the matmul kernel shape (tornado backend option {@code matmul}; AUTO = by device type) */
    public TornadoOps(Ops fallback, TornadoDevice device, TornadoOptions.Matmul matmul) {
        super(fallback);
        this.matmul = matmul;
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
            boolean threads = Grids.threadPerOutput(device, matmul);
            if (threads && dw instanceof ShortArray s)
                g.task("t", LayerKernels::matmulBF16Threads, out, x, s, exp2, rows, in, outDim);
            else if (threads)
                g.task("t", LayerKernels::matmulF32Threads, out, x, (FloatArray) dw, rows, in, outDim);
            else if (dw instanceof ShortArray s)
                g.task("t", LayerKernels::matmulBF16, new KernelContext(), out, x, s, exp2, rows, in, outDim);
            else
                g.task("t", LayerKernels::matmulF32, new KernelContext(), out, x, (FloatArray) dw, rows, in, outDim);
            g.transferToHost(DataTransferMode.EVERY_EXECUTION, out);
            plan = new TornadoExecutionPlan(g.snapshot());
            if (!threads) {
                GridScheduler gs = new GridScheduler();
                Grids.groupPerItem(gs, "mm", "t", outDim);
                plan.withGridScheduler(gs);
            }
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

    private record GemmKey(boolean transA, boolean transB, int m, int n, int k, float alpha, int lda, int ldb,
                           float beta, int ldc) {}

    /** A cached single-task plan for one gemm shape; a, b, c are staged through device arrays of the used extent. */
    private final class GemmPlan {
        final FloatArray a, b, c;
        final TornadoExecutionPlan plan;

        GemmPlan(GemmKey key) {
            a = new FloatArray(extent(key.transA() ? key.k() : key.m(), key.transA() ? key.m() : key.k(), key.lda()));
            b = new FloatArray(extent(key.transB() ? key.n() : key.k(), key.transB() ? key.k() : key.n(), key.ldb()));
            c = new FloatArray(extent(key.m(), key.n(), key.ldc()));
            int ta = key.transA() ? 1 : 0, tb = key.transB() ? 1 : 0;
            boolean tiled = !Grids.threadPerOutput(device, matmul);
            TaskGraph g = new TaskGraph("gemm").transferToDevice(DataTransferMode.EVERY_EXECUTION, a, b, c);
            if (tiled)
                g.task("t", SaeKernelsGpu::gemmTiled, new KernelContext(), ta, tb, key.m(), key.n(), key.k(),
                        key.alpha(), a, key.lda(), b, key.ldb(), key.beta(), c, key.ldc());
            else
                g.task("t", SaeKernelsGpu::gemm, ta, tb, key.m(), key.n(), key.k(),
                        key.alpha(), a, key.lda(), b, key.ldb(), key.beta(), c, key.ldc());
            g.transferToHost(DataTransferMode.EVERY_EXECUTION, c);
            plan = new TornadoExecutionPlan(g.snapshot());
            if (tiled) {
                GridScheduler gs = new GridScheduler();
                Grids.tiles(gs, "gemm", "t", key.m(), key.n());
                plan.withGridScheduler(gs);
            }
            if (device != null) plan.withDevice(device);
        }
    }

    /** Elements spanned by a row-major [rows, cols] view with leading dimension ld. */
    private static int extent(int rows, int cols, int ld) {
        return rows == 0 || cols == 0 ? 1 : (rows - 1) * ld + cols;
    }

    private final Map<GemmKey, GemmPlan> gemms = new java.util.HashMap<>();

    /**
     * C = α·op(A)·op(B) + β·C on the device (one cached plan per shape; A, B, C copied in, C copied out);
     * the tiled kernel on GPUs, the plain loop on CPU devices ({@link Grids#threadPerOutput}).
     */
    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff,
                                  int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) return;
        GemmPlan p = gemms.computeIfAbsent(new GemmKey(transA, transB, m, n, k, alpha, lda, ldb, beta, ldc), GemmPlan::new);
        MemorySegment.copy(MemorySegment.ofArray(a), (long) aOff * Float.BYTES, p.a.getSegment(), 0, p.a.getNumBytesOfSegment());
        MemorySegment.copy(MemorySegment.ofArray(b), (long) bOff * Float.BYTES, p.b.getSegment(), 0, p.b.getNumBytesOfSegment());
        MemorySegment.copy(MemorySegment.ofArray(c), (long) cOff * Float.BYTES, p.c.getSegment(), 0, p.c.getNumBytesOfSegment());
        p.plan.execute();
        // write back only the m×n block (the gaps between rows of a strided C are left untouched)
        for (int i = 0; i < m; i++)
            MemorySegment.copy(p.c.getSegment(), (long) i * ldc * Float.BYTES, MemorySegment.ofArray(c),
                    (long) (cOff + i * ldc) * Float.BYTES, (long) n * Float.BYTES);
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
        for (GemmPlan p : gemms.values()) {
            try {
                p.plan.freeDeviceMemory();
                p.plan.close();
            } catch (Exception ignored) {
                // best effort at shutdown
            }
        }
        gemms.clear();
    }
}
