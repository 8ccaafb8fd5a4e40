package msts.data.world;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small word-level Hugging Face tokenizer for a world, built the way Gemma's is read: special tokens first
 * (Gemma's ids: {@code <pad>}=0, {@code <eos>}=1, {@code <bos>}=2, {@code <unk>}=3, then {@code <start_of_turn>}=4,
 * {@code <end_of_turn>}=5), Gemma's normalizer (space → "▁"), a Split pre-tokenizer that cuts the normalized text
 * into words that carry their leading "▁" (like Gemma's "▁A" vs "A"), single digits and single punctuation
 * marks, a WordLevel model over every piece that occurs in the world's texts (sorted, ids from 6), and a
 * decoder ("▁" → space, fuse) that inverts it. So "A" and " A" are two distinct single tokens, as the unlearning
 * eval needs, and decode(encode(text)) == text for every text of the world. {@link #pieces} is the same
 * split in Java (used to build the vocabulary and count tokens; tests check it against the Rust library).
 */
public final class WorldTokenizer {
    private WorldTokenizer() {}

    public static final List<String> SPECIALS = List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>");
    public static final String SPACE = "\u2581";
    public static final String SPLIT_REGEX = SPACE + "?[A-Za-z]+|" + SPACE + "?[0-9]|" + SPACE + "?[^A-Za-z0-9" + SPACE + "]|" + SPACE;
    static final Pattern SPLIT = Pattern.compile(SPLIT_REGEX);

    /** Pieces of a text as the tokenizer cuts it: special tokens whole, the rest normalized and split. */
    public static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int next = text.length();
            String sp = null;
            for (String s : SPECIALS) {
                int k = text.indexOf(s, i);
                if (k >= 0 && (k < next || (k == next && sp != null && s.length() > sp.length()))) {
                    next = k;
                    sp = s;
                }
            }
            split(text.substring(i, next), out);
            if (sp == null) break;
            out.add(sp);
            i = next + sp.length();
        }
        return out;
    }

    private static void split(String plain, List<String> out) {
        String norm = plain.replace(" ", SPACE);
        Matcher m = SPLIT.matcher(norm);
        int end = 0;
        while (m.find()) {
            if (m.start() > end) out.add(norm.substring(end, m.start()));
            out.add(m.group());
            end = m.end();
        }
        if (end < norm.length()) out.add(norm.substring(end));
    }

    /** The vocabulary: specials at 0..5, then every piece of the texts and the answer letters, sorted. */
    public static Map<String, Integer> vocabulary(Collection<String> texts) {
        TreeSet<String> pieces = new TreeSet<>();
        for (String t : texts) pieces.addAll(pieces(t));
        for (String l : McqPrompt.LETTERS) {
            pieces.add(l);
            pieces.add(SPACE + l);
        }
        pieces.removeAll(SPECIALS);
        Map<String, Integer> v = new LinkedHashMap<>();
        for (String s : SPECIALS) v.put(s, v.size());
        for (String p : pieces) v.put(p, v.size());
        return v;
    }

    /** tokenizer.json as a JSON tree (maps in a fixed order, so its bytes are a function of the vocabulary). */
    public static Map<String, Object> json(Map<String, Integer> vocab) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Object> added = new ArrayList<>();
        for (String s : SPECIALS) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", vocab.get(s));
            a.put("content", s);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
            added.add(a);
        }
        root.put("added_tokens", added);
        root.put("normalizer", replace(" ", SPACE));
        Map<String, Object> pre = new LinkedHashMap<>();
        pre.put("type", "Split");
        pre.put("pattern", Map.of("Regex", SPLIT_REGEX));
        pre.put("behavior", "Isolated");
        pre.put("invert", false);
        root.put("pre_tokenizer", pre);
        root.put("post_processor", null);
        Map<String, Object> dec = new LinkedHashMap<>();
        dec.put("type", "Sequence");
        dec.put("decoders", List.of(replace(SPACE, " "), Map.of("type", "Fuse")));
        root.put("decoder", dec);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        model.put("vocab", vocab);
        model.put("unk_token", "<unk>");
        root.put("model", model);
        return root;
    }

    private static Map<String, Object> replace(String from, String to) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "Replace");
        m.put("pattern", Map.of("String", from));
        m.put("content", to);
        return m;
    }
}
