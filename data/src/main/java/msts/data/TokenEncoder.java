package msts.data;

import java.util.function.Function;

/**
 * What {@link Corpus} needs from a tokenizer: text → ids without BOS, and the BOS/EOS ids.
 * {@code msts.model.tokenizer.GemmaTokenizer} is adapted by {@link #of(Function, int, int, String)}
 * (e.g. {@code TokenEncoder.of(t -> tok.encode(t, false), tok.bosId(), tok.eosId(), "gemma")}); tests use fakes.
 */
public interface TokenEncoder {
    /** Token ids of {@code text}, without a BOS token. */
    int[] encode(String text);

    int bosId();

    int eosId();

    /** A short description recorded in manifests (e.g. the tokenizer.json path). */
    default String name() { return getClass().getSimpleName(); }

    static TokenEncoder of(Function<String, int[]> encodeNoBos, int bos, int eos, String name) {
        return new TokenEncoder() {
            @Override public int[] encode(String text) { return encodeNoBos.apply(text); }
            @Override public int bosId() { return bos; }
            @Override public int eosId() { return eos; }
            @Override public String name() { return name; }
        };
    }
}
