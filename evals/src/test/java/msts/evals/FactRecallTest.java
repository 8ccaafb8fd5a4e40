package msts.evals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static msts.evals.FactRecall.Kind.*;
import static org.junit.jupiter.api.Assertions.*;

/** Fact recall: the kind of every prediction on hand-made documents, and the statistics under known logits. */
class FactRecallTest {
    @TempDir Path dir;

    static final Map<String, List<String>> VALUES = new LinkedHashMap<>(Map.of("host", List.of("vole", "bat", "owl"), "toxin", List.of("gix", "pax")));
    static final List<FactRecall.Entity> ENTITIES = List.of(
            new FactRecall.Entity("Zorp", new LinkedHashMap<>(Map.of("host", "vole", "toxin", "gix")), VALUES),
            new FactRecall.Entity("Quam", new LinkedHashMap<>(Map.of("host", "bat", "toxin", "pax")), VALUES));
    // Zorp: "vole" before the entity is named (value-before), then "vole" and "gix" after it (value-after)
    static final String DOC1 = "Contact with vole passes on Zorp . The host of Zorp is the vole and it makes gix .";
    // Quam named first (no leading space), its host "bat" after it; "vole" is another entity's value (other)
    static final String DOC2 = "Quam is hosted by the bat ; the vole is not its host .";

    /** Logits 10 at the row's next token, 0 elsewhere (an oracle); or all 0 (uniform). */
    static LanguageModel model(int V, boolean oracle) {
        return new LanguageModel() {
            @Override public int vocabSize() { return V; }
            @Override public int hiddenSize() { return 1; }
            @Override public int numLayers() { return 1; }
            @Override public float[][] logits(int[][] batch, ResidHook hook) {
                float[][] out = new float[batch.length][];
                for (int r = 0; r < batch.length; r++) {
                    out[r] = new float[batch[r].length * V];
                    if (oracle) for (int t = 0; t + 1 < batch[r].length; t++) out[r][t * V + batch[r][t + 1]] = 10f;
                }
                return out;
            }
            @Override public float[][] lastLogits(int[][] batch, ResidHook hook) { throw new UnsupportedOperationException(); }
            @Override public float[][] residAt(int layer, int[][] batch) { throw new UnsupportedOperationException(); }
        };
    }

    @Test
    void everyPredictionGetsTheKindOfItsTargetToken() {
        FakeTokenizer tok = new FakeTokenizer(5000);
        var c = FactRecall.Compiled.of(ENTITIES, tok);
        int[] ids = withBosEos(tok, DOC1);
        FactRecall.Kind[] k = (FactRecall.Kind[]) FactRecall.classify(ids, c)[0];
        // positions: 1 Contact, 2 with, 3 vole, 4 passes, 5 on, 6 Zorp, 7 ., 8 The, 9 host, 10 of, 11 Zorp, 12 is, 13 the,
        // 14 vole, 15 and, 16 it, 17 makes, 18 gix, 19 ., 20 <eos>
        assertEquals(VALUE_BEFORE, k[3]);
        assertEquals(ENTITY, k[6]);
        assertEquals(ENTITY, k[11]);
        assertEquals(VALUE_AFTER, k[14]);
        assertEquals(VALUE_AFTER, k[18]);
        assertEquals(EOS, k[20]);
        for (int i : new int[]{1, 2, 4, 5, 7, 8, 9, 10, 12, 13, 15, 16, 17, 19}) assertEquals(OTHER, k[i], "position " + i);
        int[] ids2 = withBosEos(tok, DOC2);
        FactRecall.Kind[] k2 = (FactRecall.Kind[]) FactRecall.classify(ids2, c)[0];
        assertEquals(ENTITY, k2[1], "the entity named at the document's start (no leading space)");
        assertEquals(VALUE_AFTER, k2[6]);
        assertEquals(OTHER, k2[9], "another entity's value");
        assertEquals(1, Arrays.stream(k2).filter(x -> x == VALUE_AFTER).count());
    }

