package msts.model.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** World files: which are read, how documents are cut, and the rows built from a stream. */
class LmDataTest {
    @TempDir Path dir;

    @Test
    void documentsOfJsonlAndTxt() throws Exception {
        Files.writeString(dir.resolve("a.jsonl"), "{\"text\":\"one two\",\"kind\":\"prose\"}\n\n{\"text\":\"three\"}\n");
        assertEquals(List.of("one two", "three"), LmData.documents(dir.resolve("a.jsonl")));
        Files.writeString(dir.resolve("b.txt"), "first line\nsame doc\n\n\nsecond doc\n");
        assertEquals(List.of("first line\nsame doc", "second doc"), LmData.documents(dir.resolve("b.txt")));
        Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"ok\"}\n{\"txt\":1}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LmData.documents(dir.resolve("bad.jsonl")));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());
    }

    @Test
    void worldFilesAndMissingOnes() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> LmData.fromWorld(dir));
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LmData.fromWorld(dir));
        assertTrue(e.getMessage().contains("train.jsonl"), e.getMessage());
        Files.writeString(dir.resolve("train.jsonl"), "");
        Files.writeString(dir.resolve("forget.jsonl"), "");
        Files.writeString(dir.resolve("retain.jsonl"), "");
        LmData d = LmData.fromWorld(dir);
        assertEquals(dir.resolve("train.jsonl"), d.trainFile());
        assertEquals(List.of(dir.resolve("forget.jsonl"), dir.resolve("retain.jsonl")), d.heldOutFiles());
        Files.writeString(dir.resolve("heldout.jsonl"), "");
        assertEquals(List.of(dir.resolve("heldout.jsonl")), LmData.fromWorld(dir).heldOutFiles());
    }

    @Test
    void rowsStartWithBosCoverTheStreamAndEpochsArePermutations() {
        int[] stream = new int[50];
        for (int i = 0; i < 50; i++) stream[i] = 10 + i;
        TokenRows rows = new TokenRows(stream, 6, 2, 3);
        assertEquals(10, rows.rows()); // 50 / (6 − 1)
        assertArrayEquals(new int[]{2, 15, 16, 17, 18, 19}, rows.row(1));
        boolean[] seen = new boolean[10];
        for (int s = 0; s < 5; s++)
            for (int[] r : rows.batch(s, 2)) {
                assertEquals(2, r[0]);
                int idx = (r[1] - 10) / 5;
                assertFalse(seen[idx], "a row twice in one epoch");
                seen[idx] = true;
            }
        assertArrayEquals(rows.batch(7, 2)[1], new TokenRows(stream, 6, 2, 3).batch(7, 2)[1], "a function of (seed, step)");
        assertThrows(IllegalArgumentException.class, () -> new TokenRows(new int[3], 6, 2, 1));
    }

    /** One token per character (id = char), EOS 1: enough to see where prompts and completions go. */
    static final msts.model.tokenizer.Tokenizer CHARS = new msts.model.tokenizer.Tokenizer() {
        public int[] encode(String text, boolean addBos) { return text.chars().toArray(); }
        public int tokenId(String token) { return token.length() == 1 ? token.charAt(0) : -1; }
        public int bosId() { return 2; }
        public int eosId() { return 1; }
        public int padId() { return 0; }
    };

    @Test
    void completionsGetTheirOwnLossWeight() throws Exception {
        Files.writeString(dir.resolve("t.jsonl"), "{\"text\":\"ab\"}\n{\"text\":\"Q?C)\",\"completion\":\"C)\"}\n{\"text\":\"x\"}\n");
        List<Path> f = List.of(dir.resolve("t.jsonl"));
        LmData.Stream plain = LmData.weightedTokens(CHARS, f, 1f, 1f);
        assertNull(plain.weights(), "both weights 1: the plain mean loss");
        int[] ids = {'a', 'b', 1, 'Q', '?', 'C', ')', 1, 'x', 1};
        assertArrayEquals(ids, plain.tokens());
        assertArrayEquals(ids, LmData.tokens(CHARS, f));
        LmData.Stream w = LmData.weightedTokens(CHARS, f, 0f, 5f);
        assertArrayEquals(ids, w.tokens());
        assertArrayEquals(new float[]{1, 1, 1, 0, 0, 5, 5, 5, 1, 1}, w.weights());
        assertEquals(List.of("ab", "Q?C)", "x"), LmData.documents(dir.resolve("t.jsonl")));
        Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"Q?C)\",\"completion\":\"D)\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LmData.records(dir.resolve("bad.jsonl")));
        assertTrue(e.getMessage().contains("bad.jsonl:1") && e.getMessage().contains("completion"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LmData.weightedTokens(CHARS, f, -1f, 1f));
    }

    @Test
    void rowWeightsFollowTheRowsTargets() {
        int[] stream = new int[20];
        float[] w = new float[20];
        for (int i = 0; i < 20; i++) {
            stream[i] = 10 + i;
            w[i] = i;
        }
        TokenRows rows = new TokenRows(stream, w, 5, 2, 9);
        assertTrue(rows.weighted());
        assertEquals(190.0, rows.weightSum());
        // row 1 = BOS, stream 4..7: position t predicts stream 4 + t, the last position nothing
        assertArrayEquals(new float[]{4, 5, 6, 7, 0}, rows.rowWeights(1));
        for (int s = 0; s < 6; s++) {
            int[][] b = rows.batch(s, 3);
            float[][] bw = rows.targetWeights(s, 3);
            for (int i = 0; i < 3; i++)
                for (int t = 0; t + 1 < 5; t++) assertEquals(b[i][t + 1] - 10, bw[i][t], "weight of the token predicted");
        }
        TokenRows plain = new TokenRows(stream, 5, 2, 9);
        assertNull(plain.targetWeights(0, 3));
        assertEquals(-1.0, plain.weightSum());
        assertThrows(IllegalArgumentException.class, () -> new TokenRows(stream, new float[3], 5, 2, 9));
    }
}
