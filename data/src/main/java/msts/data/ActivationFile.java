package msts.data;

import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Activations made elsewhere: one safetensors file with a tensor {@code activations} [n_seq, ctx, d]
 * (F32, BF16 or F16), memory-mapped, and optionally {@code tokens} [n_seq, ctx] (token ids as F32, I32 or I64).
 */
public final class ActivationFile implements ActivationSource {
    private final Path file;
    private final SafeTensors st;
    private final Tensor acts;
    private final Tensor toks;          // F32 token ids, or
    private final MemorySegment intToks; // I32 / I64 token ids mapped from the file
    private final int intBytes;
    private final Arena arena = Arena.ofShared();
    private final int n, ctx, d;

    private ActivationFile(Path file) {
        if (!Files.isRegularFile(file)) throw new StoreException("activations file not found: " + file);
        this.file = file;
        this.st = SafeTensors.open(file);
        try {
            if (!st.has("activations"))
                throw new StoreException(file + ": no tensor 'activations' [n_seq, ctx, d] (tensors: " + st.names() + ")");
            acts = st.tensor("activations");
            if (acts.rank() != 3)
                throw new StoreException(file + ": tensor 'activations' has shape " + Arrays.toString(acts.shape())
                        + "; expected [n_seq, ctx, d]");
            if (acts.dim(0) > Integer.MAX_VALUE || acts.dim(1) * acts.dim(2) > Integer.MAX_VALUE - 8)
                throw new StoreException(file + ": tensor 'activations' is too large " + Arrays.toString(acts.shape()));
            n = (int) acts.dim(0);
            ctx = (int) acts.dim(1);
            d = (int) acts.dim(2);
            if (!st.has("tokens")) {
                toks = null;
                intToks = null;
                intBytes = 0;
            } else {
                SafeTensors.Entry e = st.entry("tokens");
                if (!Arrays.equals(e.shape(), new long[] {n, ctx}))
                    throw new StoreException(file + ": tensor 'tokens' has shape " + Arrays.toString(e.shape())
                            + ", expected " + Arrays.toString(new long[] {n, ctx}));
                switch (e.dtype()) {
                    case "F32" -> { toks = st.tensor("tokens"); intToks = null; intBytes = 0; }
                    case "I32", "I64" -> {
                        toks = null;
                        intBytes = e.dtype().equals("I32") ? 4 : 8;
                        intToks = mapData(file, e.begin(), e.byteLength(), arena);
                    }
                    default -> throw new StoreException(file + ": tensor 'tokens' has dtype " + e.dtype()
                            + "; token ids must be F32, I32 or I64");
                }
            }
        } catch (RuntimeException e) {
            st.close();
            arena.close();
            throw e;
        }
    }

    /** Maps [begin, begin+len) of the data section of a safetensors file (after the 8-byte length and header). */
    private static MemorySegment mapData(Path file, long begin, long len, Arena arena) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) >= 0) { }
            long header = b.flip().getLong();
            return ch.map(FileChannel.MapMode.READ_ONLY, 8 + header + begin, len, arena);
        } catch (IOException e) {
            throw new StoreException(file + ": cannot map tensor 'tokens': " + e.getMessage(), e);
        }
    }

    public static ActivationFile open(Path safetensorsFile) {
        return new ActivationFile(safetensorsFile);
    }

    public Path file() { return file; }

    @Override public int numSequences() { return n; }
    @Override public int contextSize() { return ctx; }
    @Override public int dIn() { return d; }

    @Override
    public void readSequence(int s, float[] dst, int dstOff) {
        if (s < 0 || s >= n) throw new IndexOutOfBoundsException("sequence " + s + " of " + n);
        ActivationStore.copy(acts, (long) s * ctx * d, ctx * d, dst, dstOff);
    }

    @Override
    public void readToken(int s, int pos, float[] dst, int dstOff) {
        if (s < 0 || s >= n || pos < 0 || pos >= ctx) throw new IndexOutOfBoundsException("(" + s + ", " + pos + ")");
        ActivationStore.copy(acts, ((long) s * ctx + pos) * d, d, dst, dstOff);
    }

    @Override
    public int[] tokens(int s) {
        if (toks != null) return ActivationStore.readTokens(toks, s, ctx);
        if (intToks == null) return null;
        int[] out = new int[ctx];
        long base = (long) s * ctx;
        for (int p = 0; p < ctx; p++)
            out[p] = intBytes == 4 ? intToks.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, base + p)
                    : Math.toIntExact(intToks.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, base + p));
        return out;
    }

    @Override
    public void close() {
        st.close();
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "ActivationFile(" + file + ", " + n + " × " + ctx + " × " + d + " " + acts.dtype() + ")";
    }
}
