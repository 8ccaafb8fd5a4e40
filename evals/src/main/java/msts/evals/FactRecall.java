package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.IntConsumer;

/**
 * Fact recall in held-out paraphrases (docs/evals.md, "Fact recall"): a world model's next-token predictions on
 * documents written with templates it never trained on (a world's forget.jsonl / retain.jsonl), split by what the
 * predicted token is. Each document is run alone as {@code <bos>} + its tokens + {@code <eos>}; its entity is the
 * world entity named first in it. A prediction's kind is that of its target token:
 * <ul>
 *   <li>{@link Kind#VALUE_AFTER}: the first token of one of the entity's fact values, after the entity was named —
 *       knowable only from the model's knowledge of the entity;</li>
 *   <li>{@link Kind#VALUE_BEFORE}: the same before the entity is named (a value-first template);</li>
 *   <li>{@link Kind#ENTITY}: a token of the entity's name; {@link Kind#EOS}: the closing {@code <eos>};</li>
 *   <li>{@link Kind#OTHER}: everything else (template words, punctuation).</li>
 * </ul>
 * Per kind: predictions, mean cross-entropy (nats), top-1 accuracy over the vocabulary and, for value-after, top-1
 * accuracy among the first tokens of the relation's value list. scripts/heldout_fact_recall.py is the PyTorch
 * reference of the same procedure.
 */
public final class FactRecall {
    private FactRecall() {}

    public enum Kind {
        VALUE_AFTER("value_after"), VALUE_BEFORE("value_before"), ENTITY("entity"), OTHER("other"), EOS("eos"), ALL("all");

        public final String key;

        Kind(String key) { this.key = key; }
    }

    /** An entity of a world: its name, its facts (relation → value) and its domain's value list per relation. */
    public record Entity(String name, Map<String, String> facts, Map<String, List<String>> relationValues) {}

    /** Counts of one kind: predictions, summed cross-entropy, top-1 hits, top-1 hits among the relation's values. */
    public record Stat(long n, double lossSum, long top1, long top1AmongValues) {
        public double loss() { return lossSum / n; }

        public double top1Accuracy() { return (double) top1 / n; }

        public double top1AmongValuesAccuracy() { return (double) top1AmongValues / n; }

        Stat plus(double ce, boolean hit, boolean hitAmong) {
            return new Stat(n + 1, lossSum + ce, top1 + (hit ? 1 : 0), top1AmongValues + (hitAmong ? 1 : 0));
        }
    }

