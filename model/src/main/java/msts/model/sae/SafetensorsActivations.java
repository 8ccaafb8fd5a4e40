package msts.model.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.DType;
import msts.engine.Tensor;
import msts.model.store.ActivationSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file with a tensor {@code activations} [n_seq, ctx, d] (F32, BF16 or F16), memory-mapped
 * (not copied) and read one sequence at a time, widened to F32. A stand-in for the store's
 * ActivationFile until it is on main.
 */
public final class SafetensorsActivations implements ActivationSource {
    private final Arena arena = Arena.ofShared();
    private final Tensor t;
    private final int nSeq, ctx, d;

    @SuppressWarnings("unchecked")
    public SafetensorsActivations(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (too short)");
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n <= 0 || n > 100_000_000 || 8 + n > size) throw new IOException(file + ": bad safetensors header length " + n);
            Map<String, Object> header = new ObjectMapper().readValue(
                    new String(seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8), Map.class);
            Object e0 = header.get("activations");
            if (!(e0 instanceof Map)) throw new IOException(file + ": no tensor 'activations' (expected [n_seq, ctx, d])");
            Map<String, Object> e = (Map<String, Object>) e0;
            DType dt = DType.fromSafetensors(String.valueOf(e.get("dtype")));
            if (dt == null) throw new IOException(file + ": tensor activations has dtype " + e.get("dtype") + " (need F32, BF16 or F16)");
            long[] sh = ((List<Number>) e.get("shape")).stream().mapToLong(Number::longValue).toArray();
            if (sh.length != 3) throw new IOException(file + ": tensor activations has rank " + sh.length + ", expected [n_seq, ctx, d]");
            List<Number> offs = (List<Number>) e.get("data_offsets");
            long b = offs.get(0).longValue(), end = offs.get(1).longValue();
            if (8 + n + end > size) throw new IOException(file + ": tensor activations extends past the end of the file");
            t = Tensor.wrap(seg.asSlice(8 + n + b, end - b), dt, sh);
            nSeq = Math.toIntExact(sh[0]);
            ctx = Math.toIntExact(sh[1]);
            d = Math.toIntExact(sh[2]);
        } catch (IOException | RuntimeException ex) {
            arena.close();
            throw ex;
        }
    }

    @Override public int numSequences() { return nSeq; }

    @Override public int contextSize() { return ctx; }

    @Override public int dIn() { return d; }

    @Override
    public void readSequence(int s, float[] dst, int dstOff) {
        long base = (long) s * ctx * d;
        int len = ctx * d;
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(t.segment(), Tensor.F32, base * 4, dst, dstOff, len);
        } else {
            for (int i = 0; i < len; i++) dst[dstOff + i] = t.get(base + i);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
