package msts.model.tokenizer;

/**
 * The one tokenizer interface: text → ids, token lookup and the special ids. Implemented by
 * {@link GemmaTokenizer}; the corpus reader (msts.data.Corpus) and the evals take a {@code Tokenizer};
 * tests use small fakes.
 */
public interface Tokenizer {
    /** Token ids of {@code text}, with a leading BOS when {@code addBos}. */
    int[] encode(String text, boolean addBos);

    /** Id of a single token given as its string (e.g. "A", " A", "&lt;start_of_turn&gt;"); -1 if absent. */
    int tokenId(String token);

    int bosId();

    int eosId();

    int padId();

    /** BOS, EOS and PAD are special (masked out of per-token statistics). */
    default boolean isSpecial(int id) {
        return id == bosId() || id == eosId() || id == padId();
    }
}
