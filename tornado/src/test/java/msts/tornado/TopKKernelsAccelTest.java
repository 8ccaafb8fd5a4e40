package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import msts.sae.SaeKernels;
import msts.sae.ThresholdKernels;
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
 * TopK and BatchTopK selection on the device against {@code SaeKernels.topk} and {@code ThresholdKernels.batchTopK}:
 * exact equality (a selection, no arithmetic), with ties (values rounded to halves, so many are equal and the
 * lower-index rule decides), rows shorter than the work-group, k = 1 and k = n, mostly negative rows (ReLU zeros).
 */
class TopKKernelsAccelTest {
    static final int EVERY = DataTransferMode.EVERY_EXECUTION;

    @BeforeEach
    void device() { assumeDevice(); }

    /** Gaussian values; ties = round to multiples of 0.5 (many equal values); shift moves the mean. */
    static float[] values(Random rnd, int len, boolean ties, float shift) {
        float[] a = randn(rnd, len, 1f);
        for (int i = 0; i < len; i++) {
            a[i] += shift;
            if (ties) a[i] = Math.round(a[i] * 2f) / 2f;
        }
        return a;
    }

    @ParameterizedTest(name = "rows={0} n={1} k={2} ties={3} shift={4}")
    @CsvSource({"1,1,1,false,0", "3,5,2,true,0", "4,70,1,false,0", "2,70,70,true,0", "5,200,17,true,0",
            "3,129,9,false,-2", "2,64,64,true,-1", "1,1000,40,true,0.5"})
    void topkRows(int rows, int n, int k, boolean ties, float shift) {
        Random rnd = new Random(rows * 1000 + n * 7 + k);
        float[] pre = values(rnd, rows * n, ties, shift), want = new float[rows * n];
        SaeKernels.topk(pre, want, n, k, new float[n], 0, rows);
        FloatArray dPre = FloatArray.fromArray(pre), out = poisoned(rows * n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dPre, out)
                .task("t", TopKKernelsGpu::topkRows, new KernelContext(), dPre, out, n, k)
                .transferToHost(EVERY, out);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", rows);
        run(tg, gs);
        check("topkRows " + rows + "x" + n + " k=" + k + (ties ? " ties" : ""), out, want, 0);
    }

