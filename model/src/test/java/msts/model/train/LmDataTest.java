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
}
