package msts.sae;

import java.util.SplittableRandom;

/**
 * The trainable parameters, row-major F32 (SAELens names and shapes): W_enc [d_in, d_sae], b_enc [d_sae],
 * W_dec [d_sae, d_in], b_dec [d_in]; temporal SAEs add conv_w [n_scales, d_in, 3] (depth-wise kernel of
 * each dilation; tap j of scale s multiplies x at t − j·d_s when causal, t + (j−1)·d_s when centred).
 * JumpReLU training adds log_threshold [d_sae] (θ = exp(log_threshold); SAELens' JumpReLUTrainingSAE parameter,
 * saved as tensor "threshold" — never written to sae_weights.safetensors itself, see {@link SaeIO#save}).
 * The same class holds gradients and Adam moments.
 */
public final class SaeParams {
    public static final String[] NAMES = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w", "log_threshold"};

    public final int dIn, dSae, nScales;
    public final float[] W_enc, b_enc, W_dec, b_dec, conv_w, log_threshold;

    public SaeParams(int dIn, int dSae, int nScales) {
        this(dIn, dSae, nScales, false);
    }

    /** thresholds: whether to hold the JumpReLU log_threshold [d_sae] (else it is empty). */
    public SaeParams(int dIn, int dSae, int nScales, boolean thresholds) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.nScales = nScales;
        W_enc = new float[dIn * dSae];
        b_enc = new float[dSae];
        W_dec = new float[dSae * dIn];
        b_dec = new float[dIn];
        conv_w = new float[nScales * dIn * 3];
        log_threshold = new float[thresholds ? dSae : 0];
    }

    /** The trainable parameters of cfg: + conv_w for temporal SAEs, + log_threshold for JumpReLU. */
    public static SaeParams forConfig(SaeConfig cfg) {
        return new SaeParams(cfg.dIn(), cfg.dSae(), cfg.nScales(), cfg.activation() == Activation.JUMPRELU);
    }

    /** Parameter arrays in {@link #NAMES} order (conv_w may be empty). */
    public float[][] arrays() {
        return new float[][]{W_enc, b_enc, W_dec, b_dec, conv_w, log_threshold};
    }

    public long[] shape(int i) {
        return switch (i) {
            case 0 -> new long[]{dIn, dSae};
            case 1 -> new long[]{dSae};
            case 2 -> new long[]{dSae, dIn};
            case 3 -> new long[]{dIn};
            case 4 -> new long[]{nScales, dIn, 3};
            default -> new long[]{log_threshold.length};
        };
    }

    public SaeParams zerosLike() {
        return new SaeParams(dIn, dSae, nScales, log_threshold.length > 0);
    }

    public SaeParams copy() {
        SaeParams p = zerosLike();
        copyInto(p);
        return p;
    }

    public void copyInto(SaeParams dst) {
        float[][] a = arrays(), b = dst.arrays();
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, b[i], 0, a[i].length);
    }

    public void zero() {
        for (float[] a : arrays()) java.util.Arrays.fill(a, 0f);
    }

    /**
     * Initialisation (docs/sae.md): W_dec rows are random Gaussian directions of norm {@code decNorm}
     * (0.1 as SAELens' standard init; 1 for unit-norm decoders and TopK), W_enc = W_decᵀ, b_enc = b_dec = 0,
     * conv_w = 0 (so a fresh temporal SAE equals a fresh baseline; the conv gradient is non-zero);
     * JumpReLU: log_threshold = log θ_0 (SAELens jumprelu_init_threshold).
     */
    public static SaeParams init(SaeConfig cfg, long seed) {
        SaeParams p = forConfig(cfg);
        java.util.Arrays.fill(p.log_threshold, (float) Math.log(cfg.jumpReluInitThreshold()));
        SplittableRandom rnd = new SplittableRandom(seed);
        float decNorm = cfg.unitNorm() || cfg.auxK() ? 1f : 0.1f;
        int d = cfg.dIn(), n = cfg.dSae();
        for (int j = 0; j < n; j++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                double g = gaussian(rnd);
                p.W_dec[j * d + c] = (float) g;
                ss += g * g;
            }
            float s = (float) (decNorm / Math.sqrt(ss));
            for (int c = 0; c < d; c++) {
                p.W_dec[j * d + c] *= s;
                p.W_enc[c * n + j] = p.W_dec[j * d + c];
            }
        }
        return p;
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
