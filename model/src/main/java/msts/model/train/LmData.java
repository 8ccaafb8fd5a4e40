package msts.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.model.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The text of a language-model training run, read from a world directory (docs/world.md): tokenizer.json,
 * the training documents (train.jsonl, else train.txt) and held-out documents (heldout.jsonl, else
 * forget.jsonl + retain.jsonl when present). A .jsonl file holds one JSON object per line with a "text"
 * field; a .txt file holds documents separated by blank lines. Each document is encoded without BOS and
 * followed by EOS; the documents are concatenated in file order into one token stream.
 */
public record LmData(Path tokenizerJson, Path trainFile, List<Path> heldOutFiles) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Finds the files of a world directory; a clear error naming what is missing. */
    public static LmData fromWorld(Path dir) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": world directory not found");
        Path tok = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tok)) throw new IllegalArgumentException(dir + ": no tokenizer.json");
        Path train = first(dir, "train.jsonl", "train.txt");
        if (train == null) throw new IllegalArgumentException(dir + ": no train.jsonl or train.txt");
        List<Path> held = new ArrayList<>();
        Path h = first(dir, "heldout.jsonl", "heldout.txt");
        if (h != null) held.add(h);
        else for (String n : new String[]{"forget.jsonl", "retain.jsonl"})
            if (Files.isRegularFile(dir.resolve(n))) held.add(dir.resolve(n));
        return new LmData(tok, train, held);
    }

    private static Path first(Path dir, String... names) {
        for (String n : names) if (Files.isRegularFile(dir.resolve(n))) return dir.resolve(n);
        return null;
    }

    /** Documents of one file (.jsonl "text" fields, or blank-line separated paragraphs). */
    public static List<String> documents(Path file) {
        List<String> docs = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            if (file.getFileName().toString().endsWith(".jsonl")) {
                String line;
                int n = 0;
                while ((line = r.readLine()) != null) {
                    n++;
                    if (line.isBlank()) continue;
                    JsonNode o;
                    try {
                        o = JSON.readTree(line);
                    } catch (IOException e) {
                        throw new IllegalArgumentException(file + ":" + n + ": not a JSON object: " + e.getMessage());
                    }
                    if (o == null || !o.path("text").isTextual())
                        throw new IllegalArgumentException(file + ":" + n + ": no \"text\" string");
                    docs.add(o.get("text").asText());
                }
            } else {
                StringBuilder sb = new StringBuilder();
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.isBlank()) {
                        if (!sb.isEmpty()) docs.add(sb.toString());
                        sb.setLength(0);
                    } else {
                        if (!sb.isEmpty()) sb.append('\n');
                        sb.append(line);
                    }
                }
                if (!sb.isEmpty()) docs.add(sb.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return docs;
    }

    /** Token stream of the files: every document's ids followed by EOS, in order. */
    public static int[] tokens(Tokenizer tok, List<Path> files) {
        List<int[]> parts = new ArrayList<>();
        long n = 0;
        for (Path f : files)
            for (String d : documents(f)) {
                int[] ids = tok.encode(d, false);
                parts.add(ids);
                n += ids.length + 1;
            }
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("text too long: " + n + " tokens");
        int[] out = new int[(int) n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
            out[o++] = tok.eosId();
        }
        return out;
    }
}
