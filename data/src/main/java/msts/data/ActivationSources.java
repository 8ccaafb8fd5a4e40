package msts.data;

/** Opening activation sources: a store directory, a safetensors file, or arrays in memory. */
public final class ActivationSources {
    private ActivationSources() {}

    /**
     * A store directory (holding manifest.json) or a safetensors file with a tensor {@code activations}
     * [n_seq, ctx, d] — what {@code msts train --store DIR | --activations FILE} accept.
     */
    public static ActivationSource open(java.nio.file.Path path) {
        if (java.nio.file.Files.isDirectory(path)) return ActivationStore.open(path);
        if (java.nio.file.Files.isRegularFile(path)) return ActivationFile.open(path);
        throw new StoreException("no activation store or activations file at " + path);
    }

    /** Sequences held in a heap array [n, ctx, d] (tests, small synthetic data); tokens optional [n, ctx]. */
    public static ActivationSource inMemory(float[] data, int n, int ctx, int d, int[][] tokens) {
        if ((long) n * ctx * d != data.length)
            throw new IllegalArgumentException("data has " + data.length + " floats, [" + n + ", " + ctx + ", " + d + "] needs " + (long) n * ctx * d);
        if (tokens != null && tokens.length != n) throw new IllegalArgumentException("tokens must have " + n + " rows");
        return new ActivationSource() {
            @Override public int numSequences() { return n; }
            @Override public int contextSize() { return ctx; }
            @Override public int dIn() { return d; }

            @Override
            public void readSequence(int s, float[] dst, int dstOff) {
                System.arraycopy(data, s * ctx * d, dst, dstOff, ctx * d);
            }

            @Override
            public void readToken(int s, int pos, float[] dst, int dstOff) {
                System.arraycopy(data, (s * ctx + pos) * d, dst, dstOff, d);
            }

            @Override
            public int[] tokens(int s) { return tokens == null ? null : tokens[s].clone(); }
        };
    }

    public static ActivationSource inMemory(float[] data, int n, int ctx, int d) {
        return inMemory(data, n, ctx, d, null);
    }
}
