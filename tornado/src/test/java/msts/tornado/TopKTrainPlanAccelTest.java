package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import msts.engine.Ops;
import msts.sae.AbstractSae;
import msts.sae.ConvMode;
import msts.sae.L1Mode;
import msts.sae.SaeConfig;
import msts.sae.SaeKernels;
import msts.sae.SaeParams;
import msts.sae.SaeRegistry;
import msts.sae.SparsePolicy;
import msts.sae.ThresholdKernels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * TopK and BatchTopK training steps on the device ({@link SaeTrainPlan} with act TOPK / BATCHTOPK: the selection
 * kernels, the backward through the selected latents, AuxK on a dead-latent mask) against the CPU trainer's step:
 * {@link AbstractSae#loss} on the reference ops with the same dead mask, then the update of {@code CpuTrainStep}.
 *
 * <p>Per step: the selected set (support of f) and AuxK's selection are compared <b>exactly</b> (the test data are
 * Gaussian, so without ties; with bit-equal ties both sides keep the lower index, but rounding differences of pre
 * between the CPU and device products could reorder near-ties — not on these data), the values of f, mse, the
 * AuxK loss and (BatchTopK) the smallest positive f to a tolerance; after 4 steps every parameter to 2e-6 relative.
 * The dead mask changes per step: some latents dead (k_aux below and above n_dead), none dead, many dead.
 */
