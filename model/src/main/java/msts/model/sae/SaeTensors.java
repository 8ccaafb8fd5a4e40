package msts.model.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.DType;
import msts.engine.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small safetensors reader/writer the SAE code needs (F32 write; F32/BF16/F16 read, widened to F32
 * arrays). A stand-in behind one helper until {@code msts.model.io.SafeTensors} is on main; same format
 * rules (8-byte LE header length, JSON header, row-major data, atomic write via temp file + rename).
 */
public final class SaeTensors {
    private SaeTensors() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes F32 tensors (in map order) atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", metadata);
        long off = 0;
        for (var en : tensors.entrySet()) {
            Tensor t = en.getValue();
            if (t.dtype() != DType.F32) throw new IllegalArgumentException("only F32 is written: " + en.getKey());
            long bytes = t.byteSize();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", "F32");
            e.put("shape", t.shape());
            e.put("data_offsets", List.of(off, off + bytes));
            header.put(en.getKey(), e);
            off += bytes;
        }
        byte[] h = JSON.writeValueAsBytes(header);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        for (int i = h.length; i < hp.length; i++) hp[i] = ' ';
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp); FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length);
                out.write(len.array());
                out.write(hp);
                byte[] buf = new byte[1 << 20];
                for (Tensor t : tensors.values()) {
                    MemorySegment seg = t.segment();
                    long n = seg.byteSize();
                    for (long p = 0; p < n; p += buf.length) {
                        int len2 = (int) Math.min(buf.length, n - p);
                        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, p, buf, 0, len2);
                        // F32 little-endian on disk; heap float segments are native (LE on x86/ARM)
                        out.write(buf, 0, len2);
                    }
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A tensor read from a file: F32 values and shape. */
    public record Entry(float[] data, long[] shape) {}

    /** Reads every F32/BF16/F16 tensor of a file into F32 arrays (other dtypes are skipped). */
    @SuppressWarnings("unchecked")
    public static Map<String, Entry> read(Path file) throws IOException {
        Map<String, Entry> out = new LinkedHashMap<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (too short)");
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n <= 0 || n > 100_000_000 || 8 + n > size) throw new IOException(file + ": bad safetensors header length " + n);
            byte[] hb = seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            Map<String, Object> header = JSON.readValue(new String(hb, StandardCharsets.UTF_8), Map.class);
            long base = 8 + n;
            for (var en : header.entrySet()) {
                if (en.getKey().equals("__metadata__")) continue;
                Map<String, Object> e = (Map<String, Object>) en.getValue();
                DType dt = DType.fromSafetensors(String.valueOf(e.get("dtype")));
                if (dt == null) continue;
                List<Number> shape = (List<Number>) e.get("shape");
                List<Number> offs = (List<Number>) e.get("data_offsets");
                long[] sh = shape.stream().mapToLong(Number::longValue).toArray();
                long b = offs.get(0).longValue(), end = offs.get(1).longValue();
                if (base + end > size) throw new IOException(file + ": tensor " + en.getKey() + " extends past the end of the file");
                Tensor t = Tensor.wrap(seg.asSlice(base + b, end - b), dt, sh);
                out.put(en.getKey(), new Entry(t.toFloatArray(), sh));
            }
        }
        return out;
    }
}
