package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Whole SAE training steps on the device (parameters resident) against the plain-Java trainer step. */
class SaeTrainPlanAccelTest {
    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "{0}: d={1} n={2} nSeq={3} T={4} lossStart={5} unitNorm={6} centred={7}")
    @CsvSource({
            "relu,     13, 37, 3, 5, 1, false, false",
            "relu,     8,  16, 1, 1, 0, true,  false",
            "temporal, 13, 37, 2, 9, 1, false, false",
            "temporal, 6,  10, 3, 7, 0, false, true"})
    void stepsMatchReference(String variant, int d, int n, int nSeq, int T, int ls, boolean unitNorm, boolean centred) {
        int[] dil = variant.equals("temporal") ? new int[]{1, 2, 4} : new int[0];
        var spec = new SaeTrainPlan.Spec(d, n, nSeq, T, ls, dil, centred, unitNorm, 0.9f, 0.999f, 1e-8f);
        Random rnd = new Random(d * 31 + n);
        float[] wEnc = randn(rnd, d * n, 0.3f), bEnc = randn(rnd, n, 0.1f), wDec = randn(rnd, n * d, 0.3f),
                bDec = randn(rnd, d, 0.1f), conv = randn(rnd, dil.length * d * 3, 0.2f);
        var ref = dil.length > 0 ? new SaeReference.State(wEnc, bEnc, wDec, bDec, conv)
                : new SaeReference.State(wEnc, bEnc, wDec, bDec);
        try (var plan = new SaeTrainPlan(spec, wEnc, bEnc, wDec, bDec, conv, null)) {
            for (int step = 0; step < 3; step++) {
                float[] x = randn(rnd, spec.rows() * d, 1f);
                double[] want = SaeReference.step(spec, ref, x, 1e-2f, 0.5f);
                var got = plan.step(x, 1e-2f, 0.5f);
                String tag = variant + " step " + (step + 1);
                System.out.printf("[accel] %s mse %.6f/%.6f l1 %.6f/%.6f l0 %.3f/%.3f%n", tag,
                        got.mse(), want[0], got.l1(), want[1], got.l0(), want[2]);
                assertEquals(want[0], got.mse(), 1e-5 * (1 + want[0]), tag + " mse");
                assertEquals(want[1], got.l1(), 1e-5 * (1 + want[1]), tag + " l1");
                assertEquals(want[2], got.l0(), 0, tag + " l0");
            }
            plan.syncParams();
            FloatArray[] dev = {plan.W_enc, plan.b_enc, plan.W_dec, plan.b_dec, plan.conv_w};
            String[] names = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w"};
            for (int i = 0; i < ref.p.length; i++) check(variant + " " + names[i] + " after 3 steps", dev[i], ref.p[i], 1e-6);
        }
    }
}
