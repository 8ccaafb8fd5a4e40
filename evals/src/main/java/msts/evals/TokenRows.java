package msts.evals;

import msts.model.tokenizer.Tokenizer;

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

/** JSONL reading and special-token masks (corpus rows come from {@code msts.data.Corpus}). */
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

    /** mask[t] = true where the token counts (not BOS/EOS/PAD). */
    public static boolean[] mask(Tokenizer tok, int[] row) {
        boolean[] m = new boolean[row.length];
        for (int t = 0; t < row.length; t++) m[t] = !tok.isSpecial(row[t]);
        return m;
    }
}