    /** The entities of a world.json (msts world), every domain in order. */
    public static List<Entity> readWorld(Path worldJson) {
        JsonNode man;
        try {
            man = new ObjectMapper().readTree(worldJson.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(worldJson + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (man == null || !man.path("domains").isArray() || man.path("domains").isEmpty())
            throw new IllegalArgumentException(worldJson + ": no \"domains\" (a world.json written by msts world)");
        List<Entity> out = new ArrayList<>();
        for (JsonNode d : man.get("domains")) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            for (JsonNode r : d.path("relations")) {
                List<String> v = new ArrayList<>();
                r.path("values").forEach(x -> v.add(x.asText()));
                values.put(r.path("name").asText(), v);
            }
            for (JsonNode e : d.path("entities")) {
                Map<String, String> facts = new LinkedHashMap<>();
                e.path("facts").properties().forEach(f -> facts.put(f.getKey(), f.getValue().asText()));
                for (String r : facts.keySet())
                    if (!values.containsKey(r))
                        throw new IllegalArgumentException(worldJson + ": entity " + e.path("name").asText() + " has a fact of relation '" + r
                                + "', which its domain does not list");
                out.add(new Entity(e.path("name").asText(), facts, values));
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException(worldJson + ": no entities");
        return out;
    }

    /** Token-level view of the entities: name forms (with and without a leading space), value first tokens. */
    record Compiled(List<int[][]> forms, List<int[]> valueToken, List<int[][]> allowed) {
        static Compiled of(List<Entity> entities, Tokenizer tok) {
            List<int[][]> forms = new ArrayList<>();
            List<int[]> vt = new ArrayList<>();
            List<int[][]> al = new ArrayList<>();
            for (Entity e : entities) {
                forms.add(new int[][]{tok.encode(" " + e.name(), false), tok.encode(e.name(), false)});
                int[] v = new int[e.facts().size()];
                int[][] a = new int[e.facts().size()][];
                int k = 0;
                for (var f : e.facts().entrySet()) {
                    v[k] = firstToken(tok, f.getValue());
                    TreeSet<Integer> s = new TreeSet<>();
                    for (String x : e.relationValues().get(f.getKey())) s.add(firstToken(tok, x));
                    a[k++] = s.stream().mapToInt(Integer::intValue).toArray();
                }
                vt.add(v);
                al.add(a);
            }
            return new Compiled(forms, vt, al);
        }

        private static int firstToken(Tokenizer tok, String value) {
            int[] ids = tok.encode(" " + value, false);
            if (ids.length == 0) throw new IllegalArgumentException("fact value '" + value + "' has no tokens");
            return ids[0];
        }
    }

    /**
     * Kind of the prediction of each position (index i = predicting ids[i]; index 0 unused) and, for value-after
     * positions, the relation's value tokens (ascending). {@code ids} = bos + document + eos.
     */
    static Object[] classify(int[] ids, Compiled c) {
        int n = ids.length;
        Kind[] kind = new Kind[n];
        int[][] allowed = new int[n][];
        Arrays.fill(kind, Kind.OTHER);
        kind[n - 1] = Kind.EOS;
        int best = -1, at = Integer.MAX_VALUE;
        for (int e = 0; e < c.forms().size(); e++)
            for (int[] f : c.forms().get(e)) {
                int i = find(ids, f);
                if (i >= 0 && i < at) { at = i; best = e; }
            }
        if (best >= 0) {
            for (int[] f : c.forms().get(best))
                for (int i = 0; i + f.length <= n; i++)
                    if (f.length > 0 && matches(ids, i, f))
                        for (int j = i; j < i + f.length; j++) if (kind[j] != Kind.EOS) kind[j] = Kind.ENTITY;
            int[] vt = c.valueToken().get(best);
            for (int k = 0; k < vt.length; k++)
                for (int i = 1; i < n; i++)
                    if (ids[i] == vt[k] && kind[i] == Kind.OTHER) {
                        kind[i] = i > at ? Kind.VALUE_AFTER : Kind.VALUE_BEFORE;
                        allowed[i] = c.allowed().get(best)[k];
                    }
        }
        return new Object[]{kind, allowed};
    }

    private static int find(int[] ids, int[] f) {
        if (f.length == 0) return -1;
        for (int i = 0; i + f.length <= ids.length; i++) if (matches(ids, i, f)) return i;
        return -1;
    }

    private static boolean matches(int[] ids, int i, int[] f) {
        for (int j = 0; j < f.length; j++) if (ids[i + j] != f[j]) return false;
        return true;
    }

    /** Per-kind statistics of the documents ({@link Kind#ALL}: every prediction). */
    public static Map<Kind, Stat> run(LanguageModel lm, Tokenizer tok, List<Entity> entities, List<String> docs, int batch, IntConsumer progress) {
        Compiled c = Compiled.of(entities, tok);
        Map<Kind, Stat> st = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) st.put(k, new Stat(0, 0, 0, 0));
        int V = lm.vocabSize();
        double[] lp = new double[V];
        for (int b = 0; b < docs.size(); b += batch) {
            int m = Math.min(batch, docs.size() - b);
            int[][] rows = new int[m][];
            for (int r = 0; r < m; r++) {
                int[] body = tok.encode(docs.get(b + r), false);
                int[] ids = new int[body.length + 2];
                ids[0] = tok.bosId();
                System.arraycopy(body, 0, ids, 1, body.length);
                ids[ids.length - 1] = tok.eosId();
                rows[r] = ids;
            }
            float[][] logits = lm.logits(rows, null);
            for (int r = 0; r < m; r++) {
                int[] ids = rows[r];
                Object[] cl = classify(ids, c);
                Kind[] kind = (Kind[]) cl[0];
                int[][] allowed = (int[][]) cl[1];
                for (int i = 1; i < ids.length; i++) {
                    LogMath.logSoftmax(logits[r], (i - 1) * V, V, lp);
                    int t = ids[i];
                    boolean hit = argmax(lp, null) == t;
                    boolean among = allowed[i] != null && argmax(lp, allowed[i]) == t;
                    st.put(kind[i], st.get(kind[i]).plus(-lp[t], hit, among));
                    st.put(Kind.ALL, st.get(Kind.ALL).plus(-lp[t], hit, false));
                }
            }
            if (progress != null) progress.accept(b + m);
        }
        return st;
    }

    /** Index of the largest value (the first of ties), over all entries or over {@code among} only. */
    static int argmax(double[] v, int[] among) {
        int best = -1;
        if (among == null) {
            for (int i = 0; i < v.length; i++) if (best < 0 || v[i] > v[best]) best = i;
        } else {
            for (int i : among) if (best < 0 || v[i] > v[best]) best = i;
        }
        return best;
    }

    /**
     * Mean next-token cross-entropy over token rows as {@code msts lm train} scores its held-out text: each row is
     * [BOS] + context−1 stream tokens, every position but the last predicts the next. Returns {loss, predictions}.
     */
    public static double[] rowsLoss(LanguageModel lm, List<int[]> rows, int batch) {
        int V = lm.vocabSize();
        double[] lp = new double[V];
        double sum = 0;
        long n = 0;
        for (int b = 0; b < rows.size(); b += batch) {
            int[][] x = rows.subList(b, Math.min(rows.size(), b + batch)).toArray(int[][]::new);
            float[][] logits = lm.logits(x, null);
            for (int r = 0; r < x.length; r++)
                for (int i = 0; i + 1 < x[r].length; i++) {
                    LogMath.logSoftmax(logits[r], i * V, V, lp);
                    sum -= lp[x[r][i + 1]];
                    n++;
                }
        }
        return new double[]{sum / n, n};
    }
}