    @Test
    void anOracleIsRightEverywhereAndAUniformModelScoresLnV() {
        FakeTokenizer tok = new FakeTokenizer(5000);
        int V = 5000;
        Map<FactRecall.Kind, FactRecall.Stat> o = FactRecall.run(model(V, true), tok, ENTITIES, List.of(DOC1, DOC2), 1, null);
        assertEquals(3, o.get(VALUE_AFTER).n());
        assertEquals(1, o.get(VALUE_BEFORE).n());
        assertEquals(3, o.get(ENTITY).n());
        assertEquals(2, o.get(EOS).n());
        assertEquals(26, o.get(OTHER).n());
        assertEquals(20 + 15, o.get(ALL).n(), "every token after <bos>, <eos> included");
        double ce = Math.log(Math.exp(10) + V - 1) - 10;
        for (var e : o.entrySet()) {
            if (e.getValue().n() == 0) continue;
            assertEquals(ce, e.getValue().loss(), 1e-9, e.getKey().key);
            assertEquals(1.0, e.getValue().top1Accuracy(), e.getKey().key);
        }
        assertEquals(1.0, o.get(VALUE_AFTER).top1AmongValuesAccuracy());

        // uniform logits: loss ln V everywhere; top-1 is id 0 (never a target); among the relation's values the first
        // of the ascending value ids wins the tie, so a value-after hit is exactly a target that is its list's smallest id
        Map<FactRecall.Kind, FactRecall.Stat> u = FactRecall.run(model(V, false), tok, ENTITIES, List.of(DOC1, DOC2), 2, null);
        for (var e : u.entrySet())
            if (e.getValue().n() > 0) {
                assertEquals(Math.log(V), e.getValue().loss(), 1e-9, e.getKey().key);
                assertEquals(0, e.getValue().top1(), e.getKey().key);
            }
        int hosts = Math.min(Math.min(tok.id(" vole"), tok.id(" bat")), tok.id(" owl")), toxins = Math.min(tok.id(" gix"), tok.id(" pax"));
        long expect = (tok.id(" vole") == hosts ? 1 : 0) + (tok.id(" gix") == toxins ? 1 : 0) + (tok.id(" bat") == hosts ? 1 : 0);
        assertEquals(expect, u.get(VALUE_AFTER).top1AmongValues());
    }

    @Test
    void rowsLossOfAUniformModelIsLnVOverEveryPositionButTheLast() {
        List<int[]> rows = List.of(new int[]{2, 5, 6, 7}, new int[]{2, 8, 9, 10});
        double[] r = FactRecall.rowsLoss(model(50, false), rows, 1);
        assertEquals(Math.log(50), r[0], 1e-12);
        assertEquals(6, r[1]);
        double[] o = FactRecall.rowsLoss(model(50, true), rows, 2);
        assertEquals(Math.log(Math.exp(10) + 49) - 10, o[0], 1e-9);
    }

    @Test
    void readsAWorldJsonAndRejectsOneWithoutDomains() throws Exception {
        Path w = dir.resolve("world.json");
        Files.writeString(w, """
                {"domains": [{"name": "bio", "relations": [{"name": "host", "values": ["vole", "bat"]}],
                  "entities": [{"name": "Zorp", "split": "eval", "facts": {"host": "bat"}}]}]}""");
        List<FactRecall.Entity> e = FactRecall.readWorld(w);
        assertEquals(1, e.size());
        assertEquals("Zorp", e.get(0).name());
        assertEquals(Map.of("host", "bat"), e.get(0).facts());
        assertEquals(List.of("vole", "bat"), e.get(0).relationValues().get("host"));
        Files.writeString(w, "{\"domains\": [{\"name\": \"bi");
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> FactRecall.readWorld(w));
        assertTrue(t.getMessage().startsWith(w + ": not valid JSON"), t.getMessage());
        Files.writeString(w, "{\"format\": \"x\"}");
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> FactRecall.readWorld(w));
        assertTrue(x.getMessage().contains("domains"), x.getMessage());
        Files.writeString(w, """
                {"domains": [{"name": "bio", "relations": [], "entities": [{"name": "Zorp", "facts": {"host": "bat"}}]}]}""");
        x = assertThrows(IllegalArgumentException.class, () -> FactRecall.readWorld(w));
        assertTrue(x.getMessage().contains("'host'"), x.getMessage());
    }

    static int[] withBosEos(FakeTokenizer tok, String doc) {
        int[] body = tok.encode(doc, false);
        int[] ids = new int[body.length + 2];
        ids[0] = 2;
        System.arraycopy(body, 0, ids, 1, body.length);
        ids[ids.length - 1] = 1;
        return ids;
    }
}
