package msts.tornado;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Shared helpers of the device tests: skip when no device, poison-filled outputs, error measures. */
final class Accel {
    private Accel() {}

    /** Skips the calling test (with the reason) when no TornadoVM runtime/device is present. */
    static void assumeDevice() {
        String why = TornadoRuntimeInfo.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        assertTrue(Boolean.parseBoolean(System.getProperty("tornado.recover.bailout", "true")) == false,
                "device tests must run with -Dtornado.recover.bailout=False (a bail-out would run plain Java)");
    }

    static float[] randn(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian() * scale;
        return a;
    }

    /** Token batches of the given lengths: BOS first, then uniform random ids below V. */
    static int[][] batch(Random r, int V, int bos, int... lengths) {
        int[][] b = new int[lengths.length][];
        for (int s = 0; s < b.length; s++) {
            b[s] = new int[lengths[s]];
            for (int t = 0; t < b[s].length; t++) b[s][t] = t == 0 ? bos : r.nextInt(V);
        }
        return b;
    }

    static FloatArray poisoned(int n) {
        FloatArray a = new FloatArray(n);
        a.init(Float.NaN);
        return a;
    }

    /** Executes one snapshot of {@code tg} (with an optional grid) on the default device. */
    static void run(TaskGraph tg, GridScheduler grid) {
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(tg.snapshot())) {
            if (grid != null) plan.withGridScheduler(grid);
            plan.execute();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** max_i |a_i − b_i| / (1 + |b_i|): relative for large values, absolute near zero. NaN when either is NaN. */
    static double maxErr(FloatArray got, float[] want) {
        double m = 0;
        for (int i = 0; i < want.length; i++) {
            float g = got.get(i);
            if (Float.isNaN(g) || Float.isNaN(want[i])) return Double.NaN;
            m = Math.max(m, Math.abs(g - want[i]) / (1 + Math.abs(want[i])));
        }
        return m;
    }

    /** Asserts the error is finite and within tol, and prints it (the tolerances come from these prints). */
    static void check(String what, FloatArray got, float[] want, double tol) {
        double e = maxErr(got, want);
        System.out.printf("[accel] %-28s n=%-8d maxErr=%.3g tol=%.1g%n", what, want.length, e, tol);
        assertTrue(!Double.isNaN(e), what + ": NaN in the output (kernel did not write every element)");
        assertTrue(e <= tol, what + ": max error " + e + " > " + tol);
    }
}
