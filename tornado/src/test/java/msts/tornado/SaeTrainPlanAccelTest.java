package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import msts.engine.Ops;
import msts.sae.SaeConfig;
import msts.sae.SaeKernels;
import msts.sae.AbstractSae;
import msts.sae.ConvMode;
import msts.sae.L1Mode;
import msts.sae.SaeRegistry;
import msts.sae.SparsePolicy;
import msts.sae.SaeParams;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Whole SAE training steps on the device (parameters and Adam state resident) against the CPU trainer's
 * step: {@link AbstractSae#loss} with the reference ops, then the update of {@code SaeTrainer} (unit-norm
 * projection, {@link SaeKernels#adam}, renormalisation), for the ReLU baseline and the temporal SAE.
 */
class SaeTrainPlanAccelTest {
    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "{0}: d={1} n={2} nSeq={3} T={4} lossStart={5} unitNorm={6} centred={7} tiledGemm={8}")
    @CsvSource({
            "relu,     13, 37, 3, 5, 1, false, false, false",
            "relu,     8,  16, 1, 1, 0, true,  false, false",
            "temporal, 13, 37, 2, 9, 1, false, false, false",
            "temporal, 6,  10, 3, 7, 1, true,  true,  false",
            "relu,     20, 37, 3, 7, 1, false, false, true",
            "temporal, 18, 33, 2, 9, 1, true,  false, true"})
    void stepsMatchCpuTrainer(String arch, int d, int n, int nSeq, int T, int ls, boolean unitNorm, boolean centred,
                              boolean tiled) {
        SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture(arch).activation("relu").dilations(1, 2, 4)
                .convMode(centred ? ConvMode.CENTRED : ConvMode.CAUSAL).l1Mode(unitNorm ? L1Mode.UNIT_NORM : L1Mode.DECODER_NORM).build();
        int[] dil = cfg.temporal() ? cfg.dilations() : new int[0];
        float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, lr = 1e-2f, l1 = 0.5f;
        var spec = new SaeTrainPlan.Spec(d, n, nSeq, T, ls, dil, centred, unitNorm, b1, b2, eps);

        Random rnd = new Random(d * 31 + n);
        SaeParams p = new SaeParams(d, n, cfg.nScales());
        for (float[] a : p.arrays()) for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian() * 0.3f;
        if (unitNorm) SaeKernels.normalizeRows(p.W_dec, d, 0, n);
        SaeParams g = p.zerosLike(), m = p.zerosLike(), v = p.zerosLike();
        AbstractSae loss = SaeRegistry.create(cfg, p, Ops.reference());

        float[][] p0 = {p.W_enc.clone(), p.b_enc.clone(), p.W_dec.clone(), p.b_dec.clone(), p.conv_w.clone()};
        try (var plan = new SaeTrainPlan(spec, p0, null, null, 0, null, tiled)) {
            for (int step = 1; step <= 3; step++) {
                float[] x = randn(rnd, spec.rows() * d, 1f);
                AbstractSae.LossTerms want = loss.loss(x, nSeq, T, new AbstractSae.LossInput(ls, l1, null, 0L, SparsePolicy.AUTO), g);
                if (unitNorm) SaeKernels.projectOutParallel(g.W_dec, p.W_dec, d, 0, n);
                float bc1 = (float) (1 - Math.pow(b1, step)), bc2 = (float) (1 - Math.pow(b2, step));
                float[][] pa = p.arrays(), ga = g.arrays(), ma = m.arrays(), va = v.arrays();
                for (int i = 0; i < pa.length; i++) SaeKernels.adam(pa[i], ga[i], ma[i], va[i], lr, b1, b2, eps, bc1, bc2, 0, pa[i].length);
                if (unitNorm) SaeKernels.normalizeRows(p.W_dec, d, 0, n);

                var got = plan.step(x, lr, l1);
                String tag = arch + (unitNorm ? " unit_norm" : "") + (tiled ? " tiled" : "") + " step " + step;
                System.out.printf("[accel] %s mse %.6f/%.6f l1 %.6f/%.6f l0 %.3f/%.3f%n", tag,
                        got.mse(), want.mse(), got.l1(), want.l1(), got.l0(), want.l0());
                assertEquals(want.mse(), got.mse(), 1e-5 * (1 + want.mse()), tag + " mse");
                assertEquals(want.l1(), got.l1(), 1e-5 * (1 + want.l1()), tag + " l1");
                assertEquals(want.l0(), got.l0(), 0, tag + " l0");
            }
            plan.syncParams();
            FloatArray[] dev = {plan.W_enc, plan.b_enc, plan.W_dec, plan.b_dec, plan.conv_w};
            float[][] host = p.arrays();
            for (int i = 0; i < (cfg.temporal() ? 5 : 4); i++)
                check(arch + " " + SaeParams.NAMES[i] + " after 3 steps", dev[i], host[i], 1e-6);
        }
    }
}
