package msts.evals;

import msts.model.tokenizer.Tokenizer;

import java.util.HashMap;
import java.util.Map;

/** Word-level fake tokenizer: PAD 0, EOS 1, BOS 2, then words (a leading space is kept: " A" ≠ "A"). */
final class FakeTokenizer implements Tokenizer {
    final Map<String, Integer> ids = new HashMap<>();
    final int capacity;

    FakeTokenizer(int capacity) {
        this.capacity = capacity;
    }

    int id(String w) {
        return ids.computeIfAbsent(w, k -> 3 + Math.floorMod(k.hashCode(), capacity - 3));
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        if (addBos) out.add(2);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" ?[^ ]+").matcher(text);
        while (m.find()) out.add(id(m.group()));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override public int tokenId(String token) { return id(token); }
    @Override public int bosId() { return 2; }
    @Override public int eosId() { return 1; }
    @Override public int padId() { return 0; }
}
