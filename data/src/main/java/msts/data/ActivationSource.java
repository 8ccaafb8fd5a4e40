package msts.data;

/**
 * Residual-stream activation sequences [numSequences, contextSize, dIn], token order kept within each
 * sequence. Implementations: an msts activation store directory (shards + manifest), a single
 * safetensors file with a tensor {@code activations}, and in-memory arrays
 * ({@link ActivationSources#inMemory}). Reads widen BF16 to F32.
 */
public interface ActivationSource extends AutoCloseable {
    int numSequences();

    int contextSize();

    int dIn();

    /** Copies sequence {@code s} as F32 [contextSize, dIn] into dst starting at dstOff. */
    void readSequence(int s, float[] dst, int dstOff);

    /** Copies the activation of sequence {@code s} at position {@code pos} ([dIn] F32) into dst at dstOff. */
    default void readToken(int s, int pos, float[] dst, int dstOff) {
        float[] tmp = new float[contextSize() * dIn()];
        readSequence(s, tmp, 0);
        System.arraycopy(tmp, pos * dIn(), dst, dstOff, dIn());
    }

    /** Token ids of sequence {@code s} [contextSize], or null when the source has none. */
    default int[] tokens(int s) { return null; }

    /** Total number of token positions, numSequences · contextSize. */
    default long numTokens() { return (long) numSequences() * contextSize(); }

    @Override
    default void close() {}
}
