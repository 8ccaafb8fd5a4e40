package msts.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class CorpusTest {
    static final int BOS = 2, EOS = 1;

    /** Fake tokenizer: one token per char, id = char + 10 (never BOS/EOS). */
    static final FnTokenizer CHARS = new FnTokenizer(s -> s.chars().map(c -> c + 10).toArray(), BOS, EOS);

    @TempDir Path dir;

    static List<String> randomDocs(Random rnd, int n) {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = rnd.nextInt(40); // some shorter than a row, some longer, some empty
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < len; j++) sb.append((char) ('a' + rnd.nextInt(26)));
            docs.add(sb.toString());
        }
        return docs;
    }

    static String jsonl(List<String> docs) {
        StringBuilder sb = new StringBuilder();
        for (String d : docs) sb.append("{\"id\": 1, \"text\": \"").append(d).append("\"}\n");
        return sb.toString();
    }

    /** Independent reference: the whole stream in memory, then cut. */
    static List<int[]> expectedRows(List<String> docs, int minChars, int ctx, boolean prepend, long maxRows) {
        List<Integer> stream = new ArrayList<>();
        boolean firstDoc = true;
        for (String d : docs) {
            if (d.length() <= minChars) continue;
            if (!firstDoc) stream.add(EOS);
            firstDoc = false;
            for (char c : d.toCharArray()) stream.add(c + 10);
        }
        int per = prepend ? ctx - 1 : ctx;
        List<int[]> rows = new ArrayList<>();
        for (int r = 0; (r + 1) * per <= stream.size() && rows.size() < maxRows; r++) {
            int[] row = new int[ctx];
            if (prepend) {
                row[0] = BOS;
                for (int j = 0; j < per; j++) row[1 + j] = stream.get(r * per + j);
            } else {
                for (int j = 0; j < ctx; j++) row[j] = stream.get(r * per + j);
                row[0] = BOS;
            }
            rows.add(row);
        }
        return rows;
    }

    static List<int[]> drain(Corpus.Rows rows) {
        List<int[]> out = new ArrayList<>();
        while (rows.hasNext()) out.add(rows.next());
        rows.close();
        return out;
    }

    static void assertRowsEqual(List<int[]> exp, List<int[]> got) {
        assertEquals(exp.size(), got.size(), "row count");
        for (int i = 0; i < exp.size(); i++) assertArrayEquals(exp.get(i), got.get(i), "row " + i);
    }

    @Test
    void jsonlRowsMatchIndependentCut() throws IOException {
        List<String> docs = randomDocs(new Random(1), 60);
        Path f = dir.resolve("c.jsonl");
        Files.writeString(f, jsonl(docs));
        for (int ctx : new int[] {2, 5, 16, 33}) {
            List<int[]> got = drain(Corpus.rows(List.of(f), CHARS, ctx, 0));
            assertRowsEqual(expectedRows(docs, 0, ctx, true, Long.MAX_VALUE), got);
            assertTrue(got.size() > 5);
            for (int[] r : got) assertEquals(BOS, r[0]);
            List<int[]> ow = drain(Corpus.rows(List.of(f), CHARS, ctx, 0,
                    Corpus.Options.DEFAULT.withBosMode(Corpus.BosMode.OVERWRITE)));
            assertRowsEqual(expectedRows(docs, 0, ctx, false, Long.MAX_VALUE), ow);
        }
    }

    @Test
    void minCharsAndMaxRowsAndSeveralFiles() throws IOException {
        List<String> docs = randomDocs(new Random(2), 80);
        Path a = dir.resolve("a.jsonl"), b = dir.resolve("b.jsonl.gz");
        Files.writeString(a, jsonl(docs.subList(0, 30)));
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(b))) {
            o.write(jsonl(docs.subList(30, 80)).getBytes(StandardCharsets.UTF_8));
        }
        var opts = Corpus.Options.DEFAULT.withMinChars(20);
        assertRowsEqual(expectedRows(docs, 20, 8, true, Long.MAX_VALUE),
                drain(Corpus.rows(List.of(a, b), CHARS, 8, 0, opts)));
        assertRowsEqual(expectedRows(docs, 20, 8, true, 7),
                drain(Corpus.rows(List.of(a, b), CHARS, 8, 7, opts)));
        assertEquals(7, Corpus.readRows(List.of(a, b), CHARS, 8, 7, opts).length);
    }

    @Test
    void continuingFromAnyPositionGivesTheSameRows() throws IOException {
        List<String> docs = randomDocs(new Random(3), 50);
        Path f = dir.resolve("c.jsonl");
        Files.writeString(f, jsonl(docs));
        int ctx = 7;
        List<int[]> all = drain(Corpus.rows(List.of(f), CHARS, ctx, 0));
        List<Corpus.Position> positions = new ArrayList<>();
        try (var rows = Corpus.rows(List.of(f), CHARS, ctx, 0)) {
            positions.add(rows.position());
            while (rows.hasNext()) {
                rows.next();
                positions.add(rows.position());
            }
        }
        assertEquals(Corpus.Position.START, positions.get(0));
        for (int k = 0; k < positions.size(); k++) {
            assertEquals(k, positions.get(k).rows());
            List<int[]> rest = drain(Corpus.rows(List.of(f), CHARS, ctx, 0, Corpus.Options.DEFAULT, positions.get(k)));
            assertRowsEqual(all.subList(k, all.size()), rest);
        }
        // maxRows counts the rows already cut before the start position
        var p = positions.get(4);
        assertEquals(2, drain(Corpus.rows(List.of(f), CHARS, ctx, 6, Corpus.Options.DEFAULT, p)).size());
    }

    @Test
    void plainTextSplits() throws IOException {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "alpha beta\ngamma\n\n\n  \ndelta\n\nepsilon\n");
        var docs = new ArrayList<String>();
        try (var d = Corpus.documents(List.of(f), Corpus.Options.DEFAULT)) {
            d.forEachRemaining(x -> docs.add(x.text()));
        }
        assertEquals(List.of("alpha beta\ngamma", "delta", "epsilon"), docs);
        docs.clear();
        try (var d = Corpus.documents(List.of(f), Corpus.Options.DEFAULT.withTextSplit(Corpus.TextSplit.LINES))) {
            d.forEachRemaining(x -> docs.add(x.text()));
        }
        assertEquals(List.of("alpha beta", "gamma", "  ", "delta", "epsilon"), docs);
        docs.clear();
        try (var d = Corpus.documents(List.of(f), Corpus.Options.DEFAULT.withTextSplit(Corpus.TextSplit.FILE))) {
            d.forEachRemaining(x -> docs.add(x.text()));
        }
        assertEquals(List.of(Files.readString(f)), docs);
        assertRowsEqual(expectedRows(List.of("alpha beta\ngamma", "delta", "epsilon"), 0, 4, true, Long.MAX_VALUE),
                drain(Corpus.rows(List.of(f), CHARS, 4, 0)));
    }

    /** Long lines come in pieces of at most PIECE chars that join back to the text; rows equal those of the whole text. */
    @Test
    void longLinesStreamInBoundedPieces() throws IOException {
        var rnd = new java.util.Random(7);
        StringBuilder sb = new StringBuilder();
        String[] words = {"alpha", "béta", "γάμμα", "δ", "😀😀", "x"};
        while (sb.length() < 5 * Corpus.PIECE) sb.append(words[rnd.nextInt(words.length)]).append(rnd.nextInt(9) == 0 ? "" : " ");
        StringBuilder nospace = new StringBuilder();
        while (nospace.length() < 2 * Corpus.PIECE + 17) nospace.append("ü😀ab");
        String longLine = sb.toString(), noSpaces = nospace.toString();
        for (Corpus.TextSplit split : Corpus.TextSplit.values()) {
            Path f = dir.resolve("long-" + split + ".txt");
            Files.writeString(f, "short one\n\n" + longLine + "\n\n" + noSpaces + "\n\nlast\n");
            List<Corpus.Document> docs = new ArrayList<>();
            try (var d = Corpus.documents(List.of(f), Corpus.Options.DEFAULT.withTextSplit(split))) {
                d.forEachRemaining(docs::add);
            }
            List<String> joined = new ArrayList<>();
            for (Corpus.Document d : docs) {
                assertTrue(d.text().length() <= 2 * Corpus.PIECE, "piece of " + d.text().length() + " chars");
                if (d.continued()) joined.set(joined.size() - 1, joined.getLast() + d.text());
                else joined.add(d.text());
            }
            List<String> want = switch (split) {
                case FILE -> List.of(Files.readString(f));
                case BLOCKS -> List.of("short one", longLine, noSpaces, "last");
                case LINES -> List.of("short one", longLine, noSpaces, "last");
            };
            assertEquals(want, joined, split.toString());
            assertTrue(docs.size() > want.size() + 2, "long documents come in pieces");
            assertRowsEqual(expectedRows(want, 0, 64, true, Long.MAX_VALUE),
                    drain(Corpus.rows(List.of(f), CHARS, 64, 0, Corpus.Options.DEFAULT.withTextSplit(split))));
        }
    }

    @Test
    void badJsonlLinesNameFileAndLine() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"text\": \"ok\"}\n\n{\"text\": \"fine\"}\n{\"text\": oops}\n");
        var e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertTrue(e.getMessage().startsWith(f + ":4: invalid JSON"), e.getMessage());

        Files.writeString(f, "{\"text\": \"ok\"}\n{\"txt\": \"x\"}\n");
        e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertEquals(f + ":2: missing field \"text\"", e.getMessage());

        Files.writeString(f, "{\"text\": 5}\n");
        e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertEquals(f + ":1: non-string field \"text\"", e.getMessage());

        Files.writeString(f, "[1, 2]\n");
        e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertTrue(e.getMessage().startsWith(f + ":1: expected a JSON object"), e.getMessage());

        Files.write(f, new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, '"', '}', '\n'});
        e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertTrue(e.getMessage().contains("bad.jsonl:1: not valid UTF-8"), e.getMessage());

        byte[] good = "{\"text\": \"fine\"}\n{\"text\": \"also fine\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] three = new byte[good.length + 13];
        System.arraycopy(good, 0, three, 0, good.length);
        System.arraycopy(new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, '"', '}', '\n'}, 0, three, good.length, 13);
        Files.write(f, three);
        e = assertThrows(CorpusException.class, () -> drain(Corpus.rows(List.of(f), CHARS, 2, 0)));
        assertTrue(e.getMessage().contains("bad.jsonl:3: not valid UTF-8"), e.getMessage());

        Files.writeString(f, "\uFEFF{\"text\": \"bom\"}\n"); // a UTF-8 byte-order mark is skipped
        assertArrayEquals(new int[] {BOS, 'b' + 10, 'o' + 10, 'm' + 10}, Corpus.readRows(List.of(f), CHARS, 4, 0, Corpus.Options.DEFAULT)[0]);

        e = assertThrows(CorpusException.class, () -> Corpus.rows(List.of(dir.resolve("none.jsonl")), CHARS, 2, 0));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
}
