package msts.model.gemma;

/**
 * An SAE intervention on resid_post of one layer, described by plain arrays (the model module knows no SAE
 * classes) so that a device engine can run it inside its forward plan (the TornadoVM {@code PlanForwardEngine});
 * a {@link Hook} carries one, and its {@code apply} is the host version (the reference the device must match).
 *
 * <p>Encoder ({@link Encoder}, docs/sae.md): xc = x − b_dec; z = xc, or for the temporal SAE
 * z = xc + Σ_s Σ_j conv_w[s, c, j]·xc[r + off(s, j), c] within the sequence; pre = z·W_enc + b_enc; f = act(pre)
 * with act = ReLU, TopK (k per row, ties by lower index, then ReLU) or JumpReLU (pre·1[pre &gt; θ_j]).
 * Decode: x̂ = f·W_dec + b_dec.
 *
 * <p>Modes: {@link Mode#REPLACE} (the SAE splice of the core eval): x ← x̂ at the rows where rowMask[seq][t];
 * {@link Mode#CLAMP} (SAEBench's anthropic_clamp_resid_SAE_features, the unlearning eval): f = encode(x),
 * f[t = 0] = 0, x̂ = decode(f), f' = f with every selected latent where f &gt; 0 set to −multiplier,
 * x ← x − x̂ + decode(f'); no selected latent = no change.
 *
 * @param layer      the layer whose resid_post is changed (before it is captured and before the next layer)
 * @param rowMask    REPLACE: [seq][t] rows to replace (indexed like the batch); CLAMP: null
 * @param features   CLAMP: the selected latents; REPLACE: empty
 * @param multiplier CLAMP: the clamp value's magnitude
 */
public record SaeSplice(int layer, Encoder sae, Mode mode, boolean[][] rowMask, int[] features, float multiplier) {
    public enum Mode { REPLACE, CLAMP }

    public enum Act { RELU, TOPK, JUMPRELU }

    public SaeSplice {
        if (sae == null || mode == null) throw new IllegalArgumentException("a splice needs an SAE and a mode");
        if (mode == Mode.REPLACE && rowMask == null) throw new IllegalArgumentException("a replacing splice needs its row mask");
        if (features == null) features = new int[0];
        for (int j : features)
            if (j < 0 || j >= sae.dSae()) throw new IllegalArgumentException("feature " + j + " outside 0.." + (sae.dSae() - 1));
    }

    /**
     * The SAE's inference arrays (not copies: a device engine copies them when it builds its plan, keyed by their
     * identity, so they must not change while an engine may hold them).
     *
     * @param wEnc      [dIn, dSae]
     * @param wDec      [dSae, dIn]
     * @param convW     [S, dIn, 3] for the temporal SAE, else empty
     * @param dilations the temporal SAE's S dilations, else empty
     * @param k         TopK's k (else unused)
     * @param threshold JumpReLU's θ [dSae] (else null)
     */
    public record Encoder(int dIn, int dSae, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec, float[] convW,
                          int[] dilations, boolean centred, Act act, int k, float[] threshold) {
        public Encoder {
            if (wEnc.length != dIn * dSae || wDec.length != dSae * dIn || bEnc.length != dSae || bDec.length != dIn
                    || convW.length != dilations.length * dIn * 3)
                throw new IllegalArgumentException("SAE arrays do not match d_in " + dIn + ", d_sae " + dSae);
            if (act == Act.JUMPRELU && (threshold == null || threshold.length != dSae))
                throw new IllegalArgumentException("a JumpReLU splice needs threshold [" + dSae + "]");
            if (act == Act.TOPK && (k <= 0 || k > dSae)) throw new IllegalArgumentException("k must be in 1.." + dSae);
        }

        public boolean temporal() { return dilations.length > 0; }
    }

    /** A {@link Gemma2.ResidHook} that is an SAE splice: engines that can run {@link #splice()} on their device do. */
    public interface Hook extends Gemma2.ResidHook {
        SaeSplice splice();
    }
}
