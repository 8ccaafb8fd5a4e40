package msts.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;

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
}
