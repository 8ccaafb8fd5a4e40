package msts.sae;

import msts.engine.Ops;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every variant's and every loss term's gradient against central finite differences, on tiny shapes
 * (d_in 6, d_sae 10, 3 sequences of T = 9 with dilations 1, 2, 4 so that sequence edges matter).
 * Coordinates whose ±ε perturbation changes an active set (ReLU/TopK/AuxK kink) are skipped; at least
 * 75% of the coordinates of each parameter must be checked.
 */
class SaeGradientTest {
    static final int D = 6, N_SAE = 10, NSEQ = 3, T = 9;

    static SaeConfig.Builder builder(String arch, String act) {
        return SaeConfig.builder().dIn(D).dSae(N_SAE).architecture(arch).activation(act).k(3).dilations(1, 2, 4)
                .kAux(4).auxKCoefficient(0.5f);
    }

    static SaeConfig cfg(String arch, String act) {
        return builder(arch, act).build();
    }

    static SaeParams randomParams(SaeConfig c, long seed) {
        SaeParams p = SaeParams.forConfig(c);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < p.W_enc.length; i++) p.W_enc[i] = (float) (r.nextDouble(-1, 1) * 0.6);
        for (int i = 0; i < p.W_dec.length; i++) p.W_dec[i] = (float) (r.nextDouble(-1, 1) * 0.6);
        for (int i = 0; i < p.b_enc.length; i++) p.b_enc[i] = (float) r.nextDouble(-0.3, 0.3);
        for (int i = 0; i < p.b_dec.length; i++) p.b_dec[i] = (float) r.nextDouble(-0.3, 0.3);
        for (int i = 0; i < p.conv_w.length; i++) p.conv_w[i] = (float) r.nextDouble(-0.5, 0.5);
        for (int i = 0; i < p.log_threshold.length; i++) p.log_threshold[i] = (float) Math.log(r.nextDouble(0.05, 0.5));
        return p;
    }

    static float[] randomX(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[NSEQ * T * D];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    /** Checks ∂L/∂θ against central differences for every parameter coordinate. */
    static void check(SaeConfig c, float l1, boolean[] dead, int lossStart) {
        check(c, l1, dead, lossStart, 0.0);  // dense products
        check(c, l1, dead, lossStart, 2.0);  // sparse products
    }

    static void check(SaeConfig c, float l1, boolean[] dead, int lossStart, double sparseThreshold) {
        SaeParams p = randomParams(c, 11);
        float[] x = randomX(12);
        AbstractSae loss = SaeRegistry.create(c, p, Ops.reference());
        var in = new AbstractSae.LossInput(lossStart, l1, dead, 99, new SparsePolicy(sparseThreshold));
        SaeParams g = p.zerosLike();
        AbstractSae.LossTerms base = loss.loss(x, NSEQ, T, in, g);
        assertTrue(Double.isFinite(base.loss()));
        assertEquals(sparseThreshold > 1, loss.lastCallSparse());
        long hash0 = loss.activePatternHash(NSEQ * T);
        // AuxK's target x − x̂ is detached (SAELens): hold it fixed while differencing
        float[] resid = new float[x.length];
        for (int i = 0; i < x.length; i++) resid[i] = x[i] - loss.reconstruction()[i];
        loss.frozenResidual = resid;
        float[][] arrays = p.arrays(), grads = g.arrays();
        for (int a = 0; a < arrays.length; a++) {
            // L is piecewise constant in θ: its STE pseudo-gradient is checked against PyTorch (SaeReferenceTest)
            if (arrays[a] == p.log_threshold) continue;
            int checked = 0, n = arrays[a].length;
            for (int i = 0; i < n; i++) {
                float orig = arrays[a][i];
                // shrink ε when ±ε crosses a kink (an active set changes); skip if it still does
                for (float eps : new float[]{2e-3f, 5e-4f, 1.25e-4f, 3e-5f}) {
                    arrays[a][i] = orig + eps;
                    double lp = loss.loss(x, NSEQ, T, in, null).loss();
                    long hp = loss.activePatternHash(NSEQ * T);
                    arrays[a][i] = orig - eps;
                    double lm = loss.loss(x, NSEQ, T, in, null).loss();
                    long hm = loss.activePatternHash(NSEQ * T);
                    arrays[a][i] = orig;
                    if (hp != hash0 || hm != hash0) continue;
                    checked++;
                    double fd = (lp - lm) / (2.0 * ((double) (orig + eps) - orig));
                    double an = grads[a][i];
                    assertEquals(fd, an, Math.max(2e-4, 2e-7 / eps) + 3e-3 * Math.abs(fd),
                            SaeParams.NAMES[a] + "[" + i + "] " + c.architecture() + "/" + c.activation() + " eps " + eps);
                    break;
                }
            }
            assertTrue(checked >= 0.75 * n, SaeParams.NAMES[a] + ": only " + checked + " of " + n + " checked");
        }
    }

    @Test
    void reluDecoderNormL1() {
        check(cfg("standard", "relu"), 0.3f, null, 0);
    }

    @Test
    void reluUnitNormL1() {
        SaeConfig c = builder("standard", "relu").l1Mode(L1Mode.UNIT_NORM).build();
        check(c, 0.3f, null, 1);
    }

    @Test
    void topkWithAuxK() {
        boolean[] dead = new boolean[N_SAE];
        for (int j = 0; j < N_SAE; j += 2) dead[j] = true;
        check(cfg("topk", "topk"), 0f, dead, 0);
    }

    @Test
    void temporalCausalRelu() {
        check(cfg("temporal", "relu"), 0.2f, null, 1);
    }

    @Test
    void temporalCentredRelu() {
        SaeConfig c = builder("temporal", "relu").convMode(ConvMode.CENTRED).build();
        check(c, 0.2f, null, 1);
    }

    @Test
    void temporalCausalTopkWithAuxK() {
        boolean[] dead = new boolean[N_SAE];
        for (int j = 1; j < N_SAE; j += 2) dead[j] = true;
        check(cfg("temporal", "topk"), 0f, dead, 1);
    }

    /** JumpReLU with its L0 term (λ 0.3, bandwidth 0.1): the differentiable parameters. */
    @Test
    void jumpReluWithL0() {
        check(builder("jumprelu", "jumprelu").jumpReluBandwidth(0.1f).build(), 0.3f, null, 0);
    }

    @Test
    void temporalCausalJumpRelu() {
        check(builder("temporal", "jumprelu").jumpReluBandwidth(0.1f).build(), 0.3f, null, 1);
    }

    @Test
    void batchTopKWithAuxK() {
        boolean[] dead = new boolean[N_SAE];
        for (int j = 0; j < N_SAE; j += 3) dead[j] = true;
        check(cfg("batchtopk", "batchtopk"), 0f, dead, 0);
    }

    @Test
    void temporalCentredBatchTopKWithAuxK() {
        boolean[] dead = new boolean[N_SAE];
        for (int j = 1; j < N_SAE; j += 3) dead[j] = true;
        check(builder("temporal", "batchtopk").convMode(ConvMode.CENTRED).build(), 0f, dead, 1);
    }

    @Test
    void separationExactSquaredCosine() {
        SaeConfig c = builder("standard", "relu").sepWeight(0.7f).build();
        check(c, 0.1f, null, 0);
    }

    @Test
    void separationExactMargin() {
        SaeConfig c = builder("standard", "relu").sepWeight(2f).sepMargin(0.15f).build();
        check(c, 0f, null, 0);
    }

    @Test
    void separationSampledPairs() {
        SaeConfig c = builder("temporal", "relu").sepWeight(1f).sepForm(SepForm.SAMPLED).sepPairs(17).build();
        check(c, 0.1f, null, 1);
    }

    @Test
    void separationCoactivePairs() {
        SaeConfig c = builder("standard", "relu").sepWeight(1f).sepForm(SepForm.COACTIVE).sepPairs(23).sepMargin(0.05f).build();
        check(c, 0.1f, null, 1);
    }

    /** With conv_w = 0 the temporal SAE computes exactly the baseline (bit for bit). */
    @Test
    void temporalWithZeroConvIsBaselineBitExact() {
        for (String act : new String[]{"relu", "topk"}) {
            SaeConfig ct = cfg("temporal", act), cb = cfg(act.equals("relu") ? "standard" : act, act);
            SaeParams pt = randomParams(ct, 5);
            java.util.Arrays.fill(pt.conv_w, 0f);
            SaeParams pb = new SaeParams(D, N_SAE, 0);
            System.arraycopy(pt.W_enc, 0, pb.W_enc, 0, pb.W_enc.length);
            System.arraycopy(pt.W_dec, 0, pb.W_dec, 0, pb.W_dec.length);
            System.arraycopy(pt.b_enc, 0, pb.b_enc, 0, pb.b_enc.length);
            System.arraycopy(pt.b_dec, 0, pb.b_dec, 0, pb.b_dec.length);
            float[] x = randomX(6);
            AbstractSae lt = SaeRegistry.create(ct, pt, Ops.reference()), lb = SaeRegistry.create(cb, pb, Ops.reference());
            SaeParams gt = pt.zerosLike(), gb = pb.zerosLike();
            var in = new AbstractSae.LossInput(1, 0.2f, null, 1, SparsePolicy.AUTO);
            AbstractSae.LossTerms rt = lt.loss(x, NSEQ, T, in, gt);
            AbstractSae.LossTerms rb = lb.loss(x, NSEQ, T, in, gb);
            assertEquals(rb.loss(), rt.loss(), 0.0);
            assertArrayEquals(lb.features(), lt.features());
            assertArrayEquals(lb.reconstruction(), lt.reconstruction());
            assertArrayEquals(gb.W_enc, gt.W_enc);
            assertArrayEquals(gb.W_dec, gt.W_dec);
            assertArrayEquals(gb.b_enc, gt.b_enc);
            assertArrayEquals(gb.b_dec, gt.b_dec, 1e-5f); // baseline uses W_enc·Σ dpre instead of Σ dz
        }
    }

    /** The temporal conv is causal: changing a later token never changes earlier features. */
    @Test
    void causalConvDoesNotSeeTheFuture() {
        SaeConfig c = cfg("temporal", "relu");
        SaeParams p = randomParams(c, 3);
        float[] x = randomX(4);
        AbstractSae l = SaeRegistry.create(c, p, Ops.reference());
        l.forward(p, x, NSEQ, T);
        float[] f0 = l.features().clone();
        x[(1 * T + 5) * D + 2] += 1f; // sequence 1, token 5
        l.forward(p, x, NSEQ, T);
        float[] f1 = l.features();
        for (int r = 0; r < NSEQ * T; r++) {
            boolean mayChange = r / T == 1 && r % T >= 5;
            for (int j = 0; j < N_SAE; j++)
                if (!mayChange) assertEquals(f0[r * N_SAE + j], f1[r * N_SAE + j], 0f, "row " + r);
        }
    }
}
