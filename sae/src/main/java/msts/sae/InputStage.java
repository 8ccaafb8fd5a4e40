package msts.sae;

/**
 * The encoder's input stage z = stage(xc) applied to the centred input xc = x − b_dec before the encoder
 * product pre = z·W_enc + b_enc: the identity (standard, topk, jumprelu) or the depth-wise dilated
 * convolution of the temporal SAE ({@link DilatedConv}). It owns its forward and its part of the backward.
 */
public interface InputStage {
    /** Number of conv scales (rows of conv_w); 0 for the identity. */
    int nScales();

    /** z for rows [0, N) of nSeq·T batch rows; returns the array holding z (xc itself for the identity). */
    float[] forward(SaeParams p, float[] xc, int N, int T, float[] zBuf);

    /** Whether {@link #backward} needs dz = ∂L/∂z (the identity does not: it folds into b_dec via b_enc). */
    boolean needsDz();

    /**
     * Adds the stage's gradients into grad: ∂L/∂conv_w, and the path xc = x − b_dec into grad.b_dec. Called
     * after grad.b_enc = Σ_r dpre_r is final; dz (when {@link #needsDz}) = dpre·W_encᵀ; dxc is scratch [N, d_in].
     */
    void backward(SaeParams p, float[] xc, float[] dz, float[] dxc, int N, int T, SaeParams grad);

    /** z = xc. */
    InputStage IDENTITY = new InputStage() {
        @Override public int nScales() { return 0; }

        @Override public float[] forward(SaeParams p, float[] xc, int N, int T, float[] zBuf) { return xc; }

        @Override public boolean needsDz() { return false; }

        /** xc = x − b_dec feeds only pre: ∂L/∂b_dec −= W_enc · Σ_r dpre_r. */
        @Override
        public void backward(SaeParams p, float[] xc, float[] dz, float[] dxc, int N, int T, SaeParams grad) {
            int n = p.dSae;
            Par.rows(p.dIn, 16, (lo, hi) -> SaeKernels.addMatVec(p.W_enc, grad.b_enc, n, -1f, grad.b_dec, lo, hi));
        }
    };

    /** The stage of an architecture: the dilated convolution for temporal SAEs, else the identity. */
    static InputStage of(SaeConfig cfg) {
        return cfg.temporal() ? new DilatedConv(cfg.dilations(), cfg.convMode()) : IDENTITY;
    }
}
