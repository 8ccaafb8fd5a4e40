package msts.evals;

/**
 * The view of a causal language model the evals need. Rows of a batch may have different lengths.
 * The Gemma-2 implementation is {@link GemmaModel}; tests use small fakes.
 */
public interface LanguageModel {
    int vocabSize();

    int hiddenSize();

    int numLayers();

    /** Logits at every position: [seq] → [T·vocab]; hook (may be null) sees every layer's resid_post. */
    float[][] logits(int[][] batch, ResidHook hook);

    /** Logits at the last position of each row: [seq] → [vocab]. */
    float[][] lastLogits(int[][] batch, ResidHook hook);

    /** resid_post of {@code layer} (forward stops there): [seq] → [T·hidden]. */
    float[][] residAt(int layer, int[][] batch);
}
