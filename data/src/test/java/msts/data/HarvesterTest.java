package msts.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class HarvesterTest {
    static final int D = 4, CTX = 6;

    @TempDir Path dir;

    /** A causal fake "model": position p's activation depends on tokens 0..p. Counts calls; may fail. */
    static final class Fake implements Harvester.ActivationModel {
        int calls;
        int failAfter = Integer.MAX_VALUE;

        @Override public int dIn() { return D; }

        @Override
        public float[][] run(int[][] rows) {
            if (calls++ >= failAfter) throw new IllegalStateException("killed");
            return compute(rows);
        }

        static float[][] compute(int[][] rows) {
            float[][] out = new float[rows.length][];
            for (int r = 0; r < rows.length; r++) {
                float[] a = new float[rows[r].length * D];
                float acc = 0;
                for (int p = 0; p < rows[r].length; p++) {
                    acc += (rows[r][p] % 97) * 0.37f;
                    for (int j = 0; j < D; j++) a[p * D + j] = acc * (j + 1) * 0.01f + p * 0.5f - j;
                }
                out[r] = a;
            }
            return out;
        }
    }

    Path corpus() throws Exception {
        Random r = new Random(5);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            StringBuilder t = new StringBuilder();
            for (int j = 0, n = r.nextInt(30); j < n; j++) t.append((char) ('a' + r.nextInt(26)));
            sb.append("{\"text\": \"").append(t).append("\"}\n");
        }
        Path f = dir.resolve("corpus.jsonl");
        Files.writeString(f, sb.toString());
        return f;
    }

    static Harvester.Config config(Path corpus, int layer, long tokens, int batch, DType dt) {
        ObjectNode args = StoreManifest.JSON.createObjectNode();
        args.put("layer", layer);
        args.put("tokens", tokens);
        args.put("batch_seqs", batch);
        return new Harvester.Config("fake", layer, "chars", List.of(corpus), Corpus.Options.DEFAULT, CTX, tokens,
                batch, 4, dt, args);
    }

    static void assertStoreMatchesModel(Path out, int[][] rows, DType dt) {
        float[][] exp = Fake.compute(rows);
        try (ActivationStore st = ActivationStore.open(out)) {
            assertEquals(rows.length, st.numSequences());
            float[] seq = new float[CTX * D];
            for (int s = 0; s < rows.length; s++) {
                assertArrayEquals(rows[s], st.tokens(s), "tokens of sequence " + s);
                st.readSequence(s, seq, 0);
                for (int i = 0; i < CTX * D; i++) assertEquals(dt.round(exp[s][i]), seq[i], "sequence " + s + " element " + i);
            }
        }
    }

    /**
     * Held-out text starts at the first document no stored row touched: its rows' stream equals, token for token,
     * the documents after the last harvested one (each after the first joined by EOS), computed here from the
     * corpus text and the stored row count alone; a harvest that read the whole corpus leaves no held-out text.
     */
    @Test
    void heldOutRowsBeginAfterTheLastHarvestedDocument() throws Exception {
        Path c = corpus();
        List<String> docs = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(c)) {
            String t = line.substring(line.indexOf(": \"") + 3, line.lastIndexOf('"'));
            if (!t.isEmpty()) docs.add(t); // the corpus keeps documents longer than min_chars = 0
        }
        for (int stored : new int[]{1, 7, 15}) {
            Path s = dir.resolve("h" + stored);
            Harvester.run(s, config(c, 2, (long) stored * CTX - 2, 3, DType.F32), CorpusTest.CHARS, new Fake(), true);
            StoreManifest m = StoreManifest.read(s);
            // the document holding the last stored stream token: walk the stream [doc0] [EOS doc1] [EOS doc2] …
            long used = (long) stored * (CTX - 1), seen = 0;
            int last = -1;
            while (seen < used) seen += docs.get(++last).length() + (last == 0 ? 0 : 1);
            int firstHeld = last + 1; // whether or not the last stored row ended with that document
            java.util.List<Integer> stream = new java.util.ArrayList<>();
            for (int d = firstHeld; d < docs.size(); d++) {
                if (d > firstHeld) stream.add(CorpusTest.EOS);
                for (char ch : docs.get(d).toCharArray()) stream.add(ch + 10);
            }
            int[][] rows = m.heldOutRows(CorpusTest.CHARS, CTX, 3);
            assertEquals(3, rows.length);
            for (int r = 0; r < rows.length; r++) {
                assertEquals(CorpusTest.BOS, rows[r][0]);
                for (int p = 1; p < CTX; p++) assertEquals(stream.get(r * (CTX - 1) + p - 1), rows[r][p], "held-out row " + r + " position " + p);
            }
            // none of them is a stored sequence
            try (ActivationStore st = ActivationStore.open(s)) {
                for (int q = 0; q < st.numSequences(); q++) for (int[] row : rows) assertFalse(java.util.Arrays.equals(row, st.tokens(q)));
            }
        }
        Path all = dir.resolve("all");
        Harvester.run(all, config(c, 2, 1_000_000, 5, DType.F32), CorpusTest.CHARS, new Fake(), true);
        var e = assertThrows(IllegalArgumentException.class, () -> StoreManifest.read(all).heldOutRows(CorpusTest.CHARS, CTX, 3));
        assertTrue(e.getMessage().startsWith("no held-out text"), e.getMessage());
    }

    @Test
    void storeHoldsTheModelsActivationsOfTheCorpusRows() throws Exception {
        Path c = corpus();
        int[][] rows = Corpus.readRows(List.of(c), CorpusTest.CHARS, CTX, 0, Corpus.Options.DEFAULT);
        assertTrue(rows.length > 30);
        var fake = new Fake();
        var res = Harvester.run(dir.resolve("s"), config(c, 2, 15 * CTX - 3, 3, DType.BF16), CorpusTest.CHARS, fake, true);
        assertEquals(15, res.sequencesWritten());
        assertFalse(res.corpusExhausted());
        assertStoreMatchesModel(dir.resolve("s"), java.util.Arrays.copyOf(rows, 15), DType.BF16);
        StoreManifest m = StoreManifest.read(dir.resolve("s"));
        assertTrue(m.complete());
        assertEquals(4, m.shards().size()); // 4 + 4 + 4 + 3
        assertEquals("blocks.2.hook_resid_post", m.hookName());
        assertEquals(15, m.position().rows());
        // same command again: nothing to do
        assertEquals(0, Harvester.run(dir.resolve("s"), config(c, 2, 15 * CTX - 3, 3, DType.BF16), CorpusTest.CHARS, fake, true)
                .sequencesWritten());
        // more tokens: continues where it stopped
        int before = fake.calls;
        var more = Harvester.run(dir.resolve("s"), config(c, 2, 22 * CTX, 5, DType.BF16), CorpusTest.CHARS, fake, true);
        assertTrue(more.resumed());
        assertEquals(7, more.sequencesWritten());
        assertStoreMatchesModel(dir.resolve("s"), java.util.Arrays.copyOf(rows, 22), DType.BF16);
        assertTrue(fake.calls - before <= 3, "only the new rows went through the model");
        // all of the corpus
        var all = Harvester.run(dir.resolve("s"), config(c, 2, 1_000_000, 5, DType.BF16), CorpusTest.CHARS, fake, true);
        assertTrue(all.corpusExhausted());
        assertStoreMatchesModel(dir.resolve("s"), rows, DType.BF16);
    }

    @Test
    void killedRunContinuesAfterTheLastCompleteShard() throws Exception {
        Path c = corpus();
        Path out = dir.resolve("store");
        int[][] rows = Corpus.readRows(List.of(c), CorpusTest.CHARS, CTX, 0, Corpus.Options.DEFAULT);
        var cfg = config(c, 1, 18 * CTX, 2, DType.F32);
        var dying = new Fake();
        dying.failAfter = 5; // shards of 4 rows, batches of 2: dies in the middle of the third shard
        assertThrows(IllegalStateException.class, () -> Harvester.run(out, cfg, CorpusTest.CHARS, dying, true));
        StoreManifest m = StoreManifest.read(out);
        assertEquals(2, m.shards().size());
        assertFalse(m.complete());
        // leftovers a kill can leave: a temp file, a shard renamed before the manifest update
        Files.write(out.resolve(".shard_00002.safetensors.999.tmp"), new byte[10]);
        Files.copy(out.resolve("shard_00000.safetensors"), out.resolve("shard_00002.safetensors"));
        try (ActivationStore st = ActivationStore.open(out)) {
            assertEquals(8, st.numSequences());
        }
        var fake = new Fake();
        var res = Harvester.run(out, cfg, CorpusTest.CHARS, fake, true);
        assertTrue(res.resumed());
        assertEquals(10, res.sequencesWritten());
        assertEquals(5, fake.calls); // 10 rows in batches of 2: the first 8 were not redone
        assertStoreMatchesModel(out, java.util.Arrays.copyOf(rows, 18), DType.F32);
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void otherArgumentsAreAnError() throws Exception {
        Path c = corpus();
        Path out = dir.resolve("store");
        Harvester.run(out, config(c, 1, 8 * CTX, 2, DType.F32), CorpusTest.CHARS, new Fake(), true);
        var e = assertThrows(StoreException.class,
                () -> Harvester.run(out, config(c, 3, 8 * CTX, 2, DType.F32), CorpusTest.CHARS, new Fake(), true));
        assertTrue(e.getMessage().contains("layer: 1 in the store, 3 now"), e.getMessage());
        assertTrue(e.getMessage().contains("--layer: 1 in the store, 3 now"), e.getMessage());
        Files.writeString(c, "{\"text\": \"one more document\"}\n", java.nio.file.StandardOpenOption.APPEND);
        e = assertThrows(StoreException.class,
                () -> Harvester.run(out, config(c, 1, 8 * CTX, 2, DType.F32), CorpusTest.CHARS, new Fake(), true));
        assertTrue(e.getMessage().contains("the corpus files changed since the store was started"), e.getMessage());
    }
}
