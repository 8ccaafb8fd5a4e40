package msts.evals;

import msts.engine.Ops;

/**
 * SAEBench's weight-based per-latent core metrics (core/main.py get_featurewise_weight_based_metrics) from
 * W_enc [dIn, dSae] (column j = latent j's encoder direction) and W_dec [dSae, dIn] (row j). Formulas in
 * docs/evals.md: encoder_norm_j = ‖W_enc[:, j]‖, encoder_decoder_cosine_sim_j = cos(W_enc[:, j], W_dec[j, :]),
 * max_encoder_cosine_sim_j = max_{k≠j} cos(W_enc[:, j], W_enc[:, k]).
 */
public final class EncoderGeometry {
    private EncoderGeometry() {}

    /** W_enc transposed to [dSae, dIn] (latent-major rows). */
    public static float[] latentRows(float[] wEnc, int dIn, int dSae) {
        float[] t = new float[dSae * dIn];
        for (int i = 0; i < dIn; i++)
            for (int j = 0; j < dSae; j++) t[j * dIn + i] = wEnc[i * dSae + j];
        return t;
    }

    /** ‖W_enc[:, j]‖ for every latent j. */
    public static double[] encoderNorms(float[] wEnc, int dIn, int dSae) {
        double[] s = new double[dSae];
        for (int i = 0; i < dIn; i++)
            for (int j = 0; j < dSae; j++) s[j] += (double) wEnc[i * dSae + j] * wEnc[i * dSae + j];
        for (int j = 0; j < dSae; j++) s[j] = Math.sqrt(s[j]);
        return s;
    }

    /** cos(W_enc[:, j], W_dec[j, :]) (0 when either is the zero vector). */
    public static double[] encoderDecoderCosine(float[] wEnc, float[] wDec, int dIn, int dSae) {
        double[] out = new double[dSae];
        for (int j = 0; j < dSae; j++) {
            double dot = 0, ee = 0, dd = 0;
            for (int i = 0; i < dIn; i++) {
                double e = wEnc[i * dSae + j], d = wDec[j * dIn + i];
                dot += e * d;
                ee += e * e;
                dd += d * d;
            }
            out[j] = ee > 0 && dd > 0 ? dot / Math.sqrt(ee * dd) : 0.0;
        }
        return out;
    }

    /** max_{k≠j} cos(W_enc[:, j], W_enc[:, k]) (SAEBench's calculate_max_cosine_sim on W_enc). */
    public static double[] maxEncoderCosine(Ops ops, float[] wEnc, int dIn, int dSae) {
        return DecoderGeometry.maxCosineToOthers(ops, latentRows(wEnc, dIn, dSae), dSae, dIn);
    }
}
