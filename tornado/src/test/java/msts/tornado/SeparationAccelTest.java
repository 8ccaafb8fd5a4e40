package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import msts.engine.Ops;
import msts.sae.SaeConfig;
import msts.sae.SaeKernels;
import msts.sae.SepForm;
import msts.sae.SeparationLoss;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The exact ("all" pairs) separation loss as one device graph — row norms, U = W/‖W‖, G = U·Uᵀ (tiled gemm),
 * φ and s·φ' on G, dU = G'·U + G'ᵀ·U, dW += the gradient through the normalisation — against
 * {@link SeparationLoss#forward} / {@link SeparationLoss#addGradient} on the reference ops: the loss value and dW.
 */
class SeparationAccelTest {
    static final int EVERY = DataTransferMode.EVERY_EXECUTION;

    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "n={0} d={1} margin={2} zeroRow={3}")
    @CsvSource({"2,1,0,false", "37,20,0,false", "70,13,0.1,true", "33,65,0.05,false"})
    void allPairsLossAndGradient(int n, int d, float margin, boolean zeroRow) {
        Random rnd = new Random(n * 31 + d);
        float wt = 0.3f;
        float[] w = randn(rnd, n * d, 1f), dw0 = randn(rnd, n * d, 0.1f);
        if (zeroRow) java.util.Arrays.fill(w, d, 2 * d, 0f); // row 1: zero norm, no gradient
        float[] norms = new float[n];
        SaeKernels.rowNorms(w, d, norms, 0, n);
        var cfg = new SaeConfig.Separation(wt, SepForm.ALL, margin, 0);
        SeparationLoss ref = new SeparationLoss(cfg, Ops.reference(), n, d);
        double lossWant = ref.forward(w, norms, null, 1, 1, 0, 0L, true);
        float[] dwWant = dw0.clone();
        ref.addGradient(norms, dwWant);

        double pairs = (double) n * (n - 1);
        float s = (float) (wt / pairs);
        FloatArray dW = FloatArray.fromArray(w), dNorms = new FloatArray(n), u = new FloatArray(n * d),
                gram = new FloatArray(n * n), rowSum = new FloatArray(n), du = new FloatArray(n * d),
                sum = poisoned(1), dDw = FloatArray.fromArray(dw0);
        TaskGraph tg = new TaskGraph("sep").transferToDevice(EVERY, dW, dNorms, u, gram, rowSum, du, sum, dDw)
                .task("norms", SaeKernelsGpu::rowNorms, new KernelContext(), dW, d, dNorms)
                .task("unit", SaeKernelsGpu::unitRows, dW, dNorms, u, n, d)
                .task("gram", SaeKernelsGpu::gemmTiled, new KernelContext(), 0, 1, n, n, d, 1f, u, d, u, d, 0f, gram, n)
                .task("phi", SaeKernelsGpu::sepGram, new KernelContext(), gram, n, margin, s, rowSum)
                .task("sum", SaeKernelsGpu::sumTo, new KernelContext(), rowSum, n, sum, 0)
                .task("du1", SaeKernelsGpu::gemmTiled, new KernelContext(), 0, 0, n, d, n, 1f, gram, n, u, d, 0f, du, d)
                .task("du2", SaeKernelsGpu::gemmTiled, new KernelContext(), 1, 0, n, d, n, 1f, gram, n, u, d, 1f, du, d)
                .task("back", SaeKernelsGpu::backUnitRows, new KernelContext(), du, u, dNorms, dDw, d)
                .transferToHost(EVERY, sum, dDw);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "sep", "norms", n);
        Grids.tiles(gs, "sep", "gram", n, n);
        Grids.groupPerItem(gs, "sep", "phi", n);
        WorkerGrid1D one = new WorkerGrid1D(LayerKernels.WG);
        one.setLocalWork(LayerKernels.WG, 1, 1);
        gs.addWorkerGrid("sep.sum", one);
        Grids.tiles(gs, "sep", "du1", n, d);
        Grids.tiles(gs, "sep", "du2", n, d);
        Grids.groupPerItem(gs, "sep", "back", n);
        run(tg, gs);
        double lossGot = wt * (double) sum.get(0) / pairs;
        String tag = "separation " + n + "x" + d + " m=" + margin;
        System.out.printf("[accel] %-28s loss %.8f/%.8f%n", tag, lossGot, lossWant);
        assertEquals(lossWant, lossGot, 1e-5 * (1 + Math.abs(lossWant)), tag + " loss");
        check(tag + " dW", dDw, dwWant, 1e-5);
    }
}
