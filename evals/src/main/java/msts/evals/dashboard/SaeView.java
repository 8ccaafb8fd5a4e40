package msts.evals.dashboard;

import java.util.Map;
import msts.sae.AbstractSae;
import msts.sae.Sae;
import msts.sae.SaeConfig;
import msts.sae.SaeParams;

/**
 * What the feature dashboards read of an SAE, in one place (the only class of this package that touches
 * msts.sae's concrete types): sizes, the encoder and decoder weights, the temporal SAE's convolution, and
 * encode. Row-major F32, SAELens names and shapes (docs/sae.md).
 *
 * @param wEnc      W_enc [dIn, dSae]
 * @param wDec      W_dec [dSae, dIn]
 * @param convW     conv_w [nScales, dIn, 3] (empty unless temporal)
 * @param dilations the temporal SAE's dilations (empty unless temporal)
 * @param centred   taps t−d, t, t+d (else causal t, t−d, t−2d)
 */
public record SaeView(Sae sae, int dIn, int dSae, String architecture, boolean temporal, float[] wEnc, float[] wDec,
                      float[] convW, int[] dilations, boolean centred, Map<String, Object> cfg) {

    public static SaeView of(Sae sae) {
        if (!(sae instanceof AbstractSae a))
            throw new IllegalArgumentException("dashboards need the SAE's weights; " + sae.getClass().getName() + " does not expose them");
        SaeConfig c = a.config();
        SaeParams p = a.params();
        boolean temporal = c.temporal();
        return new SaeView(sae, sae.dIn(), sae.dSae(), sae.architecture().cfgName(), temporal, p.W_enc, p.W_dec,
                temporal ? p.conv_w : new float[0], temporal ? c.dilations() : new int[0], temporal && c.centred(), sae.cfg());
    }

    public int nScales() { return dilations.length; }

    /** Tap offset o(s, j) of scale s, tap j (docs/sae.md): −j·d_s causal, (j−1)·d_s centred. */
    public int tapOffset(int s, int j) { return centred ? (j - 1) * dilations[s] : -j * dilations[s]; }

    /** f = encode(x): x [nSeq·T, dIn] → f [nSeq·T, dSae] (whole sequences, so temporal SAEs see their context). */
    public void encode(float[] x, int nSeq, int T, float[] f) { sae.encode(x, nSeq, T, f); }
}
