package msts.sae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A trained sparse autoencoder as the evals see it (inference only; training goes through
 * {@link AbstractSae#loss}). Activations are row-major F32; a batch is nSeq sequences of T consecutive
 * tokens ([nSeq·T, dIn]) so that temporal SAEs can look at earlier tokens of the same sequence; baseline
 * SAEs treat every row independently. Inputs are raw (unscaled) activations: any activation-normalisation
 * factor is folded into the weights.
 */
public interface Sae {
    int dIn();

    int dSae();

    /** The architecture (cfg.json "architecture": standard, topk, jumprelu, temporal). */
    Architecture architecture();

    /** f = encode(x): x [nSeq·T, dIn] → f [nSeq·T, dSae]. */
    void encode(float[] x, int nSeq, int T, float[] f);

    /** x̂ = f·W_dec + b_dec: f [rows, dSae] → xhat [rows, dIn]. */
    void decode(float[] f, int rows, float[] xhat);

    /** Decoder directions W_dec [dSae, dIn] (row j is latent j's direction); not a copy: do not modify. */
    float[] decoderWeights();

    /**
     * Encoder matrix W_enc [dIn, dSae] (column j is latent j's encoder direction, applied after the input
     * stage); not a copy: do not modify. Read by SAEBench's weight-based core metrics.
     */
    float[] encoderWeights();

    /** Encoder bias b_enc [dSae]; not a copy: do not modify. */
    float[] encoderBias();

    /** The SAELens-style cfg.json contents (d_in, d_sae, hook_name, architecture, ...). */
    Map<String, Object> cfg();

    /** Writes a SAELens-layout directory: cfg.json + sae_weights.safetensors. */
    void save(Path dir) throws IOException;
}
