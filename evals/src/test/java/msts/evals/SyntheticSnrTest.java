package msts.evals;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The low-SNR regime: the SNR the spec reports is the one the generated data have, measured on the data —
 * E[m²] over on-tokens from the planted magnitudes, σ² from the residual x − Σ m·g — and the run SNR is L times it.
 */
class SyntheticSnrTest {
    @Test
    void tokenSnrIsTheMeasuredSignalToNoiseOfTheGeneratedData() {
        var base = new SyntheticSequences.Spec(16, new int[]{1, 4, 16}, 8, 0.05, 0.5, 1.5, 0.1, 256, 64, 11);
        assertEquals(13.0 / 12, base.meanSquareMagnitude(), 1e-12);
        var low = base.withTokenSnr(0.5);
        assertEquals(Math.sqrt(13.0 / 12 / 0.5), low.noiseStd(), 1e-12);
        assertEquals(0.5, low.tokenSnr(), 1e-12);
        assertEquals(8.0, low.runSnr(16), 1e-12);
        assertEquals(0.5, low.runSnr(1), 1e-12);
        SyntheticSequences.Data d = SyntheticSequences.generate(low);
        int nF = low.nFeatures(), D = low.d(), N = low.nSeq() * low.ctx();
        double m2 = 0, on = 0, r2 = 0;
        for (int row = 0; row < N; row++) {
            double[] clean = new double[D];
            for (int i = 0; i < nF; i++) {
                float m = d.magnitudes()[row * nF + i];
                if (m == 0) continue;
                m2 += m * m;
                on++;
                for (int k = 0; k < D; k++) clean[k] += m * d.directions()[i * D + k];
            }
            for (int k = 0; k < D; k++) {
                double e = d.activations()[row * D + k] - clean[k];
                r2 += e * e;
            }
        }
        double measured = (m2 / on) / (r2 / ((double) N * D));
        assertEquals(0.5, measured, 0.03, "measured per-token SNR");
        assertThrows(IllegalArgumentException.class, () -> base.withTokenSnr(0));
    }
}
