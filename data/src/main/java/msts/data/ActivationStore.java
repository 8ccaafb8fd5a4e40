package msts.data;

import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An activation store directory opened for reading: the complete shards listed in manifest.json, each
 * memory-mapped (nothing is copied until a sequence or token is read). Files not listed — temp files, a
 * shard a killed run was writing — are never opened. A store still being harvested can be read: it shows
 * the shards complete when it was opened.
 */
public final class ActivationStore implements ActivationSource {
    private final Path dir;
    private final StoreManifest manifest;
    private final SafeTensors[] files;
    private final Tensor[] acts;
    private final TokenIds[] toks;
    private final long[] first;
    private final int n, ctx, d;

    private ActivationStore(Path dir, StoreManifest m) {
        this.dir = dir;
        this.manifest = m;
        int k = m.shards().size();
        files = new SafeTensors[k];
        acts = new Tensor[k];
        toks = new TokenIds[k];
        first = new long[k];
        ctx = m.contextSize();
        d = m.dIn();
        try {
            for (int i = 0; i < k; i++) {
                StoreManifest.Shard s = m.shards().get(i);
                Path f = dir.resolve(s.file());
                if (!Files.isRegularFile(f))
                    throw new StoreException(dir + ": the manifest lists " + s.file() + " but the file is missing");
                files[i] = SafeTensors.open(f);
                acts[i] = checked(files[i], f, "activations", s.numSequences(), ctx, d);
                toks[i] = files[i].has("tokens") ? TokenIds.of(files[i], f, s.numSequences(), ctx) : null;
                first[i] = s.firstSequence();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        long total = m.numSequences();
        if (total > Integer.MAX_VALUE) throw new StoreException(dir + ": too many sequences (" + total + ")");
        n = (int) total;
    }

    static Tensor checked(SafeTensors st, Path f, String name, long... shape) {
        if (!st.has(name)) throw new StoreException(f + ": no tensor '" + name + "' (tensors: " + st.names() + ")");
        Tensor t = st.tensor(name);
        if (!Arrays.equals(t.shape(), shape))
            throw new StoreException(f + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        return t;
    }

    public static ActivationStore open(Path dir) {
        return new ActivationStore(dir, StoreManifest.read(dir));
    }

    public Path directory() { return dir; }
    public StoreManifest manifest() { return manifest; }
    public boolean isComplete() { return manifest.complete(); }
    public DType dtype() { return manifest.dtype(); }

    @Override public int numSequences() { return n; }
    @Override public int contextSize() { return ctx; }
    @Override public int dIn() { return d; }

    private int shardOf(int s) {
        if (s < 0 || s >= n) throw new IndexOutOfBoundsException("sequence " + s + " of " + n);
        int i = Arrays.binarySearch(first, s);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public void readSequence(int s, float[] dst, int dstOff) {
        int k = shardOf(s);
        copy(acts[k], (s - first[k]) * ctx * d, ctx * d, dst, dstOff);
    }

    @Override
    public void readToken(int s, int pos, float[] dst, int dstOff) {
        int k = shardOf(s);
        if (pos < 0 || pos >= ctx) throw new IndexOutOfBoundsException("position " + pos + " of " + ctx);
        copy(acts[k], ((s - first[k]) * ctx + pos) * d, d, dst, dstOff);
    }

    @Override
    public int[] tokens(int s) {
        int k = shardOf(s);
        return toks[k] == null ? null : toks[k].row(s - first[k]);
    }

    /** A shard's token ids [n, ctx]: I32 (written since the I32 change), I64, or F32 (older stores). */
    record TokenIds(Tensor f32, java.lang.foreign.MemorySegment ints, int intBytes, int ctx) {
        static TokenIds of(SafeTensors st, Path f, long n, int ctx) {
            SafeTensors.Entry e = st.entry("tokens");
            if (!Arrays.equals(e.shape(), new long[]{n, ctx}))
                throw new StoreException(f + ": tensor 'tokens' has shape " + Arrays.toString(e.shape())
                        + ", expected " + Arrays.toString(new long[]{n, ctx}));
            return switch (e.dtype()) {
                case "F32" -> new TokenIds(st.tensor("tokens"), null, 0, ctx);
                case "I32" -> new TokenIds(null, st.bytes("tokens"), 4, ctx);
                case "I64" -> new TokenIds(null, st.bytes("tokens"), 8, ctx);
                default -> throw new StoreException(f + ": tensor 'tokens' has dtype " + e.dtype() + "; token ids must be I32, I64 or F32");
            };
        }

        int[] row(long s) {
            if (f32 != null) return readTokens(f32, s, ctx);
            int[] out = new int[ctx];
            long base = s * ctx;
            for (int p = 0; p < ctx; p++)
                out[p] = intBytes == 4 ? ints.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, base + p)
                        : Math.toIntExact(ints.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, base + p));
            return out;
        }
    }

    static int[] readTokens(Tensor t, long row, int ctx) {
        int[] out = new int[ctx];
        for (int p = 0; p < ctx; p++) out[p] = (int) t.get(row * ctx + p);
        return out;
    }

    /** Copies len elements from flat index off of t, widened to F32, into dst at dstOff. */
    static void copy(Tensor t, long off, int len, float[] dst, int dstOff) {
        MemorySegment seg = t.segment();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(seg, Tensor.F32, off * 4, dst, dstOff, len);
            case BF16 -> {
                for (int i = 0; i < len; i++) dst[dstOff + i] = DType.bf16ToF32(seg.getAtIndex(Tensor.I16, off + i));
            }
            case F16 -> {
                for (int i = 0; i < len; i++) dst[dstOff + i] = DType.f16ToF32(seg.getAtIndex(Tensor.I16, off + i));
            }
        }
    }

    @Override
    public void close() {
        for (SafeTensors f : files) if (f != null) f.close();
    }

    @Override
    public String toString() {
        return "ActivationStore(" + dir + ", " + n + " × " + ctx + " × " + d + " " + manifest.dtype()
                + (manifest.complete() ? "" : ", incomplete") + ")";
    }
}
