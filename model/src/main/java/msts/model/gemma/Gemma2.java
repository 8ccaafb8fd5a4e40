package msts.model.gemma;

import msts.engine.Ops;
import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Gemma-2 forward pass as Hugging Face transformers computes it (formulas: docs/gemma2.md), on
 * memory-mapped weights, through an {@link Ops} implementation (reference, Vector API, TornadoVM).
 *
 * <p>All sequences of a batch are concatenated row-wise for the row-wise ops (matmuls, norms, GeGLU),
 * so the matmuls see every token of the batch at once; RoPE and attention run per sequence (positions
 * restart at 0 in every sequence). Scratch buffers are kept between calls; {@link #forward} is
 * synchronized.
 */
public final class Gemma2 implements AutoCloseable, ForwardEngine {

    /** Which logits to compute: none (activations only), the last position of each sequence, or all. */
    public enum LogitsMode { NONE, LAST, ALL }

    /**
     * Called with the residual stream after each layer (resid_post), per sequence, before it is
     * captured and before the next layer reads it. May modify {@code resid} [T, hidden] in place.
     */
    @FunctionalInterface
    public interface ResidHook { void apply(int layer, int seq, float[] resid, int T); }

    /**
     * @param stopAfterLayer last layer to run (-1 = whole model; logits need the whole model)
     * @param captureLayers  layers whose resid_post to return (after the hook), null/empty = none
     * @param hook           optional resid_post hook
     * @param logits         which logits to compute
     */
    public record Options(int stopAfterLayer, int[] captureLayers, ResidHook hook, LogitsMode logits) {
        public Options {
            if (captureLayers == null) captureLayers = new int[0];
            if (logits == null) logits = LogitsMode.NONE;
        }

        /** Whole model, all logits, no captures. */
        public static Options logitsAll() { return new Options(-1, null, null, LogitsMode.ALL); }

        /** Whole model, last-position logits. */
        public static Options logitsLast() { return new Options(-1, null, null, LogitsMode.LAST); }

        /** Only resid_post of {@code layer}, stopping there. */
        public static Options residAt(int layer) { return new Options(layer, new int[]{layer}, null, LogitsMode.NONE); }

        public Options withHook(ResidHook h) { return new Options(stopAfterLayer, captureLayers, h, logits); }

        public Options withCapture(int... layers) { return new Options(stopAfterLayer, layers, hook, logits); }
    }

    /**
     * @param resid  [i-th captured layer][seq] → resid_post [T·hidden]
     * @param logits [seq] → [T·vocab] (ALL) or [vocab] (LAST), soft-capped; null when NONE
     */
    public record Result(float[][][] resid, float[][] logits) {}

    private final Gemma2Config config;
    private final Gemma2Weights weights;
    private final Ops ops;
    private final SafeTensors source;
    private final float embedScale;

    /** Rows per MLP chunk: bounds the [rows, intermediate] scratch. */
    private static final int MLP_CHUNK = 512;

    // scratch (grown on demand)
    private float[] x, xn, q, k, v, att, tmp, gate, up, chunkIn, chunkOut, qs, ks, vs, os;

    public Gemma2(Gemma2Config config, Gemma2Weights weights, Ops ops, SafeTensors source) {
        this.config = config;
        this.weights = weights;
        this.ops = ops;
        this.source = source;
        // HF: normalizer = torch.tensor(hidden_size**0.5, dtype=hidden_states.dtype)
        this.embedScale = weights.dtype().round((float) Math.sqrt(config.hiddenSize()));
    }

    /** Loads config.json and the (sharded) safetensors of an HF checkpoint directory. */
    public static Gemma2 load(Path modelDir, Ops ops) {
        if (!Files.isDirectory(modelDir))
            throw new IllegalArgumentException(modelDir + ": model directory not found");
        Path cfg = modelDir.resolve("config.json");
        if (!Files.isRegularFile(cfg))
            throw new IllegalArgumentException(modelDir + ": no config.json (expected a Hugging Face checkpoint directory)");
        Gemma2Config c = Gemma2Config.load(cfg);
        SafeTensors st = SafeTensors.open(modelDir);
        try {
            return new Gemma2(c, Gemma2Weights.load(st, c), ops, st);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    @Override
    public Gemma2Config config() { return config; }

    @Override
    public String describe() { return "ops " + ops.name(); }

    public Gemma2Weights weights() { return weights; }

    public Ops ops() { return ops; }

    /** Bytes of the memory-mapped checkpoint files (0 for in-memory weights). */
    public long mappedBytes() { return source == null ? 0 : source.mappedBytes(); }

    public float embedScale() { return embedScale; }

    @Override
    public void close() {
        if (source != null) source.close();
    }

    // ---- forward ---------------------------------------------------------------------------------

    @Override
    public synchronized Result forward(int[][] batch, Options opts) {
        final Gemma2Config c = config;
        final int L = c.numHiddenLayers(), H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), V = c.vocabSize();
        if (batch == null || batch.length == 0) throw new IllegalArgumentException("empty batch");
        int last = opts.stopAfterLayer() < 0 ? L - 1 : opts.stopAfterLayer();
        if (last >= L)
            throw new IllegalArgumentException("stopAfterLayer " + opts.stopAfterLayer() + " but the model has " + L + " layers");
        if (opts.logits() != LogitsMode.NONE && last != L - 1)
            throw new IllegalArgumentException("logits need the whole model; stopAfterLayer=" + opts.stopAfterLayer());
        int[] capIndex = new int[L];
        Arrays.fill(capIndex, -1);
        int[] cap = opts.captureLayers();
        for (int i = 0; i < cap.length; i++) {
            if (cap[i] < 0 || cap[i] > last)
                throw new IllegalArgumentException("capture layer " + cap[i] + " outside 0.." + last);
            capIndex[cap[i]] = i;
        }
        int nSeq = batch.length, N = 0, maxT = 0;
        int[] off = new int[nSeq + 1];
        for (int s = 0; s < nSeq; s++) {
            int[] t = batch[s];
            if (t == null || t.length == 0) throw new IllegalArgumentException("sequence " + s + " is empty");
            for (int id : t)
                if (id < 0 || id >= V)
                    throw new IllegalArgumentException("token id " + id + " in sequence " + s + " outside the vocabulary [0, " + V + ")");
            off[s] = N;
            N = Math.addExact(N, t.length);
            maxT = Math.max(maxT, t.length);
        }
        off[nSeq] = N;
        ensureScratch(N, maxT);
        float[][][] resid = new float[cap.length][nSeq][];

        int[] ids = new int[N];
        for (int s = 0; s < nSeq; s++) System.arraycopy(batch[s], 0, ids, off[s], batch[s].length);
        ops.embed(x, ids, weights.embedTokens(), H, embedScale);

        float eps = c.rmsNormEps();
        for (int l = 0; l <= last; l++) {
            Gemma2Weights.Layer w = weights.layers()[l];
            // attention block
            ops.rmsNorm(xn, x, w.inputLayernorm(), N, H, eps);
            ops.matmul(q, xn, w.qProj(), N);
            ops.matmul(k, xn, w.kProj(), N);
            ops.matmul(v, xn, w.vProj(), N);
            if (w.qBias() != null) { ops.addBias(q, w.qBias(), N, Q); ops.addBias(k, w.kBias(), N, KV); ops.addBias(v, w.vBias(), N, KV); }
            int window = c.windowOf(l);
            for (int s = 0; s < nSeq; s++) {
                int T = off[s + 1] - off[s];
                if (nSeq == 1) {
                    attend(att, q, k, v, T, window);
                } else {
                    System.arraycopy(q, off[s] * Q, qs, 0, T * Q);
                    System.arraycopy(k, off[s] * KV, ks, 0, T * KV);
                    System.arraycopy(v, off[s] * KV, vs, 0, T * KV);
                    attend(os, qs, ks, vs, T, window);
                    System.arraycopy(os, 0, att, off[s] * Q, T * Q);
                }
            }
            ops.matmul(tmp, att, w.oProj(), N);
            if (w.oBias() != null) ops.addBias(tmp, w.oBias(), N, H);
            ops.rmsNorm(tmp, tmp, w.postAttentionLayernorm(), N, H, eps);
            ops.add(x, tmp, N * H);
            // MLP block
            ops.rmsNorm(xn, x, w.preFeedforwardLayernorm(), N, H, eps);
            mlp(w, N);
            ops.rmsNorm(tmp, tmp, w.postFeedforwardLayernorm(), N, H, eps);
            ops.add(x, tmp, N * H);
            // hook, capture
            if (opts.hook() != null || capIndex[l] >= 0) {
                for (int s = 0; s < nSeq; s++) {
                    int T = off[s + 1] - off[s];
                    float[] r = Arrays.copyOfRange(x, off[s] * H, off[s + 1] * H);
                    if (opts.hook() != null) {
                        opts.hook().apply(l, s, r, T);
                        System.arraycopy(r, 0, x, off[s] * H, T * H);
                    }
                    if (capIndex[l] >= 0) resid[capIndex[l]][s] = r;
                }
            }
        }
        float[][] logits = switch (opts.logits()) {
            case NONE -> null;
            case LAST -> lastLogits(off, nSeq);
            case ALL -> allLogits(off, nSeq);
        };
        return new Result(resid, logits);
    }

    /** RoPE on q and k (positions 0..T-1), then causal attention with soft-cap and window. */
    private void attend(float[] out, float[] qq, float[] kk, float[] vv, int T, int window) {
        Gemma2Config c = config;
        ops.rope(qq, T, c.numAttentionHeads(), c.headDim(), 0, c.ropeTheta());
        ops.rope(kk, T, c.numKeyValueHeads(), c.headDim(), 0, c.ropeTheta());
        ops.attention(out, qq, kk, vv, T, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(),
                c.attnScale(), c.attnLogitSoftcapping(), window);
    }

    /** tmp[N, H] = down(act(gate(xn)) · up(xn)), in row chunks of at most MLP_CHUNK. */
    private void mlp(Gemma2Weights.Layer w, int N) {
        int H = config.hiddenSize(), I = config.intermediateSize();
        boolean tanh = config.geluTanh();
        for (int r0 = 0; r0 < N; r0 += MLP_CHUNK) {
            int rows = Math.min(MLP_CHUNK, N - r0);
            float[] in = xn, out = tmp;
            if (N > MLP_CHUNK) {
                System.arraycopy(xn, r0 * H, chunkIn, 0, rows * H);
                in = chunkIn;
                out = chunkOut;
            }
            ops.matmul(gate, in, w.gateProj(), rows);
            ops.matmul(up, in, w.upProj(), rows);
            if (tanh) ops.gegluTanh(gate, gate, up, rows * I);
            else ops.gegluErf(gate, gate, up, rows * I);
            ops.matmul(out, gate, w.downProj(), rows);
            if (out != tmp) System.arraycopy(out, 0, tmp, r0 * H, rows * H);
        }
    }

    private float[][] lastLogits(int[] off, int nSeq) {
        int H = config.hiddenSize(), V = config.vocabSize();
        float[] rows = new float[nSeq * H];
        for (int s = 0; s < nSeq; s++) System.arraycopy(x, (off[s + 1] - 1) * H, rows, s * H, H);
        ops.rmsNorm(rows, rows, weights.norm(), nSeq, H, config.rmsNormEps());
        float[][] out = new float[nSeq][];
        float[] all = new float[Math.multiplyExact(nSeq, V)];
        ops.matmul(all, rows, weights.lmHead(), nSeq);
        if (config.finalLogitSoftcapping() > 0) ops.softcap(all, all.length, config.finalLogitSoftcapping());
        for (int s = 0; s < nSeq; s++) out[s] = Arrays.copyOfRange(all, s * V, (s + 1) * V);
        return out;
    }

    private float[][] allLogits(int[] off, int nSeq) {
        int H = config.hiddenSize(), V = config.vocabSize(), N = off[nSeq];
        ops.rmsNorm(xn, x, weights.norm(), N, H, config.rmsNormEps());
        float[][] out = new float[nSeq][];
        for (int s = 0; s < nSeq; s++) {
            int T = off[s + 1] - off[s];
            float[] in = xn;
            if (off[s] > 0) {
                in = new float[T * H];
                System.arraycopy(xn, off[s] * H, in, 0, T * H);
            }
            if ((long) T * V > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("logits of " + T + " tokens × " + V + " vocab do not fit in one array;"
                        + " use LogitsMode.LAST or shorter sequences");
            out[s] = new float[T * V];
            ops.matmul(out[s], in, weights.lmHead(), T);
            if (config.finalLogitSoftcapping() > 0) ops.softcap(out[s], out[s].length, config.finalLogitSoftcapping());
        }
        return out;
    }

    private void ensureScratch(int N, int maxT) {
        Gemma2Config c = config;
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), I = c.intermediateSize();
        x = grow(x, (long) N * H);
        xn = grow(xn, (long) N * H);
        tmp = grow(tmp, (long) N * H);
        q = grow(q, (long) N * Q);
        att = grow(att, (long) N * Q);
        k = grow(k, (long) N * KV);
        v = grow(v, (long) N * KV);
        int chunk = Math.min(N, MLP_CHUNK);
        gate = grow(gate, (long) chunk * I);
        up = grow(up, (long) chunk * I);
        if (N > MLP_CHUNK) {
            chunkIn = grow(chunkIn, (long) chunk * H);
            chunkOut = grow(chunkOut, (long) chunk * H);
        }
        qs = grow(qs, (long) maxT * Q);
        os = grow(os, (long) maxT * Q);
        ks = grow(ks, (long) maxT * KV);
        vs = grow(vs, (long) maxT * KV);
    }

    private static float[] grow(float[] a, long n) {
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("batch too large: buffer of " + n + " floats");
        return a != null && a.length >= n ? a : new float[(int) n];
    }
}
