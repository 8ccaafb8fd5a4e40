package msts.model.store;

/**
 * Residual-stream activation sequences [numSequences, contextSize, dIn], token order kept within each
 * sequence. Implementations: an msts activation store directory (shards + manifest) and a single
 * safetensors file with a tensor {@code activations}. Reads widen BF16 to F32.
 */
public interface ActivationSource extends AutoCloseable {
    int numSequences();

    int contextSize();

    int dIn();

    /** Copies sequence {@code s} as F32 [contextSize, dIn] into dst starting at dstOff. */
    void readSequence(int s, float[] dst, int dstOff);

    @Override
    default void close() {}
}
