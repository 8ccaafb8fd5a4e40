package msts.sae;

import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Whole-file F32 reads and writes of small safetensors files (SAE weights, optimiser state) via {@link SafeTensors}. */
public final class SaeTensors {
    private SaeTensors() {}

    /** Writes tensors atomically (temp file + rename). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, tensors, metadata);
    }

    /** A tensor read from a file: F32 values and shape. */
    public record Entry(float[] data, long[] shape) {}

    /** Reads every F32/BF16/F16 tensor of a file into F32 arrays (other dtypes are skipped). */
    public static Map<String, Entry> read(Path file) throws IOException {
        Map<String, Entry> out = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) {
                if (DType.fromSafetensors(st.entry(name).dtype()) == null) continue;
                Tensor t = st.tensor(name);
                out.put(name, new Entry(t.toFloatArray(), t.shape()));
            }
        }
        return out;
    }
}
