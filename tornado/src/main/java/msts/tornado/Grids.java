package msts.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

/**
 * Launch geometry of every {@link uk.ac.manchester.tornado.api.KernelContext} kernel, in one place.
 * {@code @Parallel} kernels use TornadoVM's default scheduler and need no entry here.
 */
public final class Grids {
    private Grids() {}

    /** One work-group of {@link LayerKernels#WG} threads per item (output feature, row, …): global = n·WG. */
    public static WorkerGrid groupPerItem(int n) {
        WorkerGrid1D g = new WorkerGrid1D(n * LayerKernels.WG);
        g.setLocalWork(LayerKernels.WG, 1, 1);
        return g;
    }

    /** Registers {@code graph.task} with one work-group per item. */
    public static void groupPerItem(GridScheduler s, String graph, String task, int n) {
        s.addWorkerGrid(graph + "." + task, groupPerItem(n));
    }

    /** {@link SaeKernelsGpu#gemmTiled} on C [m, n]: ⌈n/TS⌉ × ⌈m/TS⌉ work-groups of TS × TS (x = column, y = row). */
    public static WorkerGrid tiles(int m, int n) {
        int ts = SaeKernelsGpu.TS;
        WorkerGrid2D g = new WorkerGrid2D(Math.max(1, (n + ts - 1) / ts) * ts, Math.max(1, (m + ts - 1) / ts) * ts);
        g.setLocalWork(ts, ts, 1);
        return g;
    }

    /** Registers {@code graph.task} as a tiled gemm on C [m, n]. */
    public static void tiles(GridScheduler s, String graph, String task, int m, int n) {
        s.addWorkerGrid(graph + "." + task, tiles(m, n));
    }

    /**
     * Whether matmuls use one work-item per output ({@code *Threads} kernels, CPU OpenCL devices) instead of
     * one work-group per output feature with a local-memory reduction (GPUs). The tornado backend option
     * {@code matmul=threads|groups} overrides the choice by device type ({@code auto}). The same choice picks the
     * gemm of the SAE step and of {@link TornadoOps#gemm}: the plain loop {@link SaeKernelsGpu#gemm} with threads,
     * the local-memory tiles {@link SaeKernelsGpu#gemmTiled} with groups.
     */
    public static boolean threadPerOutput(uk.ac.manchester.tornado.api.common.TornadoDevice device, TornadoOptions.Matmul matmul) {
        if (matmul == TornadoOptions.Matmul.THREADS) return true;
        if (matmul == TornadoOptions.Matmul.GROUPS) return false;
        try {
            var d = device != null ? device : uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice();
            return d.getDeviceType() == uk.ac.manchester.tornado.api.enums.TornadoDeviceType.CPU;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