    @ParameterizedTest(name = "nSeq={0} T={1} n={2} lossStart={3} K={4} ties={5} shift={6}")
    @CsvSource({"1,1,1,0,1,false,0", "2,5,7,1,3,true,0", "3,7,33,1,20,false,0", "2,9,70,2,64,true,0",
            "2,4,50,1,1000,false,-1", "1,3,10,0,0,false,0", "2,8,100,1,160,true,-0.5", "1,2,5,1,5,false,0"})
    void batchTopK(int nSeq, int T, int n, int ls, int K, boolean ties, float shift) {
        Random rnd = new Random(nSeq * 100 + T * 10 + n + K);
        int rows = nSeq * T;
        float[] pre = values(rnd, rows * n, ties, shift), want = new float[rows * n];
        int keptWant = ThresholdKernels.batchTopK(pre, want, rows, n, T, ls, K, new float[rows * n]);
        FloatArray dPre = FloatArray.fromArray(pre), out = poisoned(rows * n), kept = poisoned(2);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dPre, out, kept)
                .task("t", TopKKernelsGpu::batchTopK, new KernelContext(), dPre, out, rows, n, T, ls, K, kept, 1)
                .transferToHost(EVERY, out, kept);
        WorkerGrid1D one = new WorkerGrid1D(TopKKernelsGpu.WG);
        one.setLocalWork(TopKKernelsGpu.WG, 1, 1);
        run(tg, new GridScheduler("g.t", one));
        String tag = "batchTopK " + rows + "x" + n + " K=" + K + (ties ? " ties" : "");
        check(tag, out, want, 0);
        System.out.printf("[accel] %-28s kept=%d/%d%n", tag, (int) kept.get(1), keptWant);
        assertEquals(keptWant, kept.get(1), 0, tag + " kept count");
    }

    /** AuxK's selection among the dead latents (raw values, no ReLU), k_aux read from the hyper array; sel exact. */
    @ParameterizedTest(name = "rows={0} n={1} kAux={2} pDead={3} ties={4} shift={5}")
    @CsvSource({"1,1,1,1,false,0", "3,5,2,0.5,true,0", "4,70,3,0.3,false,-1", "2,70,0,0.5,false,0",
            "3,130,64,1,true,0", "2,40,1,0.1,true,-2", "1,1000,40,0.5,true,0.5"})
    void topkDeadRows(int rows, int n, int kAux, double pDead, boolean ties, float shift) {
        Random rnd = new Random(rows * 1000 + n * 7 + kAux);
        float[] pre = values(rnd, rows * n, ties, shift);
        boolean[] dead = new boolean[n];
        int nDead = 0;
        for (int j = 0; j < n; j++) {
            dead[j] = rnd.nextDouble() < pDead || (j == n - 1 && nDead == 0);
            nDead += dead[j] ? 1 : 0;
        }
        int k = Math.min(kAux, nDead);
        float[] want = new float[rows * n], selWant = new float[rows * n];
        byte[] sel = new byte[rows * n];
        if (k > 0) SaeKernels.topkDead(pre, dead, nDead, want, sel, n, k, new float[n], 0, rows);
        for (int i = 0; i < sel.length; i++) selWant[i] = sel[i];
        float[] deadF = new float[n];
        for (int j = 0; j < n; j++) deadF[j] = dead[j] ? 1f : 0f;
        FloatArray dPre = FloatArray.fromArray(pre), dDead = FloatArray.fromArray(deadF),
                hyper = FloatArray.fromArray(new float[]{9f, k}), out = poisoned(rows * n), dSel = poisoned(rows * n);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dPre, dDead, hyper, out, dSel)
                .task("t", TopKKernelsGpu::topkDeadRows, new KernelContext(), dPre, dDead, hyper, 1, out, dSel, n)
                .transferToHost(EVERY, out, dSel);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", rows);
        run(tg, gs);
        String tag = "topkDead " + rows + "x" + n + " k=" + k + "/" + nDead + (ties ? " ties" : "");
        check(tag, out, want, 0);
        check(tag + " sel", dSel, selWant, 0);
    }

    /** BatchTopK's threshold statistic: the smallest positive f of the counted rows (−1 on the device for none). */
    @ParameterizedTest(name = "nSeq={0} T={1} n={2} lossStart={3} shift={4}")
    @CsvSource({"1,1,1,0,0", "2,5,7,1,0", "3,7,70,1,-1", "2,3,5,1,-50", "1,4,300,2,0.3"})
    void minPositive(int nSeq, int T, int n, int ls, float shift) {
        Random rnd = new Random(nSeq * 100 + T * 10 + n);
        int rows = nSeq * T;
        float[] f = values(rnd, rows * n, false, shift);
        for (int i = 0; i < f.length; i++) f[i] = Math.max(f[i], 0f);
        float want = ThresholdKernels.minPositive(f, rows, n, T, ls);
        FloatArray dF = FloatArray.fromArray(f), out = poisoned(2);
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dF, out)
                .task("t", SaeKernelsGpu::minPositive, new KernelContext(), dF, rows, n, T, ls, out, 1)
                .transferToHost(EVERY, out);
        GridScheduler gs = new GridScheduler();
        Grids.groupPerItem(gs, "g", "t", 1);
        run(tg, gs);
        float got = out.get(1);
        System.out.printf("[accel] minPositive %dx%d got=%s want=%s%n", rows, n, got, want);
        assertEquals(want == Float.POSITIVE_INFINITY ? -1f : want, got, 0f, "min positive f");
    }

    /**
     * The multi-group BatchTopK ({@link TopKKernelsGpu#batchTopKTasks}) against {@code ThresholdKernels.batchTopK}:
     * f and the kept count exactly, with 1 to 64 groups (groups = 0: {@link TopKKernelsGpu#batchTopKGroups}),
     * ties, K = 0, K above the positives, and "outlier" batches (values ~1e-6 next to one 1e3: θ is not resolved by
     * the histogram rounds and the final bisection finishes it).
     */
    @ParameterizedTest(name = "nSeq={0} T={1} n={2} lossStart={3} K={4} ties={5} shift={6} groups={7} outlier={8}")
    @CsvSource({"1,1,1,0,1,false,0,1,false", "2,5,7,1,3,true,0,3,false", "3,7,33,1,20,false,0,7,false",
            "2,9,70,2,64,true,0,0,false", "2,4,50,1,1000,false,-1,5,false", "1,3,10,0,0,false,0,2,false",
            "2,8,100,1,160,true,-0.5,64,false", "1,2,5,1,5,false,0,4,false", "4,16,300,1,900,false,0,0,false",
            "3,8,200,1,300,false,0,13,true", "2,6,64,1,40,true,0,9,true"})
    void batchTopKMultiGroup(int nSeq, int T, int n, int ls, int K, boolean ties, float shift, int groups, boolean outlier) {
        Random rnd = new Random(nSeq * 100 + T * 10 + n + K + 7);
        int rows = nSeq * T;
        float[] pre = values(rnd, rows * n, ties, shift);
        if (outlier) {
            for (int i = 0; i < pre.length; i++) pre[i] *= 1e-6f;
            pre[pre.length / 2] = 1e3f;
        }
        float[] want = new float[rows * n];
        int keptWant = ThresholdKernels.batchTopK(pre, want, rows, n, T, ls, K, new float[rows * n]);
        int G = groups > 0 ? groups : TopKKernelsGpu.batchTopKGroups(rows * n);
        FloatArray dPre = FloatArray.fromArray(pre), out = poisoned(rows * n), kept = poisoned(2);
        GridScheduler gs = new GridScheduler();
        TaskGraph tg = new TaskGraph("g").transferToDevice(EVERY, dPre, out, kept);
        TopKKernelsGpu.batchTopKTasks(tg, gs, "g", "btk", dPre, out, rows, n, T, ls, K, kept, 1, G);
        tg.transferToHost(EVERY, out, kept);
        run(tg, gs);
        String tag = "batchTopK×" + G + " " + rows + "x" + n + " K=" + K + (ties ? " ties" : "") + (outlier ? " outlier" : "");
        check(tag, out, want, 0);
        System.out.printf("[accel] %-28s kept=%d/%d%n", tag, (int) kept.get(1), keptWant);
        assertEquals(keptWant, kept.get(1), 0, tag + " kept count");
    }
}
