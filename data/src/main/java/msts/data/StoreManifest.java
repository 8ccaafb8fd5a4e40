package msts.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * {@code manifest.json} of an activation store directory (docs/activation-store.md). It lists only complete
 * shards; it is rewritten atomically (temp file + rename) after each shard is in place.
 *
 * @param arguments the arguments that define the store's content (model, layer, corpus, …); a re-run must
 *                  give the same ones to continue it
 * @param shards    complete shards, in sequence order
 * @param position  where the corpus continues after the last complete shard
 */
public record StoreManifest(
        String model, String hookName, int layer, int dIn, int contextSize, DType dtype, int sequencesPerShard,
        String tokenizer, List<String> corpusFiles, Corpus.Options corpusOptions,
        ObjectNode arguments, long targetSequences, List<Shard> shards, Corpus.Position position,
        boolean corpusExhausted, boolean complete) {

    public static final String FILE = "manifest.json";
    public static final String FORMAT = "msts-activation-store";
    public static final int VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A complete shard: file name in the store directory, index of its first sequence, sequence count. */
    public record Shard(String file, long firstSequence, int numSequences) {}

    public StoreManifest {
        corpusFiles = List.copyOf(corpusFiles);
        shards = List.copyOf(shards);
    }

    public static String hookName(int layer) { return "blocks." + layer + ".hook_resid_post"; }

    public static String shardName(int index) { return String.format("shard_%05d.safetensors", index); }

    /**
     * Where text this store has not read begins: the first whole document after the last one its harvest took
     * tokens from (document {@code position.document()} when none of it was read, else the next one; offset 1 skips
     * the EOS that joins a document to the one before it). Rows read from here with the store's corpus files and
     * options are held out from its sequences — the core eval's and the experiment's validation text
     * (docs/activation-store.md, "Held-out text").
     */
    public Corpus.Position heldOutStart() {
        long d = position.offset() == 0 ? position.document() : position.document() + 1;
        return new Corpus.Position(d, d == 0 ? 0 : 1, 0);
    }

    /**
     * Up to {@code n} rows of {@code ctx} tokens of this store's corpus (its files and options) from
     * {@link #heldOutStart()}: text from the SAE's training distribution that no stored sequence holds.
     *
     * @throws IllegalArgumentException when the corpus files are missing or no complete row is left after the harvest
     */
    public int[][] heldOutRows(Tokenizer tok, int ctx, int n) {
        List<Path> files = corpusFiles.stream().map(Path::of).toList();
        for (Path f : files)
            if (!Files.isRegularFile(f)) throw new IllegalArgumentException(f + ": corpus file of the store not found (held-out text is read from it)");
        Corpus.Position start = heldOutStart();
        int[][] r;
        try {
            r = Corpus.readRows(files, tok, ctx, n, corpusOptions, start);
        } catch (CorpusException e) {
            r = new int[0][];
        }
        if (r.length == 0)
            throw new IllegalArgumentException("no held-out text: the store's harvest read its corpus " + files + " up to document " + position.document()
                    + ", leaving no complete row of " + ctx + " tokens after it; harvest fewer tokens or give the eval its own corpus");
        return r;
    }

    /** Sequences in complete shards. */
    public long numSequences() {
        if (shards.isEmpty()) return 0;
        Shard last = shards.getLast();
        return last.firstSequence() + last.numSequences();
    }

    public StoreManifest withShard(Shard s, Corpus.Position after) {
        List<Shard> l = new ArrayList<>(shards);
        l.add(s);
        return new StoreManifest(model, hookName, layer, dIn, contextSize, dtype, sequencesPerShard, tokenizer,
                corpusFiles, corpusOptions, arguments, targetSequences, l, after, corpusExhausted, complete);
    }

    public StoreManifest withTarget(long target) {
        return new StoreManifest(model, hookName, layer, dIn, contextSize, dtype, sequencesPerShard, tokenizer,
                corpusFiles, corpusOptions, arguments, target, shards, position, corpusExhausted, false);
    }

    public StoreManifest finished(boolean exhausted) {
        return new StoreManifest(model, hookName, layer, dIn, contextSize, dtype, sequencesPerShard, tokenizer,
                corpusFiles, corpusOptions, arguments, targetSequences, shards, position, exhausted, true);
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("model", model);
        o.put("hook_name", hookName);
        o.put("layer", layer);
        o.put("d_in", dIn);
        o.put("context_size", contextSize);
        o.put("dtype", dtype.name());
        o.put("sequences_per_shard", sequencesPerShard);
        o.put("n_sequences", numSequences());
        o.put("n_tokens", numSequences() * contextSize);
        o.put("target_sequences", targetSequences);
        o.put("complete", complete);
        o.put("tokenizer", tokenizer);
        ObjectNode c = o.putObject("corpus");
        ArrayNode files = c.putArray("files");
        corpusFiles.forEach(files::add);
        c.put("min_chars", corpusOptions.minChars());
        c.put("text_split", corpusOptions.textSplit().name().toLowerCase());
        c.put("bos_mode", corpusOptions.bosMode().name().toLowerCase());
        c.put("text_field", corpusOptions.textField());
        ObjectNode p = c.putObject("position");
        p.put("document", position.document());
        p.put("offset", position.offset());
        p.put("rows", position.rows());
        c.put("exhausted", corpusExhausted);
        o.set("arguments", arguments.deepCopy());
        ArrayNode sh = o.putArray("shards");
        for (Shard s : shards) {
            ObjectNode n = sh.addObject();
            n.put("file", s.file());
            n.put("first_sequence", s.firstSequence());
            n.put("n_sequences", s.numSequences());
        }
        return o;
    }

    public static StoreManifest fromJson(JsonNode o, Path where) {
        try {
            if (!FORMAT.equals(o.path("format").asText()))
                throw new StoreException(where + ": not an msts activation store manifest (format is \""
                        + o.path("format").asText() + "\", expected \"" + FORMAT + "\")");
            if (o.path("version").asInt() != VERSION)
                throw new StoreException(where + ": manifest version " + o.path("version").asText() + " is not supported (expected " + VERSION + ")");
            JsonNode c = req(o, "corpus", where);
            List<String> files = new ArrayList<>();
            for (JsonNode f : req(c, "files", where)) files.add(f.asText());
            Corpus.Options opts = new Corpus.Options(req(c, "min_chars", where).asInt(),
                    Corpus.TextSplit.valueOf(req(c, "text_split", where).asText().toUpperCase()),
                    Corpus.BosMode.valueOf(req(c, "bos_mode", where).asText().toUpperCase()),
                    req(c, "text_field", where).asText());
            JsonNode p = req(c, "position", where);
            Corpus.Position pos = new Corpus.Position(req(p, "document", where).asLong(),
                    req(p, "offset", where).asInt(), req(p, "rows", where).asLong());
            List<Shard> shards = new ArrayList<>();
            long next = 0;
            for (Iterator<JsonNode> it = req(o, "shards", where).elements(); it.hasNext(); ) {
                JsonNode s = it.next();
                Shard sh = new Shard(req(s, "file", where).asText(), req(s, "first_sequence", where).asLong(),
                        req(s, "n_sequences", where).asInt());
                if (sh.firstSequence() != next || sh.numSequences() <= 0)
                    throw new StoreException(where + ": shard " + sh.file() + " starts at sequence " + sh.firstSequence()
                            + " with " + sh.numSequences() + " sequences; expected to start at " + next);
                next += sh.numSequences();
                shards.add(sh);
            }
            DType dt = DType.fromSafetensors(req(o, "dtype", where).asText());
            if (dt == null) throw new StoreException(where + ": unsupported dtype " + o.get("dtype").asText());
            JsonNode args = o.path("arguments");
            return new StoreManifest(o.path("model").asText(), req(o, "hook_name", where).asText(),
                    req(o, "layer", where).asInt(), req(o, "d_in", where).asInt(), req(o, "context_size", where).asInt(),
                    dt, req(o, "sequences_per_shard", where).asInt(), o.path("tokenizer").asText(), files, opts,
                    args.isObject() ? (ObjectNode) args : JSON.createObjectNode(),
                    o.path("target_sequences").asLong(next), shards, pos, c.path("exhausted").asBoolean(false),
                    o.path("complete").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new StoreException(where + ": malformed manifest: " + e.getMessage(), e);
        }
    }

    private static JsonNode req(JsonNode o, String field, Path where) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) throw new StoreException(where + ": manifest lacks the field \"" + field + "\"");
        return v;
    }

    /** The manifest as {@link #write} stores it (indented JSON). */
    public byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(toJson());
        } catch (IOException e) {
            throw new StoreException("cannot encode the manifest: " + e.getMessage(), e);
        }
    }

    /** Parses manifest bytes read from {@code where} (named in errors), e.g. through a Hadoop FileSystem. */
    public static StoreManifest parse(byte[] json, Path where) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (IOException e) {
            throw new StoreException(where + ": unreadable manifest: " + e.getMessage(), e);
        }
        if (o == null || !o.isObject()) throw new StoreException(where + ": unreadable manifest: not a JSON object");
        return fromJson(o, where);
    }

    public static StoreManifest read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new StoreException(dir + " is not an activation store (no " + FILE + ")");
        JsonNode o;
        try {
            o = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new StoreException(f + ": unreadable manifest: " + e.getMessage(), e);
        }
        return fromJson(o, f);
    }

    /** Writes manifest.json atomically: a temp file in the directory, fsync'd, then renamed over the old one. */
    public void write(Path dir) {
        Path f = dir.resolve(FILE);
        try {
            msts.io.AtomicFiles.write(f, toBytes()); // temp + fsync + rename; no litter on failure
        } catch (IOException e) {
            throw new StoreException(e.getMessage(), e);
        }
    }
}
