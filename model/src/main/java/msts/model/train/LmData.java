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
 *
 * <p>Supervised documents: a .jsonl record may carry a {@code "completion"} string, a suffix of its
 * {@code "text"} (e.g. the answer "C)&lt;end_of_turn&gt;" of an MCQ prompt). Its prompt (the text before the
 * suffix) and its completion are encoded separately and concatenated; {@link #weightedTokens} gives the
 * prompt's tokens one loss weight and the completion's tokens (and the EOS after them) another, as in
 * supervised fine-tuning with the loss on the completion. Documents without a completion weigh 1.
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

    /** A document: its text and the completion suffix of it (null when the record has none). */
    public record Document(String text, String completion) {
        public Document {
            if (completion != null && !text.endsWith(completion))
                throw new IllegalArgumentException("the completion is not a suffix of the text");
        }

        String prompt() { return completion == null ? text : text.substring(0, text.length() - completion.length()); }
    }

    /** A token stream and the loss weight of predicting each of its tokens (null = all 1). */
    public record Stream(int[] tokens, float[] weights) {}

    /** Documents of one file (.jsonl "text" fields, or blank-line separated paragraphs). */
    public static List<String> documents(Path file) {
        List<String> out = new ArrayList<>();
        for (Document d : records(file)) out.add(d.text());
        return out;
    }

    /** Documents of one file with their completions (.jsonl "completion"; none in a .txt file). */
    public static List<Document> records(Path file) {
        List<Document> docs = new ArrayList<>();
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
                    String text = o.get("text").asText(), completion = null;
                    if (o.has("completion")) {
                        if (!o.get("completion").isTextual() || !text.endsWith(o.get("completion").asText()))
                            throw new IllegalArgumentException(file + ":" + n + ": \"completion\" must be a string that ends \"text\"");
                        completion = o.get("completion").asText();
                    }
                    docs.add(new Document(text, completion));
                }
            } else {
                StringBuilder sb = new StringBuilder();
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.isBlank()) {
                        if (!sb.isEmpty()) docs.add(new Document(sb.toString(), null));
                        sb.setLength(0);
                    } else {
                        if (!sb.isEmpty()) sb.append('\n');
                        sb.append(line);
                    }
                }
                if (!sb.isEmpty()) docs.add(new Document(sb.toString(), null));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return docs;
    }

    /** Token stream of the files: every document's ids followed by EOS, in order. */
    public static int[] tokens(Tokenizer tok, List<Path> files) {
        return weightedTokens(tok, files, 1f, 1f).tokens();
    }

    /**
     * Token stream of the files (every document's ids followed by EOS, in order; a document with a completion
     * is its prompt's ids then its completion's ids) and the loss weight of predicting each token:
     * {@code promptWeight} for a prompt's tokens, {@code completionWeight} for a completion's tokens and the
     * EOS that ends it, 1 for every other token. With both weights 1 the weights are null (plain mean loss).
     */
    public static Stream weightedTokens(Tokenizer tok, List<Path> files, float promptWeight, float completionWeight) {
        if (!(promptWeight >= 0) || !(completionWeight >= 0) || !Float.isFinite(promptWeight) || !Float.isFinite(completionWeight))
            throw new IllegalArgumentException("loss weights must be finite and ≥ 0, got " + promptWeight + " and " + completionWeight);
        boolean weighted = promptWeight != 1f || completionWeight != 1f;
        List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
        long n = 0;
        for (Path f : files)
            for (Document d : records(f)) {
                int[] p = tok.encode(d.prompt(), false);
                int[] c = d.completion() == null ? null : tok.encode(d.completion(), false);
                prompts.add(p);
                completions.add(c);
                n += p.length + (c == null ? 0 : c.length) + 1;
            }
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("text too long: " + n + " tokens");
        int[] out = new int[(int) n];
        float[] w = weighted ? new float[(int) n] : null;
        int o = 0;
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i), c = completions.get(i);
            float pw = c == null ? 1f : promptWeight, cw = c == null ? 1f : completionWeight;
            System.arraycopy(p, 0, out, o, p.length);
            if (w != null) java.util.Arrays.fill(w, o, o + p.length, pw);
            o += p.length;
            if (c != null) {
                System.arraycopy(c, 0, out, o, c.length);
                if (w != null) java.util.Arrays.fill(w, o, o + c.length, cw);
                o += c.length;
            }
            if (w != null) w[o] = cw;
            out[o++] = tok.eosId();
        }
        return new Stream(out, w);
    }
}
