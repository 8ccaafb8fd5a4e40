package msts.evals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import msts.sae.Architecture;
import msts.sae.Sae;

/** A plain ReLU SAE for tests: f = relu(x·W_enc + b_enc), x̂ = f·W_dec + b_dec. */
final class TestSae implements Sae {
    final int dIn, dSae;
    final float[] wEnc, bEnc, wDec, bDec; // [dIn,dSae], [dSae], [dSae,dIn], [dIn]

    TestSae(int dIn, int dSae, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.wEnc = wEnc;
        this.bEnc = bEnc;
        this.wDec = wDec;
        this.bDec = bDec;
    }

    /** Tied SAE over the given unit directions: encoder = decoderᵀ, bias −threshold. */
    static TestSae tied(float[] dirs, int dSae, int dIn, float threshold) {
        float[] wEnc = new float[dIn * dSae];
        for (int j = 0; j < dSae; j++) for (int i = 0; i < dIn; i++) wEnc[i * dSae + j] = dirs[j * dIn + i];
        float[] bEnc = new float[dSae];
        java.util.Arrays.fill(bEnc, -threshold);
        return new TestSae(dIn, dSae, wEnc, bEnc, dirs.clone(), new float[dIn]);
    }

    /** Identity-like SAE: 2·dIn latents ±e_i, so x̂ = x exactly. */
    static TestSae identity(int d) {
        float[] dirs = new float[2 * d * d];
        for (int i = 0; i < d; i++) {
            dirs[i * d + i] = 1f;
            dirs[(d + i) * d + i] = -1f;
        }
        return tied(dirs, 2 * d, d, 0f);
    }

    @Override public int dIn() { return dIn; }
    @Override public int dSae() { return dSae; }
    @Override public Architecture architecture() { return Architecture.STANDARD; }

    @Override
    public void encode(float[] x, int nSeq, int T, float[] f) {
        int rows = nSeq * T;
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dSae; j++) {
                float s = bEnc[j];
                for (int i = 0; i < dIn; i++) s += x[r * dIn + i] * wEnc[i * dSae + j];
                f[r * dSae + j] = Math.max(0f, s);
            }
        }
    }

    @Override
    public void decode(float[] f, int rows, float[] xhat) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < dIn; i++) {
                float s = bDec[i];
                for (int j = 0; j < dSae; j++) s += f[r * dSae + j] * wDec[j * dIn + i];
                xhat[r * dIn + i] = s;
            }
        }
    }

    @Override public float[] decoderWeights() { return wDec; }

    @Override public float[] encoderWeights() { return wEnc; }

    @Override public float[] encoderBias() { return bEnc; }

    @Override
    public Map<String, Object> cfg() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("d_in", dIn);
        m.put("d_sae", dSae);
        m.put("architecture", "standard");
        m.put("hook_name", "blocks.0.hook_resid_post");
        m.put("model_name", "fake-model");
        m.put("hook_layer", 0);
        return m;
    }

    @Override public void save(Path dir) { throw new UnsupportedOperationException(); }
}