class TopKTrainPlanAccelTest {
    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "{0} {1}: d={2} n={3} nSeq={4} T={5} lossStart={6} k={7} kAux={8} unitNorm={9} tiledGemm={10}")
    @CsvSource({
            "topk,      baseline, 13, 37, 3, 5, 1, 5, 6,  false, false",
            "topk,      temporal, 12, 33, 2, 9, 1, 4, 20, true,  false",
            "batchtopk, baseline, 13, 37, 3, 5, 1, 5, 6,  false, false",
            "batchtopk, temporal, 12, 33, 2, 9, 1, 3, 4,  false, false",
            "topk,      baseline, 20, 37, 3, 7, 1, 6, 5,  false, true",
            "batchtopk, temporal, 18, 33, 2, 9, 1, 4, 7,  true,  true"})
    void stepsMatchCpuTrainer(String act, String arch, int d, int n, int nSeq, int T, int ls, int k, int kAux,
                              boolean unitNorm, boolean tiled) {
        // the baseline is the architecture of the same name ("standard" would fix ReLU)
        SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture(arch.equals("temporal") ? arch : act).activation(act).k(k).kAux(kAux)
                .auxKCoefficient(0.25f).dilations(1, 2, 4).convMode(ConvMode.CAUSAL)
                .l1Mode(unitNorm ? L1Mode.UNIT_NORM : L1Mode.DECODER_NORM).build();
        int[] dil = cfg.temporal() ? cfg.dilations() : new int[0];
        float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, lr = 1e-2f, l1 = 0.5f;
        SaeTrainPlan.Act a = act.equals("topk") ? SaeTrainPlan.Act.TOPK : SaeTrainPlan.Act.BATCHTOPK;
        var spec = new SaeTrainPlan.Spec(d, n, nSeq, T, ls, dil, false, unitNorm, b1, b2, eps, 0f, 0f, 0f,
                a, k, cfg.auxKCoefficient(), cfg.kAuxEffective());

        Random rnd = new Random(d * 31 + n + k);
        SaeParams p = new SaeParams(d, n, cfg.nScales());
        for (float[] arr : p.arrays()) for (int i = 0; i < arr.length; i++) arr[i] = (float) rnd.nextGaussian() * 0.3f;
        if (unitNorm) SaeKernels.normalizeRows(p.W_dec, d, 0, n);
        SaeParams g = p.zerosLike(), m = p.zerosLike(), v = p.zerosLike();
        AbstractSae cpu = SaeRegistry.create(cfg, p, Ops.reference());
        int N = spec.rows();
        double auxSeen = 0;

        float[][] p0 = {p.W_enc.clone(), p.b_enc.clone(), p.W_dec.clone(), p.b_dec.clone(), p.conv_w.clone()};
        try (var plan = new SaeTrainPlan(spec, p0, null, null, 0, null, tiled)) {
            for (int step = 1; step <= 4; step++) {
                float[] x = randn(rnd, N * d, 1f);
                boolean[] dead = new boolean[n];
                double pDead = step == 1 ? 0.3 : step == 2 ? 0 : step == 3 ? 0.8 : 0.1;
                for (int j = 0; j < n; j++) dead[j] = rnd.nextDouble() < pDead;
                int nDead = 0;
                for (boolean b : dead) nDead += b ? 1 : 0;
                AbstractSae.LossTerms want = cpu.loss(x, nSeq, T, new AbstractSae.LossInput(ls, l1, dead, 0L, SparsePolicy.AUTO), g);
                float[] fWant = cpu.features().clone();
                long hashWant = cpu.activePatternHash(N);
                if (unitNorm) SaeKernels.projectOutParallel(g.W_dec, p.W_dec, d, 0, n);
                float bc1 = (float) (1 - Math.pow(b1, step)), bc2 = (float) (1 - Math.pow(b2, step));
                float[][] pa = p.arrays(), ga = g.arrays(), ma = m.arrays(), va = v.arrays();
                for (int i = 0; i < pa.length; i++) SaeKernels.adam(pa[i], ga[i], ma[i], va[i], lr, b1, b2, eps, bc1, bc2, 0, pa[i].length);
                if (unitNorm) SaeKernels.normalizeRows(p.W_dec, d, 0, n);

                var got = plan.step(x, lr, l1, dead);
                String tag = act + " " + arch + (unitNorm ? " unit_norm" : "") + (tiled ? " tiled" : "") + " step " + step
                        + " (" + nDead + " dead)";
                System.out.printf("[accel] %s mse %.6f/%.6f aux %.6f/%.6f l0 %.3f/%.3f loss %.6f/%.6f%n", tag,
                        got.mse(), want.mse(), got.aux(), want.aux(), got.l0(), want.l0(), got.loss(), want.loss());
                // the selections, exactly: support of f, then (when AuxK ran) f's support and AuxK's selection hashed
                float[] fGot = plan.features();
                for (int i = 0; i < N * n; i++)
                    assertEquals(fWant[i] > 0f, fGot[i] > 0f, tag + ": f support differs at row " + i / n + " latent " + i % n);
                check(tag + " f", FloatArray.fromArray(fGot), fWant, 1e-5);
                if (nDead > 0) assertEquals(hashWant, hash(fGot, plan.auxSelection(), N * n), tag + ": AuxK selection differs");
                assertEquals(want.l0(), got.l0(), 0, tag + " l0");
                assertEquals(0, got.l1(), 0, tag + " l1 (none for TopK)");
                assertEquals(want.mse(), got.mse(), 1e-5 * (1 + want.mse()), tag + " mse");
                assertEquals(want.aux(), got.aux(), 1e-5 * (1 + want.aux()), tag + " aux");
                assertEquals(want.loss(), got.loss(), 1e-5 * (1 + want.loss()), tag + " loss");
                if (nDead == 0) assertEquals(0, got.aux(), 0, tag + " aux without dead latents");
                auxSeen = Math.max(auxSeen, want.aux());
                if (a == SaeTrainPlan.Act.BATCHTOPK) {
                    float mp = ThresholdKernels.minPositive(fWant, N, n, T, ls);
                    assertEquals(mp, got.minPositive(), 1e-5 * (1 + mp), tag + " min positive f");
                }
            }
            assertTrue(auxSeen > 0, "the AuxK term was active in some step");
            plan.syncParams();
            FloatArray[] dev = {plan.W_enc, plan.b_enc, plan.W_dec, plan.b_dec, plan.conv_w};
            float[][] host = p.arrays();
            for (int i = 0; i < (cfg.temporal() ? 5 : 4); i++)
                check(act + " " + arch + " " + SaeParams.NAMES[i] + " after 4 steps", dev[i], host[i], 2e-6);
        }
    }

    /** {@link AbstractSae#activePatternHash}'s formula over f &gt; 0, then the AuxK selection bits. */
    static long hash(float[] f, float[] sel, int len) {
        long h = 1469598103934665603L;
        for (int i = 0; i < len; i++) h = (h ^ (f[i] > 0f ? 1 : 0)) * 1099511628211L;
        for (int i = 0; i < len; i++) h = (h ^ (sel[i] != 0f ? 1 : 0)) * 1099511628211L;
        return h;
    }
}
