package msts.evals;

/**
 * A 2-layer fake LM matching src/test/python/core_reference.py: resid_post(0) = E[tok];
 * resid_post(1)_t = h_t + 0.5·h_{t−1} (h = the possibly hooked layer-0 output); logits = resid_post(1)·Uᵀ.
 */
final class FakeModel implements LanguageModel {
    final int V, d;
    final float[] E, U;

    FakeModel(int V, int d, float[] E, float[] U) {
        this.V = V;
        this.d = d;
        this.E = E;
        this.U = U;
    }

    static FakeModel random(int V, int d, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] E = new float[V * d], U = new float[V * d];
        for (int i = 0; i < E.length; i++) { E[i] = (float) r.nextGaussian(); U[i] = (float) r.nextGaussian(); }
        return new FakeModel(V, d, E, U);
    }

    @Override public int vocabSize() { return V; }
    @Override public int hiddenSize() { return d; }
    @Override public int numLayers() { return 2; }

    float[] layer0(int[] tok) {
        float[] h = new float[tok.length * d];
        for (int t = 0; t < tok.length; t++) System.arraycopy(E, tok[t] * d, h, t * d, d);
        return h;
    }

    float[] forward(int s, int[] tok, ResidHook hook) {
        int T = tok.length;
        float[] h = layer0(tok);
        if (hook != null) hook.apply(0, s, h, T);
        float[] h1 = h.clone();
        for (int t = 1; t < T; t++) for (int i = 0; i < d; i++) h1[t * d + i] += 0.5f * h[(t - 1) * d + i];
        if (hook != null) hook.apply(1, s, h1, T);
        float[] logits = new float[T * V];
        for (int t = 0; t < T; t++)
            for (int v = 0; v < V; v++) {
                float z = 0;
                for (int i = 0; i < d; i++) z += h1[t * d + i] * U[v * d + i];
                logits[t * V + v] = z;
            }
        return logits;
    }

    @Override
    public float[][] logits(int[][] batch, ResidHook hook) {
        float[][] out = new float[batch.length][];
        for (int s = 0; s < batch.length; s++) out[s] = forward(s, batch[s], hook);
        return out;
    }

    @Override
    public float[][] lastLogits(int[][] batch, ResidHook hook) {
        float[][] all = logits(batch, hook);
        float[][] out = new float[batch.length][];
        for (int s = 0; s < batch.length; s++) {
            int T = batch[s].length;
            out[s] = java.util.Arrays.copyOfRange(all[s], (T - 1) * V, T * V);
        }
        return out;
    }

    @Override
    public float[][] residAt(int layer, int[][] batch) {
        float[][] out = new float[batch.length][];
        for (int s = 0; s < batch.length; s++) {
            float[] h = layer0(batch[s]);
            if (layer == 1) {
                float[] h1 = h.clone();
                for (int t = 1; t < batch[s].length; t++) for (int i = 0; i < d; i++) h1[t * d + i] += 0.5f * h[(t - 1) * d + i];
                h = h1;
            }
            out[s] = h;
        }
        return out;
    }
}
