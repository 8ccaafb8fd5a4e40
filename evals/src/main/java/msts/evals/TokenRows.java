package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** JSONL reading and SAEBench-style token rows (docs joined with EOS, rows of ctx tokens with BOS at 0). */
public final class TokenRows {
    private TokenRows() {}

    /** Every line of a JSONL file as a JSON object; one clear error naming file and line otherwise. */
    public static List<JsonNode> readJsonl(Path file) {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = EvalOutput.MAPPER.readTree(line);
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ":" + no + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
                }
                if (n == null || !n.isObject()) throw new IllegalArgumentException(file + ":" + no + ": expected a JSON object");
                out.add(n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no records");
        return out;
    }

    /** The {@code text} field of every record (lines kept only when {@code keep} accepts them). */
    public static List<String> readTexts(Path file, Predicate<String> keep) {
        List<String> out = new ArrayList<>();
        int no = 0;
        for (JsonNode n : readJsonl(file)) {
            no++;
            JsonNode t = n.get("text");
            if (t == null || !t.isTextual()) throw new IllegalArgumentException(file + ": record " + no + " has no string field \"text\"");
            if (keep.test(t.asText())) out.add(t.asText());
        }
        return out;
    }

    /**
     * SAEBench's corpus rows: documents tokenized without BOS, joined with EOS into one stream, cut into rows
     * of {@code ctx} tokens where position 0 is BOS and positions 1..ctx-1 come from the stream; at most
     * {@code maxRows} rows (the last partial row is dropped unless it is the only one).
     */
    public static int[][] rows(TextTokenizer tok, List<String> docs, int ctx, int maxRows) {
        if (ctx < 2) throw new IllegalArgumentException("context size must be >= 2, got " + ctx);
        List<int[]> rows = new ArrayList<>();
        int[] cur = new int[ctx];
        cur[0] = tok.bosId();
        int fill = 1;
        for (int d = 0; d < docs.size() && rows.size() < maxRows; d++) {
            int[] ids = tok.encode(docs.get(d), false);
            int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
            withEos[ids.length] = tok.eosId();
            for (int id : withEos) {
                cur[fill++] = id;
                if (fill == ctx) {
                    rows.add(cur);
                    if (rows.size() >= maxRows) break;
                    cur = new int[ctx];
                    cur[0] = tok.bosId();
                    fill = 1;
                }
            }
        }
        if (rows.isEmpty() && fill > 1) rows.add(java.util.Arrays.copyOf(cur, fill));
        if (rows.isEmpty()) throw new IllegalArgumentException("corpus produced no tokens");
        return rows.toArray(new int[0][]);
    }

    /** mask[t] = true where the token counts (not BOS/EOS/PAD). */
    public static boolean[] mask(TextTokenizer tok, int[] row) {
        boolean[] m = new boolean[row.length];
        for (int t = 0; t < row.length; t++) m[t] = !tok.isSpecial(row[t]);
        return m;
    }
}
