package msts.evals;

/** The view of a tokenizer the evals need (Gemma: {@link GemmaModel}); ids of BOS/EOS/PAD are special. */
public interface TextTokenizer {
    int[] encode(String text, boolean addBos);

    /** Id of a single token given as its string (e.g. "A", " A", "<start_of_turn>"); -1 if absent. */
    int tokenId(String token);

    int bosId();

    int eosId();

    int padId();

    default boolean isSpecial(int id) {
        return id == bosId() || id == eosId() || id == padId();
    }
}
