package msts.data;

import java.util.function.Function;

import msts.model.tokenizer.Tokenizer;

/** Test fake: a {@link Tokenizer} from an encode function (no BOS) and the BOS/EOS ids; no PAD, no token lookup. */
record FnTokenizer(Function<String, int[]> encodeNoBos, int bosId, int eosId) implements Tokenizer {
    @Override
    public int[] encode(String text, boolean addBos) {
        int[] ids = encodeNoBos.apply(text);
        if (!addBos) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = bosId;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    @Override public int tokenId(String token) { return -1; }
    @Override public int padId() { return -1; }
}
