package msts.model.store;

import msts.engine.Tensor;
import msts.model.io.SafeTensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Activations made elsewhere: one safetensors file with a tensor {@code activations} [n_seq, ctx, d]
 * (F32, BF16 or F16), memory-mapped, and optionally {@code tokens} [n_seq, ctx] (F32 token ids).
 */
public final class ActivationFile implements ActivationSource {
    private final Path file;
    private final SafeTensors st;
    private final Tensor acts;
    private final Tensor toks;
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
            toks = st.has("tokens") ? ActivationStore.checked(st, file, "tokens", n, ctx) : null;
        } catch (RuntimeException e) {
            st.close();
            throw e;
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
        return toks == null ? null : ActivationStore.readTokens(toks, s, ctx);
    }

    @Override
    public void close() { st.close(); }

    @Override
    public String toString() {
        return "ActivationFile(" + file + ", " + n + " × " + ctx + " × " + d + " " + acts.dtype() + ")";
    }
}
