package msts.evals;

import msts.sae.SparseRows;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DisentanglementTest {
    static final SyntheticSequences.Spec SPEC = SyntheticSequences.Spec.defaults(64, 128, 11);

    @Test
    void generatorIsDeterministicAndHasPlannedStatistics() {
        var a = SyntheticSequences.generate(SPEC);
        var b = SyntheticSequences.generate(SPEC);
        assertArrayEquals(a.activations(), b.activations());
        assertArrayEquals(a.directions(), b.directions());
        var c = SyntheticSequences.generate(SyntheticSequences.Spec.defaults(64, 128, 12));
        assertFalse(java.util.Arrays.equals(a.activations(), c.activations()));
        int nF = SPEC.nFeatures(), T = SPEC.ctx();
        assertTrue(nF > SPEC.d(), "superposition");
        // per scale: empirical on-fraction and mean run length
        for (int L : SPEC.timeScales()) {
            long on = 0, runs = 0, total = 0;
            for (int i = 0; i < nF; i++) {
                if (a.timeScale()[i] != L) continue;
                for (int s = 0; s < SPEC.nSeq(); s++) {
                    float prev = 0;
                    for (int t = 0; t < T; t++) {
                        float m = a.magnitudes()[(s * T + t) * nF + i];
                        total++;
                        if (m > 0) on++;
                        if (m > 0 && (t == 0 || prev == 0 || prev != m)) runs++;
                        prev = m;
                    }
                }
            }
            double frac = (double) on / total, run = (double) on / runs;
            assertEquals(SPEC.onFraction(), frac, 0.25 * SPEC.onFraction(), "on fraction at scale " + L);
            assertEquals(L, run, 0.2 * L + 0.05, "mean run length at scale " + L);
        }
    }

    @Test
    void recoveryIsOneForTrueDirectionsAndLowForRandom() {
        var data = SyntheticSequences.generate(SPEC);
        var gt = new Disentanglement.GroundTruth(data.directions(), data.timeScale(), SPEC.d());
        Map<Integer, Double> perfect = Disentanglement.recoveryByScale(msts.engine.CpuOps.INSTANCE, gt, data.directions(), SPEC.nFeatures());
        for (double v : perfect.values()) assertEquals(1.0, v, 1e-5);
        assertEquals(3, perfect.size());
        Random r = new Random(3);
        float[] rnd = new float[SPEC.nFeatures() * SPEC.d()];
        for (int i = 0; i < rnd.length; i++) rnd[i] = (float) r.nextGaussian();
        Map<Integer, Double> random = Disentanglement.recoveryByScale(msts.engine.CpuOps.INSTANCE, gt, rnd, SPEC.nFeatures());
        for (double v : random.values()) assertTrue(v < 0.7, "random decoder recovers " + v);
    }

    @Test
    void persistenceSeparatesTimeScales() {
        var data = SyntheticSequences.generate(SPEC);
        TestSae sae = TestSae.tied(data.directions(), SPEC.nFeatures(), SPEC.d(), 0.3f);
        var gt = new Disentanglement.GroundTruth(data.directions(), data.timeScale(), SPEC.d());
        EvalOutput out = Disentanglement.run(msts.engine.CpuOps.INSTANCE, sae, data.source(), gt, Disentanglement.Config.defaults(), "tied").output();
        Map<String, Object> g = out.evalResultMetrics().get("ground_truth");
        double p1 = (double) g.get("matched_latent_persistence_time_scale_1");
        double p16 = (double) g.get("matched_latent_persistence_time_scale_16");
        System.out.println("persistence p1=" + p1 + " p4=" + g.get("matched_latent_persistence_time_scale_4") + " p16=" + p16);
        assertTrue(p16 > 0.3, "16-token features persist: " + p16);
        assertTrue(p1 < 0.15, "1-token features do not: " + p1);
        assertTrue(p16 > (double) g.get("matched_latent_persistence_time_scale_4"));
        assertEquals(1.0, (double) g.get("recovery_time_scale_16"), 1e-5);
    }

    @Test
    void autocorrelationMatchesDirectFormula() {
        Random r = new Random(5);
        int nSeq = 3, T = 20, F = 4, lag = 5;
        float[] f = new float[nSeq * T * F];
        for (int i = 0; i < f.length; i++) f[i] = r.nextDouble() < 0.4 ? (float) r.nextDouble() : 0f;
        for (int i = 0; i < nSeq * T; i++) f[i * F + 3] = 0f; // dead latent
        SparseRows a = new SparseRows(F);
        a.append(f, nSeq * T);
        double[][] rho = Disentanglement.autocorrelation(a, nSeq, T, lag);
        for (int j = 0; j < 3; j++) {
            double mu = 0, var = 0;
            for (int i = 0; i < nSeq * T; i++) mu += f[i * F + j];
            mu /= nSeq * T;
            for (int i = 0; i < nSeq * T; i++) var += (f[i * F + j] - mu) * (f[i * F + j] - mu);
            var /= nSeq * T;
            for (int l = 1; l <= lag; l++) {
                double c = 0;
                int n = 0;
                for (int s = 0; s < nSeq; s++)
                    for (int t = 0; t + l < T; t++) {
                        c += (f[(s * T + t) * F + j] - mu) * (f[(s * T + t + l) * F + j] - mu);
                        n++;
                    }
                assertEquals(c / n / var, rho[j][l - 1], 1e-9, "latent " + j + " lag " + l);
            }
        }
        assertTrue(Double.isNaN(rho[3][0]));
    }

    @Test
    void coactivationOfIdenticalLatentsIsOne() {
        int F = 3, N = 50;
        float[] f = new float[N * F];
        Random r = new Random(1);
        for (int i = 0; i < N; i++) {
            float v = r.nextDouble() < 0.5 ? (float) r.nextDouble() + 0.1f : 0f;
            f[i * F] = v;
            f[i * F + 1] = 2 * v;
        }
        SparseRows a = new SparseRows(F);
        a.append(f, N);
        double[] co = Disentanglement.coactivation(a, Disentanglement.density(a), 10);
        assertEquals(2, co[2]);
        assertEquals(1.0, co[0], 1e-12);
        assertEquals(1.0, co[1], 1e-9);
    }

    @Test
    void cosineHistogramCountsAllPairs() {
        Random r = new Random(2);
        int n = 30, d = 8;
        float[] w = new float[n * d];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        long[] h = DecoderGeometry.pairwiseCosineHistogram(msts.engine.CpuOps.INSTANCE, w, n, d, 1000, 20);
        assertEquals((long) n * (n - 1) / 2, java.util.Arrays.stream(h).sum());
    }

    @Test
    void syntheticFilesRoundTrip(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var spec = SyntheticSequences.Spec.defaults(4, 32, 3);
        var data = SyntheticSequences.generate(spec);
        SyntheticFiles.write(dir, data);
        try (var src = msts.data.ActivationSources.open(dir.resolve(SyntheticFiles.ACTIVATIONS))) {
            assertEquals(4, src.numSequences());
            assertEquals(32, src.contextSize());
            assertEquals(spec.d(), src.dIn());
            float[] seq = new float[32 * spec.d()];
            src.readSequence(2, seq, 0);
            assertArrayEquals(java.util.Arrays.copyOfRange(data.activations(), 2 * 32 * spec.d(), 3 * 32 * spec.d()), seq);
        }
        var gt = SyntheticFiles.readGroundTruth(dir);
        assertArrayEquals(data.directions(), gt.directions());
        assertArrayEquals(data.timeScale(), gt.timeScale());
    }
}
