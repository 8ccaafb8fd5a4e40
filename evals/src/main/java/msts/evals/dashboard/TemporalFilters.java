package msts.evals.dashboard;

/**
 * A temporal SAE's convolution as one latent sees it (docs/features.md). Latent i's pre-activation is
 * {@code Σ_c W_enc[c,i]·xc_{t,c} + Σ_{s,j} Σ_c W_enc[c,i]·conv_w[s,c,j]·xc_{t+o(s,j),c}}, so tap j of scale s
 * reads the token at offset o(s,j) through the encoder vector {@code e_{s,j} = W_enc[:,i] ⊙ conv_w[s,:,j]}.
 * Two numbers per tap, both relative to the direct path W_enc[:,i]:
 * <ul>
 * <li>gain {@code g = (e_{s,j} · W_enc[:,i]) / ‖W_enc[:,i]‖² = Σ_c W_enc[c,i]²·conv_w[s,c,j] / Σ_c W_enc[c,i]²}: what a token at that
 *     offset carrying the latent's own encoder direction adds, as a fraction of the same token at t
 *     (positive: the latent integrates over that offset; negative: it responds to onsets/changes);</li>
 * <li>strength {@code ‖e_{s,j}‖ / ‖W_enc[:,i]‖}: how much the tap reads from that offset in any direction.</li>
 * </ul>
 */
public final class TemporalFilters {
    private TemporalFilters() {}

    /** [nScales][3][2]: {gain, strength} of every tap of latent i. */
    public static float[][][] of(SaeView v, int i) {
        int d = v.dIn(), n = v.dSae(), S = v.nScales();
        float[][][] out = new float[S][3][2];
        double ww = 0;
        for (int c = 0; c < d; c++) ww += (double) v.wEnc()[c * n + i] * v.wEnc()[c * n + i];
        if (ww == 0) return out;
        for (int s = 0; s < S; s++)
            for (int j = 0; j < 3; j++) {
                double g = 0, e2 = 0;
                for (int c = 0; c < d; c++) {
                    double w = v.wEnc()[c * n + i], k = v.convW()[(s * d + c) * 3 + j];
                    g += w * w * k;
                    e2 += w * w * k * k;
                }
                out[s][j][0] = (float) (g / ww);
                out[s][j][1] = (float) Math.sqrt(e2 / ww);
            }
        return out;
    }
}
