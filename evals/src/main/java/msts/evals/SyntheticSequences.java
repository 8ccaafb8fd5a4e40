package msts.evals;

import java.util.SplittableRandom;
import msts.data.ActivationSource;

/**
 * Synthetic activation sequences with planted ground-truth features at several time scales, in
 * superposition. Each feature i has a random unit direction g_i ∈ R^d (n_features &gt; d) and a time scale
 * L_i: its on/off state is a two-state Markov chain with mean on-run length L_i (on→off probability 1/L_i)
 * and stationary on-fraction π (off→on probability π/(L_i(1−π))); while on, it has a magnitude drawn
 * uniformly from [magMin, magMax] when the run starts. x_t = Σ_i m_i(t)·g_i + ε_t, ε ~ N(0, σ²I).
 * Deterministic in the seed. docs/evals.md.
 */
public final class SyntheticSequences {
    private SyntheticSequences() {}

    public record Spec(int d, int[] timeScales, int featuresPerScale, double onFraction, double magMin,
                       double magMax, double noiseStd, int nSeq, int ctx, long seed) {
        public Spec {
            if (d < 1 || featuresPerScale < 1 || nSeq < 1 || ctx < 2 || timeScales.length == 0)
                throw new IllegalArgumentException("synthetic spec needs d, features per scale, sequences >= 1 and ctx >= 2");
            if (!(onFraction > 0 && onFraction < 1)) throw new IllegalArgumentException("on-fraction must be in (0, 1)");
            for (int L : timeScales) {
                if (L < 1) throw new IllegalArgumentException("time scales must be >= 1");
                if (onFraction / (L * (1 - onFraction)) > 1)
                    throw new IllegalArgumentException("on-fraction " + onFraction + " is too high for time scale " + L);
            }
        }

        /** The demo / test default: d=32, scales {1,4,16}, 32 features each (96 > 32), π=0.04, σ=0.05. */
        public static Spec defaults(int nSeq, int ctx, long seed) {
            return new Spec(32, new int[]{1, 4, 16}, 32, 0.04, 0.5, 1.5, 0.05, nSeq, ctx, seed);
        }

        public int nFeatures() {
            return timeScales.length * featuresPerScale;
        }

        /** E[m²] of a feature's magnitude while on, m ~ U[magMin, magMax]: (a² + ab + b²)/3. */
        public double meanSquareMagnitude() {
            return (magMin * magMin + magMin * magMax + magMax * magMax) / 3;
        }

        /**
         * Per-token SNR of a feature against the noise: E[m²]/σ² (the noise projected on a unit direction has
         * variance σ²; other features' interference is not counted). docs/experiment.md, "the low-SNR regime".
         */
        public double tokenSnr() {
            return noiseStd == 0 ? Double.POSITIVE_INFINITY : meanSquareMagnitude() / (noiseStd * noiseStd);
        }

        /**
         * SNR over a run of mean length L: the magnitude is constant over a run, so summing the projection over L
         * tokens gives signal L·m and noise variance L·σ²: L·E[m²]/σ² = L · {@link #tokenSnr()}.
         */
        public double runSnr(int L) {
            return L * tokenSnr();
        }

        /** This spec with the noise σ that gives per-token SNR {@code snr}: σ = √(E[m²]/snr). */
        public Spec withTokenSnr(double snr) {
            if (!(snr > 0) || !Double.isFinite(snr)) throw new IllegalArgumentException("token SNR must be positive, got " + snr);
            return new Spec(d, timeScales, featuresPerScale, onFraction, magMin, magMax, Math.sqrt(meanSquareMagnitude() / snr), nSeq, ctx, seed);
        }

        public Spec withSeed(long s) {
            return new Spec(d, timeScales, featuresPerScale, onFraction, magMin, magMax, noiseStd, nSeq, ctx, s);
        }
    }

    /**
     * @param directions  [nFeatures, d] unit rows
     * @param timeScale   [nFeatures] mean on-run length of each feature
     * @param activations [nSeq·ctx, d]
     * @param magnitudes  [nSeq·ctx, nFeatures] the planted feature activations m_i(t)
     */
    public record Data(Spec spec, float[] directions, int[] timeScale, float[] activations, float[] magnitudes) {
        public ActivationSource source() {
            return new ArraySource(activations, spec.nSeq(), spec.ctx(), spec.d());
        }
    }

    public static Data generate(Spec s) {
        SplittableRandom rnd = new SplittableRandom(s.seed());
        int nF = s.nFeatures(), d = s.d();
        float[] dirs = new float[nF * d];
        int[] scale = new int[nF];
        for (int i = 0; i < nF; i++) {
            scale[i] = s.timeScales()[i / s.featuresPerScale()];
            double norm = 0;
            for (int k = 0; k < d; k++) {
                double g = gaussian(rnd);
                dirs[i * d + k] = (float) g;
                norm += g * g;
            }
            float inv = (float) (1 / Math.sqrt(norm));
            for (int k = 0; k < d; k++) dirs[i * d + k] *= inv;
        }
        int N = s.nSeq() * s.ctx();
        float[] x = new float[N * d];
        float[] mag = new float[N * nF];
        for (int q = 0; q < s.nSeq(); q++) {
            for (int i = 0; i < nF; i++) {
                double pOff = 1.0 / scale[i];
                double pOn = s.onFraction() / (scale[i] * (1 - s.onFraction()));
                boolean on = rnd.nextDouble() < s.onFraction();
                double m = on ? s.magMin() + (s.magMax() - s.magMin()) * rnd.nextDouble() : 0;
                for (int t = 0; t < s.ctx(); t++) {
                    if (t > 0) {
                        if (on) {
                            if (rnd.nextDouble() < pOff) on = false;
                        } else if (rnd.nextDouble() < pOn) {
                            on = true;
                            m = s.magMin() + (s.magMax() - s.magMin()) * rnd.nextDouble();
                        }
                    }
                    if (!on) continue;
                    int row = q * s.ctx() + t;
                    mag[row * nF + i] = (float) m;
                    for (int k = 0; k < d; k++) x[row * d + k] += (float) (m * dirs[i * d + k]);
                }
            }
        }
        for (int r = 0; r < N * d; r++) x[r] += (float) (s.noiseStd() * gaussian(rnd));
        return new Data(s, dirs, scale, x, mag);
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** An in-memory {@link ActivationSource} over [nSeq·ctx, d]. */
    public record ArraySource(float[] data, int numSequences, int contextSize, int dIn) implements ActivationSource {
        @Override
        public void readSequence(int s, float[] dst, int dstOff) {
            System.arraycopy(data, s * contextSize * dIn, dst, dstOff, contextSize * dIn);
        }
    }
}
