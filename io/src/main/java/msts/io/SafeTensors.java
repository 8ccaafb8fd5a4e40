package msts.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.engine.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reader and writer of the safetensors format (docs/safetensors.md): an 8-byte little-endian header
 * length N, N bytes of JSON, then the tensor data. Files are memory-mapped (FFM, shared arena): tensors
 * are views of the mapping, never copied onto the heap. One file, or a sharded checkpoint described by
 * {@code model.safetensors.index.json}. Every inconsistency is a {@link SafeTensorsException} naming the
 * file and the tensor, raised at open time (before any tensor is read).
 */
public final class SafeTensors implements AutoCloseable {
    /** The reference implementation's cap on the header length. */
    public static final long MAX_HEADER = 100_000_000L;
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Element sizes of every safetensors dtype (recognized for validation; F32/BF16/F16 are readable). */
    static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1),
            Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E8M0", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    /** One tensor's header entry. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end, Shard shard) {
        public long byteLength() { return end - begin; }
    }

    /** One mapped file. */
    public static final class Shard {
        final Path file;
        final long fileSize;
        final long dataStart;
        final MemorySegment mapping;
        final Map<String, Entry> entries = new LinkedHashMap<>();
        final Map<String, String> metadata = new LinkedHashMap<>();

        Shard(Path file, long fileSize, long dataStart, MemorySegment mapping) {
            this.file = file;
            this.fileSize = fileSize;
            this.dataStart = dataStart;
            this.mapping = mapping;
        }

        public Path file() { return file; }
    }

    private final Arena arena;
    private final List<Shard> shards;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final Path source;

    private SafeTensors(Path source, Arena arena, List<Shard> shards, Map<String, Entry> entries,
                        Map<String, String> metadata) {
        this.source = source;
        this.arena = arena;
        this.shards = shards;
        this.entries = entries;
        this.metadata = metadata;
    }

    // ---- open ------------------------------------------------------------------------------------

    /**
     * Opens a .safetensors file, a {@code model.safetensors.index.json}, or a directory holding either
     * (the index wins when both exist).
     */
    public static SafeTensors open(Path fileOrDir) {
        Path p = fileOrDir;
        if (Files.isDirectory(p)) {
            Path index = p.resolve(INDEX_FILE), single = p.resolve(SINGLE_FILE);
            if (Files.isRegularFile(index)) p = index;
            else if (Files.isRegularFile(single)) p = single;
            else throw SafeTensorsException.of(fileOrDir, null,
                        "no " + SINGLE_FILE + " or " + INDEX_FILE + " in this directory");
        } else if (!Files.exists(p)) {
            throw SafeTensorsException.of(p, null, "no such file or directory");
        }
        Arena arena = Arena.ofShared();
        try {
            if (p.getFileName().toString().endsWith(".index.json")) return openIndex(p, arena);
            Shard s = mapFile(p, arena);
            return new SafeTensors(p, arena, List.of(s), new LinkedHashMap<>(s.entries), s.metadata);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafeTensors openIndex(Path index, Arena arena) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw SafeTensorsException.of(index, null, "cannot read the shard index: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject())
            throw SafeTensorsException.of(index, null, "shard index has no \"weight_map\" object");
        Map<String, Shard> byFile = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        Path dir = index.toAbsolutePath().getParent();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            if (!e.getValue().isTextual())
                throw SafeTensorsException.of(index, name, "weight_map value is not a file name");
            String fname = e.getValue().asText();
            Path shardPath = dir.resolve(fname).normalize();
            if (!shardPath.startsWith(dir))
                throw SafeTensorsException.of(index, name, "shard file '" + fname + "' lies outside the checkpoint directory");
            Shard shard = byFile.get(fname);
            if (shard == null) {
                if (!Files.isRegularFile(shardPath))
                    throw SafeTensorsException.of(index, name, "shard file '" + fname + "' is missing");
                shard = mapFile(shardPath, arena);
                byFile.put(fname, shard);
            }
            Entry en = shard.entries.get(name);
            if (en == null)
                throw SafeTensorsException.of(shardPath, name, "listed in " + index.getFileName()
                        + " but not present in this shard" + near(name, shard.entries.keySet()));
            entries.put(name, en);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Shard s : byFile.values()) meta.putAll(s.metadata);
        JsonNode m = root.path("metadata");
        if (m.isObject())
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                meta.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
            }
        return new SafeTensors(index, arena, new ArrayList<>(byFile.values()), entries, meta);
    }

    /** Maps one file and validates its header and layout completely. */
    static Shard mapFile(Path file, Arena arena) {
        long size;
        byte[] header;
        long n;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8)
                throw SafeTensorsException.of(file, null, "truncated: " + size + " bytes, less than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER)
                throw SafeTensorsException.of(file, null, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER + " bytes (corrupt or not a safetensors file)");
            if (8 + n > size)
                throw SafeTensorsException.of(file, null, "truncated: header length " + n
                        + " reaches beyond the end of the file (" + size + " bytes)");
            header = new byte[(int) n];
            readFully(ch, ByteBuffer.wrap(header), 8);
            Shard shard = new Shard(file, size, 8 + n, null);
            Map<String, Entry> parsed = parseHeader(file, header, size - 8 - n, shard);
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            remember(file, size);
            Shard mapped = new Shard(file, size, 8 + n, mapping);
            for (Entry e : parsed.values())
                mapped.entries.put(e.name(), new Entry(e.name(), e.dtype(), e.shape(), e.begin(), e.end(), mapped));
            mapped.metadata.putAll(shard.metadata);
            return mapped;
        } catch (NoSuchFileException e) {
            throw SafeTensorsException.of(file, null, "no such file", e);
        } catch (IOException e) {
            throw SafeTensorsException.of(file, null, "cannot read: " + e, e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new IOException("unexpected end of file");
            pos += r;
        }
    }

    private static Map<String, Entry> parseHeader(Path file, byte[] header, long dataLen, Shard shard) {
        if (header.length == 0 || header[0] != '{')
            throw SafeTensorsException.of(file, null, "header does not start with '{' (not a safetensors file?)");
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw SafeTensorsException.of(file, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw SafeTensorsException.of(file, null, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject())
            throw SafeTensorsException.of(file, null, "header is not a JSON object");
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw SafeTensorsException.of(file, null, "__metadata__ is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> me = m.next();
                    if (!me.getValue().isTextual())
                        throw SafeTensorsException.of(file, null, "__metadata__ value of '" + me.getKey() + "' is not a string");
                    shard.metadata.put(me.getKey(), me.getValue().asText());
                }
                continue;
            }
            if (!v.isObject()) throw SafeTensorsException.of(file, name, "header entry is not an object");
            JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
            if (dt == null || !dt.isTextual()) throw SafeTensorsException.of(file, name, "missing or non-string \"dtype\"");
            String dtype = dt.asText();
            Integer esize = DTYPE_BYTES.get(dtype);
            if (esize == null)
                throw SafeTensorsException.of(file, name, "unknown dtype '" + dtype + "' (known: "
                        + new TreeMap<>(DTYPE_BYTES).keySet() + ")");
            if (sh == null || !sh.isArray()) throw SafeTensorsException.of(file, name, "missing \"shape\" array");
            long[] shape = new long[sh.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0)
                    throw SafeTensorsException.of(file, name, "shape " + sh + " has an invalid dimension");
                shape[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException e) {
                    throw SafeTensorsException.of(file, name, "shape " + sh + " overflows");
                }
            }
            if (off == null || !off.isArray() || off.size() != 2)
                throw SafeTensorsException.of(file, name, "missing \"data_offsets\" [begin, end]");
            for (JsonNode o : off)
                if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0)
                    throw SafeTensorsException.of(file, name, "data_offsets " + off + " are not non-negative integers");
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin > end)
                throw SafeTensorsException.of(file, name, "data_offsets " + off + ": begin > end");
            if (end > dataLen)
                throw SafeTensorsException.of(file, name, "data_offsets " + off + " out of range: the data section has "
                        + dataLen + " bytes (file truncated?)");
            long need;
            try {
                need = Math.multiplyExact(numel, (long) esize);
            } catch (ArithmeticException e) {
                throw SafeTensorsException.of(file, name, "shape " + sh + " overflows");
            }
            if (need != end - begin)
                throw SafeTensorsException.of(file, name, "shape " + Arrays.toString(shape) + " × " + dtype + " needs "
                        + need + " bytes but data_offsets " + off + " span " + (end - begin));
            entries.put(name, new Entry(name, dtype, shape, begin, end, shard));
        }
        // Layout: sorted by offset, the entries must tile [0, dataLen) exactly.
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        String prev = null;
        for (Entry e : sorted) {
            if (e.begin() < pos)
                throw SafeTensorsException.of(file, e.name(), "data [" + e.begin() + ", " + e.end()
                        + ") overlaps tensor '" + prev + "' (which ends at " + pos + ")");
            if (e.begin() > pos)
                throw SafeTensorsException.of(file, e.name(), "hole in the data: bytes [" + pos + ", " + e.begin()
                        + ") belong to no tensor");
            pos = e.end();
            prev = e.name();
        }
        if (pos != dataLen)
            throw SafeTensorsException.of(file, null, "the tensors cover " + pos + " bytes of data but the file holds "
                    + dataLen + " after the header (trailing bytes or a hole at the end)");
        return entries;
    }

    // ---- access ----------------------------------------------------------------------------------

    public Set<String> names() { return Collections.unmodifiableSet(entries.keySet()); }

    public boolean has(String name) { return entries.containsKey(name); }

    /** Header entry (dtype string, shape, offsets) of a tensor of any dtype. */
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw SafeTensorsException.of(source, name, "no such tensor" + near(name, entries.keySet()));
        return e;
    }

    /** The tensor as a view of the mapping (no copy). F32, BF16 and F16 only. */
    public Tensor tensor(String name) {
        Entry e = entry(name);
        DType dt = DType.fromSafetensors(e.dtype());
        if (dt == null)
            throw SafeTensorsException.of(e.shard().file, name, "dtype " + e.dtype()
                    + " is not supported for computation (msts reads F32, BF16 and F16)");
        MemorySegment seg = e.shard().mapping.asSlice(e.shard().dataStart + e.begin(), e.byteLength());
        return Tensor.wrap(seg, dt, e.shape());
    }

    /** The tensor's bytes as a view of the mapping (no copy), any dtype (e.g. I32 token ids). */
    public MemorySegment bytes(String name) {
        Entry e = entry(name);
        return e.shard().mapping.asSlice(e.shard().dataStart + e.begin(), e.byteLength());
    }

    /** The tensor, checked to have the expected shape. */
    public Tensor tensor(String name, long... expectedShape) {
        Tensor t = tensor(name);
        if (!Arrays.equals(t.shape(), expectedShape))
            throw SafeTensorsException.of(entry(name).shard().file, name, "shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expectedShape));
        return t;
    }

    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    /** Total bytes of all mapped files. */
    public long mappedBytes() {
        long s = 0;
        for (Shard sh : shards) s += sh.fileSize;
        return s;
    }

    /** The files mapped (one, or every shard). */
    public List<Path> files() {
        List<Path> l = new ArrayList<>();
        for (Shard s : shards) l.add(s.file);
        return l;
    }

    public Path source() { return source; }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
        for (Shard sh : shards) forgetIfUnchanged(sh.file);
    }

    /** " (did you mean: a, b, c?)" listing up to 5 names closest to {@code name}, or "". */
    static String near(String name, Set<String> names) {
        if (names.isEmpty()) return " (the file holds no tensors)";
        List<String> all = new ArrayList<>(names);
        all.sort(Comparator.comparingInt((String s) -> distance(name, s)).thenComparing(s -> s));
        List<String> pick = all.subList(0, Math.min(5, all.size()));
        return " (nearest names: " + String.join(", ", pick) + (all.size() > 5 ? ", … of " + all.size() : "") + ")";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }

    // ---- write -----------------------------------------------------------------------------------

    /** A tensor to write as little-endian bytes with its safetensors dtype name (e.g. "I32" for token ids). */
    public record Raw(String dtype, long[] shape, MemorySegment data) {
        public static Raw of(Tensor t) { return new Raw(t.dtype().name(), t.shape(), t.segment()); }
    }

    private static Map<String, Raw> raw(Map<String, Tensor> tensors) {
        Map<String, Raw> raw = new java.util.LinkedHashMap<>();
        tensors.forEach((k, t) -> raw.put(k, Raw.of(t)));
        return raw;
    }

    /**
     * The bytes a safetensors file of {@code tensors} (in map order) and {@code metadata} starts with: the 8-byte
     * little-endian header length, the JSON header, spaces up to an 8-byte boundary. The tensors' bytes follow in
     * map order. {@code file} only names the file in errors.
     */
    public static byte[] header(Path file, Map<String, Raw> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            new java.util.TreeMap<>(metadata).forEach(m::put); // sorted: the same bytes whatever the map type (Map.of iterates in a per-JVM order)
        }
        long offset = 0;
        for (Map.Entry<String, Raw> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__"))
                throw SafeTensorsException.of(file, e.getKey(), "reserved name");
            Raw t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype());
            var shape = n.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            var off = n.putArray("data_offsets");
            off.add(offset);
            offset += t.data().byteSize();
            off.add(offset);
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw SafeTensorsException.of(file, null, "cannot encode header: " + e.getMessage(), e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        Arrays.fill(head, 8 + json.length, head.length, (byte) ' ');
        return head;
    }

    /**
     * Writes the same bytes as {@link #writeRaw(Path, Map, Map)} to a stream (e.g. a Hadoop FileSystem file); the
     * caller makes it atomic (temp name + rename) and closes the stream. {@code file} only names it in errors.
     */
    public static void writeRaw(java.io.OutputStream out, Path file, Map<String, Raw> tensors, Map<String, String> metadata)
            throws IOException {
        out.write(header(file, tensors, metadata));
        byte[] buf = new byte[1 << 20];
        for (Raw t : tensors.values()) {
            long size = t.data().byteSize();
            for (long pos = 0; pos < size; pos += buf.length) {
                int n = (int) Math.min(buf.length, size - pos);
                MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, pos, buf, 0, n);
                out.write(buf, 0, n);
            }
        }
    }

    /** {@link #writeRaw(java.io.OutputStream, Path, Map, Map)} for tensors msts computes in. */
    public static void write(java.io.OutputStream out, Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        writeRaw(out, file, raw(tensors), metadata);
    }

    /**
     * Writes tensors (in map order) and optional string metadata to {@code file} atomically: a temp
     * file in the same directory, then a rename. The header is padded with spaces so the data starts
     * at an 8-byte-aligned offset.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        writeRaw(file, raw(tensors), metadata);
    }

    /** {@link #write} for tensors given as {@link Raw} bytes (dtypes msts does not compute in, e.g. I32). */
    public static void writeRaw(Path file, Map<String, Raw> tensors, Map<String, String> metadata) {
        byte[] head = header(file, tensors, metadata);
        long total = head.length;
        for (Raw t : tensors.values()) total += t.data().byteSize();

        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            if (dir != null) Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            AtomicFiles.readableByAll(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 Arena a = Arena.ofConfined()) {
                // plain channel writes (not a writable map): a full disk is an IOException, not a SIGBUS
                writeFully(ch, ByteBuffer.wrap(head));
                MemorySegment stage = a.allocate(STAGE, 64);
                ByteBuffer buf = stage.asByteBuffer();
                for (Raw t : tensors.values()) {
                    MemorySegment src = t.data();
                    for (long p = 0, n = src.byteSize(); p < n; ) {
                        int len = (int) Math.min(STAGE, n - p);
                        MemorySegment.copy(src, p, stage, 0, len);
                        buf.clear().limit(len);
                        writeFully(ch, buf);
                        p += len;
                    }
                }
                if (ch.size() != total) throw new IOException("wrote " + ch.size() + " bytes, expected " + total);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            String why = AtomicFiles.reason(e);
            throw SafeTensorsException.of(file, null, "cannot write: " + why + "; the previous file, if any, is unchanged", e);
        } finally {
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    private static final int STAGE = 1 << 20;

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    // ---- diagnostics: files mapped for reading, to name the one that changed under a mapped read ----

    private static final java.util.concurrent.ConcurrentHashMap<Path, long[]> MAPPED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * When set (the {@code ./msts} launcher sets it), the file each mapped input is also listed in, one
     * "size TAB path" line per mapping: a JVM killed by a fault in compiled code reading a truncated mapping
     * cannot report anything itself, so the launcher compares these sizes with the files' sizes afterwards and
     * names the file that shrank.
     */
    public static final String MAPPED_LOG_ENV = "MSTS_MAPPED_LOG";

    private static void remember(Path file, long size) {
        try {
            Path abs = file.toAbsolutePath();
            if (MAPPED.put(abs, new long[]{size, Files.getLastModifiedTime(file).toMillis()}) == null) logMapping(abs, size);
        } catch (IOException ignored) {
            // diagnostics only
        }
    }

    private static synchronized void logMapping(Path abs, long size) {
        String log = System.getenv(MAPPED_LOG_ENV);
        if (log == null || log.isEmpty() || abs.toString().indexOf('\n') >= 0) return;
        try {
            Files.writeString(Path.of(log), size + "\t" + abs + "\n", java.nio.charset.StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException ignored) {
            // diagnostics only
        }
    }

    /** Drops a closed file from the diagnostics unless it changed while mapped (then it is still the one to name). */
    private static void forgetIfUnchanged(Path file) {
        Path f = file.toAbsolutePath();
        long[] sm = MAPPED.get(f);
        if (sm == null) return;
        try {
            if (Files.size(f) == sm[0] && Files.getLastModifiedTime(f).toMillis() == sm[1]) MAPPED.remove(f, sm);
        } catch (IOException e) {
            // removed: keep it, it changed
        }
    }

    /**
     * The mapped files (of SafeTensors opened in this process) that have since been truncated, rewritten or
     * removed, each with what changed — for the error message after a fault in a mapped read.
     */
    public static List<String> changedMappedFiles() {
        List<String> out = new ArrayList<>();
        MAPPED.forEach((f, sm) -> {
            try {
                long size = Files.size(f), mt = Files.getLastModifiedTime(f).toMillis();
                if (size < sm[0]) out.add(f + " shrank from " + sm[0] + " to " + size + " bytes");
                else if (size != sm[0] || mt != sm[1]) out.add(f + " was rewritten");
            } catch (IOException e) {
                out.add(f + " was removed");
            }
        });
        out.sort(null);
        return out;
    }

    /** Shorthand for writing without metadata. */
    public static void write(Path file, Map<String, Tensor> tensors) { write(file, tensors, Map.of()); }

    static { assert ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN : "safetensors data is little-endian"; }
}
