package msts.data;

import com.fasterxml.jackson.databind.JsonNode;
import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes an activation store directory shard by shard, resumably. Each shard is written to a temp file and
 * renamed into place ({@link SafeTensors#write}); only then is it added to manifest.json, itself rewritten
 * atomically. Opening an existing store with the same arguments continues after its last complete shard:
 * temp files and shard files not listed in the manifest (a killed run's leftovers) are deleted and redone.
 * Opening it with other arguments is an error naming the differences.
 */
public final class ActivationStoreWriter implements AutoCloseable {
    /** Lock file held (OS file lock) while a writer is open: one harvest per store at a time. */
    public static final String LOCK_FILE = ".lock";
    /** Argument holding the corpus files' sizes in bytes (recorded by the harvester, compared on re-runs). */
    public static final String CORPUS_BYTES = "corpus_bytes";

    /** Keys of {@link StoreManifest#arguments()} that may change between runs of the same store. */
    public static final Set<String> MUTABLE_ARGUMENTS = Set.of("tokens", "batch_seqs", "threads", "out", "backend", "ops");

    private final Path dir;
    private StoreManifest manifest;
    private final boolean resumed;

    private java.nio.channels.FileChannel lockChannel;

    private ActivationStoreWriter(Path dir, StoreManifest m, boolean resumed) {
        this.dir = dir;
        this.manifest = m;
        this.resumed = resumed;
    }

    /**
     * Creates the store described by {@code fresh} (no shards yet) in {@code dir}, or continues the store already
     * there if it was made with the same arguments (its target becomes fresh's).
     */
    public static ActivationStoreWriter openOrCreate(Path dir, StoreManifest fresh) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new StoreException(dir + " exists and is not a directory");
        java.nio.channels.FileChannel lock = lock(dir);
        try {
            ActivationStoreWriter w = open(dir, fresh);
            w.lockChannel = lock;
            return w;
        } catch (RuntimeException e) {
            release(lock);
            if (!Files.isRegularFile(dir.resolve(StoreManifest.FILE))) {
                try { Files.deleteIfExists(dir.resolve(LOCK_FILE)); } catch (IOException ignored) { }
            }
            throw e;
        }
    }

    private static java.nio.channels.FileChannel lock(Path dir) {
        java.nio.channels.FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = java.nio.channels.FileChannel.open(dir.resolve(LOCK_FILE), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE);
            if (ch.tryLock() == null) throw new java.nio.channels.OverlappingFileLockException();
            return ch;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            release(ch);
            throw new StoreException(dir + " is being written by another harvest (" + LOCK_FILE + " is locked)");
        } catch (IOException e) {
            release(ch);
            throw new StoreException(dir + ": cannot lock " + LOCK_FILE + ": " + e.getMessage(), e);
        }
    }

    private static void release(java.nio.channels.FileChannel ch) {
        if (ch != null) try { ch.close(); } catch (IOException ignored) { }
    }

    /** Releases the store's lock (the files stay as they are). */
    @Override
    public void close() {
        release(lockChannel);
        lockChannel = null;
    }

    private static ActivationStoreWriter open(Path dir, StoreManifest fresh) {
        try {
            if (Files.isRegularFile(dir.resolve(StoreManifest.FILE))) {
                StoreManifest old = StoreManifest.read(dir);
                List<String> diff = differences(old, fresh);
                if (!diff.isEmpty())
                    throw new StoreException(dir + " holds activations made with other arguments (" + String.join("; ", diff)
                            + "); use another --out directory, or delete this one to start over");
                cleanUp(dir, old);
                StoreManifest m = old.withTarget(fresh.targetSequences());
                m.write(dir);
                return new ActivationStoreWriter(dir, m, true);
            }
            if (Files.exists(dir)) {
                if (!Files.isDirectory(dir)) throw new StoreException(dir + " exists and is not a directory");
                try (Stream<Path> s = Files.list(dir)) {
                    List<Path> other = s.filter(p -> !isOurs(p.getFileName().toString())).toList();
                    if (!other.isEmpty())
                        throw new StoreException(dir + " is not empty and holds no " + StoreManifest.FILE
                                + " (not an activation store); refusing to write into it");
                }
                cleanUp(dir, fresh);
            }
            Files.createDirectories(dir);
            fresh.write(dir);
            return new ActivationStoreWriter(dir, fresh, false);
        } catch (IOException e) {
            throw new StoreException(dir + ": " + e.getMessage(), e);
        }
    }

    /** A killed writer's leftover: a temp file or a shard file (deleted unless the manifest lists it). */
    public static boolean isLeftover(String name) {
        return (name.startsWith(".") && name.endsWith(".tmp")) || name.matches("shard_\\d+\\.safetensors");
    }

    /** A file a store directory may hold before its manifest exists: the lock or a leftover. */
    public static boolean isOurs(String name) {
        return name.equals(LOCK_FILE) || isLeftover(name);
    }

    /** Deletes temp files and shard files the manifest does not list. */
    private static void cleanUp(Path dir, StoreManifest m) throws IOException {
        Set<String> listed = new HashSet<>();
        for (StoreManifest.Shard s : m.shards()) listed.add(s.file());
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (isLeftover(n) && !listed.contains(n)) Files.deleteIfExists(p);
            }
        }
    }

    /** What differs between the store's manifest {@code a} and a new run's {@code b} (empty: it may continue). */
    public static List<String> differences(StoreManifest a, StoreManifest b) {
        List<String> d = new ArrayList<>();
        cmp(d, "model", a.model(), b.model());
        cmp(d, "hook", a.hookName(), b.hookName());
        cmp(d, "layer", a.layer(), b.layer());
        cmp(d, "d_in", a.dIn(), b.dIn());
        cmp(d, "context", a.contextSize(), b.contextSize());
        cmp(d, "dtype", a.dtype(), b.dtype());
        cmp(d, "sequences per shard", a.sequencesPerShard(), b.sequencesPerShard());
        cmp(d, "tokenizer", a.tokenizer(), b.tokenizer());
        cmp(d, "corpus files", a.corpusFiles(), b.corpusFiles());
        cmp(d, "corpus options", a.corpusOptions(), b.corpusOptions());
        Set<String> keys = new java.util.TreeSet<>();
        a.arguments().fieldNames().forEachRemaining(keys::add);
        b.arguments().fieldNames().forEachRemaining(keys::add);
        for (String k : keys) {
            if (MUTABLE_ARGUMENTS.contains(k)) continue;
            JsonNode x = a.arguments().get(k), y = b.arguments().get(k);
            if (Objects.equals(String.valueOf(x), String.valueOf(y))) continue; // as JSON text: 5 (int) == 5 (long)
            if (k.equals(CORPUS_BYTES)) d.add("the corpus files changed since the store was started (sizes " + x
                    + " bytes in the store, " + y + " now)");
            else d.add("--" + k.replace('_', '-') + ": " + x + " in the store, " + y + " now");
        }
        return d;
    }

    private static void cmp(List<String> d, String what, Object inStore, Object now) {
        if (!Objects.equals(inStore, now)) d.add(what + ": " + inStore + " in the store, " + now + " now");
    }

    public Path directory() { return dir; }
    public StoreManifest manifest() { return manifest; }
    /** True when an existing store was continued. */
    public boolean resumed() { return resumed; }
    public long sequencesDone() { return manifest.numSequences(); }
    public long sequencesRemaining() { return Math.max(0, manifest.targetSequences() - manifest.numSequences()); }
    /** Where the corpus continues for the next shard. */
    public Corpus.Position position() { return manifest.position(); }

    /** A new shard of {@code n} sequences (≤ sequences per shard) to fill and {@link #commit}. */
    public ShardBuilder newShard(int n) { return newShard(manifest, n); }

    /** A shard of {@code n} sequences for the store of manifest {@code m} (a cluster task fills one without a writer). */
    public static ShardBuilder newShard(StoreManifest m, int n) {
        if (n <= 0 || n > m.sequencesPerShard())
            throw new IllegalArgumentException("a shard holds 1.." + m.sequencesPerShard() + " sequences, got " + n);
        return new ShardBuilder(n, m.contextSize(), m.dIn(), m.dtype());
    }

    /** The tensors of a filled shard file, in file order: activations [n, ctx, d], tokens [n, ctx]. */
    public static Map<String, SafeTensors.Raw> shardTensors(ShardBuilder b) {
        if (b.filled != b.n) throw new IllegalStateException("shard has " + b.filled + " of " + b.n + " sequences");
        Map<String, SafeTensors.Raw> t = new LinkedHashMap<>();
        t.put("activations", SafeTensors.Raw.of(b.acts));
        t.put("tokens", new SafeTensors.Raw("I32", new long[]{b.n, b.ctx}, b.tokens));
        return t;
    }

    /** The metadata of the shard starting at sequence {@code first} of the store of manifest {@code m}. */
    public static Map<String, String> shardMetadata(StoreManifest m, long first) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "msts-activation-shard");
        meta.put("hook_name", m.hookName());
        meta.put("first_sequence", Long.toString(first));
        meta.put("model", m.model());
        return meta;
    }

    /** Writes the shard (temp + rename), then lists it in the manifest with the corpus position after it. */
    public void commit(ShardBuilder b, Corpus.Position after) {
        int index = manifest.shards().size();
        String name = StoreManifest.shardName(index);
        long first = manifest.numSequences();
        Map<String, SafeTensors.Raw> t = shardTensors(b);
        Map<String, String> meta = shardMetadata(manifest, first);
        Path file = dir.resolve(name);
        SafeTensors.writeRaw(file, t, meta);
        b.close();
        try { // the writer's temp file is created owner-only (0600); a data store is for every user of the machine
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException ignored) { }
        manifest = manifest.withShard(new StoreManifest.Shard(name, first, b.n), after);
        manifest.write(dir);
    }

    /** Marks the store complete (exhausted: the corpus ended before the target). */
    public void finish(boolean corpusExhausted) {
        manifest = manifest.finished(corpusExhausted);
        manifest.write(dir);
    }

    /**
     * Off-heap buffers of one shard: activations [n, ctx, d] in the store dtype and token ids [n, ctx] as I32
     * (stores written before held them as F32; the readers accept both).
     */
    public static final class ShardBuilder implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        final int n, ctx, d;
        final Tensor acts;
        final MemorySegment tokens;
        int filled;

        ShardBuilder(int n, int ctx, int d, DType dtype) {
            this.n = n;
            this.ctx = ctx;
            this.d = d;
            this.acts = Tensor.allocate(arena, dtype, n, ctx, d);
            this.tokens = arena.allocate((long) n * ctx * 4, 64);
        }

        public int size() { return n; }
        public int filled() { return filled; }
        public boolean full() { return filled == n; }

        /** Appends one sequence: activations [ctx, d] from src at srcOff (rounded to the store dtype), its tokens. */
        public void add(float[] src, int srcOff, int[] tok) {
            if (filled >= n) throw new IllegalStateException("shard is full");
            if (tok.length != ctx) throw new IllegalArgumentException("tokens must have length " + ctx);
            long base = (long) filled * ctx * d;
            MemorySegment seg = acts.segment();
            int len = ctx * d;
            switch (acts.dtype()) {
                case F32 -> MemorySegment.copy(src, srcOff, seg, Tensor.F32, base * 4, len);
                case BF16 -> {
                    for (int i = 0; i < len; i++) seg.setAtIndex(Tensor.I16, base + i, DType.f32ToBf16(src[srcOff + i]));
                }
                case F16 -> {
                    for (int i = 0; i < len; i++) seg.setAtIndex(Tensor.I16, base + i, DType.f32ToF16(src[srcOff + i]));
                }
            }
            for (int p = 0; p < ctx; p++) tokens.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) filled * ctx + p, tok[p]);
            filled++;
        }

        @Override
        public void close() {
            if (arena.scope().isAlive()) arena.close();
        }
    }
}
