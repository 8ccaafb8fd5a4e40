package msts.model.train;

import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.model.gemma.Gemma2Config;

import java.util.Arrays;

/**
 * Forward pass with stored activations, next-token cross-entropy and the backward pass of a Gemma-2
 * model (tied embeddings, no biases) on a batch of B token rows of T tokens each. Formulas:
 * docs/gemma2-training.md (forward as docs/gemma2.md). All matrix products go through {@link Ops#gemm};
 * row-wise ops are the {@link Kernels} loops split over rows with {@link Parallel} (each row or column of a
 * result is written by one thread, sums run in a fixed order), so results do not depend on the thread count.
 *
 * <p>Attention: {@code referenceAttention} runs {@link Kernels#attention}/{@link Kernels#attentionBackward}
 * per sequence (the control); otherwise per (sequence, head) with gemms on the full T×T score matrix,
 * masked entries having probability 0. Buffers are allocated once for (B, T); a step allocates none of size
 * N = B·T (only small per-task scratch).
 */
public final class Gemma2Backprop {
    private final Gemma2Config c;
    private final Ops ops;
    private final boolean referenceAttention;
    private final int B, T, N, H, Q, KV, I, V, L, nh, nkv, hd;
    private final float eps, embedScale, scale, attnCap, finalCap;
    private final float[] rope;

    // activations per layer
    private final float[][] xIn, a1, q, k, v, att, oo, xMid, m, gate, up, act, dn, S, P;
    private final float[][] inv1, inv2, inv3, inv4;
    private final float[] xFinal, xnF, invF, logits, dlogits, tmp;
    // backward scratch
    private final float[] dx, dA, dB, dq, dk, dv, datt, dact, dup, w1, dw1;
    private final int[] ids, targets;
    private final float[] weights;
    private final double[] rowLoss;
    private int counted;
    private double weightSum;
    private boolean weighted;

    public Gemma2Backprop(Gemma2Config config, Ops ops, int batch, int context, boolean referenceAttention) {
        this.c = config;
        this.ops = ops;
        this.referenceAttention = referenceAttention;
        B = batch;
        T = context;
        N = Math.multiplyExact(B, T);
        H = c.hiddenSize();
        Q = c.qDim();
        KV = c.kvDim();
        I = c.intermediateSize();
        V = c.vocabSize();
        L = c.numHiddenLayers();
        nh = c.numAttentionHeads();
        nkv = c.numKeyValueHeads();
        hd = c.headDim();
        eps = c.rmsNormEps();
        embedScale = (float) Math.sqrt(H);
        scale = c.attnScale();
        attnCap = c.attnLogitSoftcapping();
        finalCap = c.finalLogitSoftcapping();
        rope = Kernels.ropeTable(T, hd, c.ropeTheta());
        int sp = referenceAttention ? 0 : Math.multiplyExact(Math.multiplyExact(B, nh), T * T);
        xIn = alloc(N * H); a1 = alloc(N * H); q = alloc(N * Q); k = alloc(N * KV); v = alloc(N * KV);
        att = alloc(N * Q); oo = alloc(N * H); xMid = alloc(N * H); m = alloc(N * H);
        gate = alloc(Math.multiplyExact(N, I)); up = alloc(N * I); act = alloc(N * I); dn = alloc(N * H);
        S = alloc(sp); P = alloc(sp);
        inv1 = alloc(N); inv2 = alloc(N); inv3 = alloc(N); inv4 = alloc(N);
        xFinal = new float[N * H]; xnF = new float[N * H]; invF = new float[N];
        logits = new float[Math.multiplyExact(N, V)]; dlogits = new float[N * V]; tmp = new float[N * H];
        dx = new float[N * H]; dA = new float[N * H]; dB = new float[N * H];
        dq = new float[N * Q]; dk = new float[N * KV]; dv = new float[N * KV]; datt = new float[N * Q];
        dact = new float[N * I]; dup = new float[N * I];
        w1 = new float[H]; dw1 = new float[H];
        ids = new int[N]; targets = new int[N]; weights = new float[N]; rowLoss = new double[N];
    }

    private float[][] alloc(int n) {
        float[][] a = new float[L][];
        for (int l = 0; l < L; l++) a[l] = new float[n];
        return a;
    }

    public int batch() { return B; }

    public int context() { return T; }

    /** Positions counted by the last loss (targets ≥ 0). */
    public int counted() { return counted; }

    /** Soft-capped logits [B·T, V] of the last forward. */
    public float[] logits() { return logits; }

    /**
     * Forward pass and mean next-token cross-entropy of {@code rows} [B][T]: position t predicts row[t+1]
     * (the last position of each row predicts nothing), as HF's causal-LM loss with labels = input ids.
     */
    public double loss(float[] params, LmParams layout, int[][] rows) {
        return loss(params, layout, rows, rows.length);
    }

    /** {@link #loss} counting only the first {@code validRows} rows (the others are padding). */
    public double loss(float[] params, LmParams layout, int[][] rows, int validRows) {
        setTokens(rows, validRows);
        forward(params, layout);
        return crossEntropy();
    }

    /** {@link #loss} and the gradient of that loss w.r.t. every parameter into {@code grad} (overwritten). */
    public double lossAndGradient(float[] params, LmParams layout, int[][] rows, float[] grad) {
        return lossAndGradient(params, layout, rows, null, grad);
    }

    /**
     * Weighted next-token loss and its gradient: with w_bt = {@code targetWeights[b][t]} ≥ 0 the weight of
     * position t predicting rows[b][t+1], Loss = Σ w·ℓ / Σ w over the counted positions (the last position of a
     * row is never counted). {@code targetWeights == null} is the plain mean ({@link #lossAndGradient(float[],
     * LmParams, int[][], float[])}, bit for bit).
     */
    public double lossAndGradient(float[] params, LmParams layout, int[][] rows, float[][] targetWeights, float[] grad) {
        setTokens(rows, rows.length);
        setWeights(targetWeights);
        forward(params, layout);
        double loss = crossEntropy();
        Arrays.fill(grad, 0f);
        backward(params, layout, grad);
        return loss;
    }

    private void setWeights(float[][] w) {
        weighted = w != null;
        if (!weighted) return;
        if (w.length != B) throw new IllegalArgumentException("expected " + B + " weight rows, got " + w.length);
        double sum = 0;
        for (int b = 0; b < B; b++) {
            if (w[b].length != T) throw new IllegalArgumentException("weight row " + b + " has " + w[b].length + " entries, expected " + T);
            for (int t = 0; t < T; t++) {
                float x = w[b][t];
                if (!(x >= 0f) || !Float.isFinite(x)) throw new IllegalArgumentException("loss weight " + x + " at row " + b + ", position " + t);
                int r = b * T + t;
                weights[r] = targets[r] >= 0 ? x : 0f;
                sum += weights[r];
            }
        }
        weightSum = sum;
    }

    private void setTokens(int[][] rows, int validRows) {
        weighted = false;
        if (rows.length != B) throw new IllegalArgumentException("expected " + B + " rows, got " + rows.length);
        counted = 0;
        for (int b = 0; b < B; b++) {
            if (rows[b].length != T) throw new IllegalArgumentException("row " + b + " has " + rows[b].length + " tokens, expected " + T);
            for (int t = 0; t < T; t++) {
                int id = rows[b][t];
                if (id < 0 || id >= V) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + V + ")");
                ids[b * T + t] = id;
                boolean count = t + 1 < T && b < validRows;
                targets[b * T + t] = count ? rows[b][t + 1] : -1;
                if (count) counted++;
            }
        }
    }

    // ---- forward -------------------------------------------------------------------------------------

    private void forward(float[] p, LmParams lay) {
        forwardLayers(p, lay, L - 1);
        norm(xnF, invF, xFinal, p, lay.finalNormOffset());
        linear(logits, xnF, p, lay.embedOffset(), H, V);
        if (finalCap > 0) Parallel.forRange(0, N, rowChunk(V), (lo, hi) -> Kernels.softcap(logits, lo * V, hi * V, finalCap));
    }

    /** Embedding and layers 0..last, storing what the backward pass needs; resid_post(last) is {@link #residPost(int)}. */
    private void forwardLayers(float[] p, LmParams lay, int last) {
        if (lay.embedOffset() != 0) throw new IllegalStateException("embedding must be the first parameter");
        Kernels.embed(xIn[0], ids, p, H, embedScale);
        for (int l = 0; l <= last; l++) {
            LmParams.LayerOffsets o = lay.layer(l);
            float[] x = xIn[l];
            norm(a1[l], inv1[l], x, p, o.inputNorm());
            linear(q[l], a1[l], p, o.q(), H, Q);
            linear(k[l], a1[l], p, o.k(), H, KV);
            linear(v[l], a1[l], p, o.v(), H, KV);
            ropeAll(q[l], nh, 1);
            ropeAll(k[l], nkv, 1);
            attention(l, c.windowOf(l));
            linear(oo[l], att[l], p, o.o(), Q, H);
            norm(tmp, inv2[l], oo[l], p, o.postAttnNorm());
            add(xMid[l], x, tmp, N * H);
            norm(m[l], inv3[l], xMid[l], p, o.preFfNorm());
            linear(gate[l], m[l], p, o.gate(), H, I);
            linear(up[l], m[l], p, o.up(), H, I);
            ops.gegluTanh(act[l], gate[l], up[l], N * I);
            linear(dn[l], act[l], p, o.down(), I, H);
            norm(tmp, inv4[l], dn[l], p, o.postFfNorm());
            add(residPost(l), xMid[l], tmp, N * H);
        }
    }

    /** The stored resid_post of layer l, [B·T, H]: the next layer's input, or the final residual after the last layer. */
    private float[] residPost(int l) {
        return l + 1 < L ? xIn[l + 1] : xFinal;
    }

    /**
     * Forward pass of {@code rows} [B][T] through layers 0..layer only (nothing after it, no logits), keeping what
     * {@link #residBackward} needs. Returns resid_post of {@code layer}, [B·T, H] row-major: an internal buffer,
     * valid until the next forward; callers must not modify it.
     */
    public float[] residPost(float[] params, LmParams layout, int[][] rows, int layer) {
        if (layer < 0 || layer >= L) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (L - 1));
        setTokens(rows, rows.length);
        forwardLayers(params, layout, layer);
        return residPost(layer);
    }

    /**
     * Backward pass of a loss on resid_post({@code layer}) of the last {@link #residPost(float[], LmParams, int[][], int)}
     * forward: {@code dResid} [B·T, H] is dLoss/d resid_post(layer); the gradients of the parameters of layers
     * {@code lowest}..{@code layer} are added into {@code grad} (earlier layers and the embedding get none: the
     * backward stops at the input of layer {@code lowest}).
     */
    public void residBackward(float[] params, LmParams layout, int layer, int lowest, float[] dResid, float[] grad) {
        if (lowest < 0 || lowest > layer || layer >= L) throw new IllegalArgumentException("layers " + lowest + ".." + layer + " outside 0.." + (L - 1));
        System.arraycopy(dResid, 0, dx, 0, N * H);
        for (int l = layer; l >= lowest; l--) layerBackward(params, layout, grad, l);
    }

    private double crossEntropy() {
        if (weighted) return weightedCrossEntropy();
        float g = counted == 0 ? 0f : 1f / counted;
        Parallel.forRange(0, N, rowChunk(V), (lo, hi) -> {
            for (int r = lo; r < hi; r++) rowLoss[r] = Kernels.crossEntropyRow(dlogits, logits, targets[r], r * V, V, g);
        });
        double sum = 0;
        for (int r = 0; r < N; r++) sum += rowLoss[r];
        return counted == 0 ? 0 : sum / counted;
    }

    /** Σ_r w_r·ℓ_r / Σ w and dz_r = w_r/Σw·(softmax − onehot); rows of weight 0 get no gradient. */
    private double weightedCrossEntropy() {
        double W = weightSum;
        Parallel.forRange(0, N, rowChunk(V), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                boolean on = weights[r] > 0f && W > 0;
                rowLoss[r] = Kernels.crossEntropyRow(dlogits, logits, on ? targets[r] : -1, r * V, V, on ? (float) (weights[r] / W) : 0f);
            }
        });
        double sum = 0;
        for (int r = 0; r < N; r++) sum += weights[r] * rowLoss[r];
        return W > 0 ? sum / W : 0;
    }

    /** out[rows, outDim] = x[rows, in]·Wᵀ with W = p[off ..] as [outDim, in]. */
    private void linear(float[] out, float[] x, float[] p, int off, int in, int outDim) {
        ops.gemm(false, true, N, outDim, in, 1f, x, 0, in, p, off, in, 0f, out, 0, outDim);
    }

    private void norm(float[] out, float[] inv, float[] x, float[] p, int wOff) {
        float[] w = Arrays.copyOfRange(p, wOff, wOff + H);
        Parallel.forRange(0, N, rowChunk(H), (lo, hi) -> Kernels.rmsNorm(out, inv, x, w, lo, hi, H, eps));
    }

    private void ropeAll(float[] x, int heads, int sign) {
        Parallel.forRange(0, N, rowChunk(heads * hd), (lo, hi) -> Kernels.ropeRows(x, rope, sign, lo, hi, T, heads, hd));
    }

    private static void add(float[] out, float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    private static int rowChunk(int dim) { return Math.max(1, 32768 / Math.max(1, dim)); }

    private void attention(int l, int window) {
        float[] qq = q[l], kk = k[l], vv = v[l], out = att[l];
        if (referenceAttention) {
            Parallel.forRange(0, B, 1, (lo, hi) -> {
                float[] qs = new float[T * Q], ks = new float[T * KV], vs = new float[T * KV], os = new float[T * Q], sc = new float[T];
                for (int b = lo; b < hi; b++) {
                    System.arraycopy(qq, b * T * Q, qs, 0, T * Q);
                    System.arraycopy(kk, b * T * KV, ks, 0, T * KV);
                    System.arraycopy(vv, b * T * KV, vs, 0, T * KV);
                    Kernels.attention(os, qs, ks, vs, sc, T, nh, nkv, hd, scale, attnCap, window);
                    System.arraycopy(os, 0, out, b * T * Q, T * Q);
                }
            });
            return;
        }
        float[] s = S[l], pr = P[l];
        int group = nh / nkv;
        Parallel.forRange(0, B * nh, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int b = t / nh, h = t % nh, g = h / group, so = t * T * T;
                ops.gemm(false, true, T, T, hd, scale, qq, b * T * Q + h * hd, Q, kk, b * T * KV + g * hd, KV, 0f, s, so, T);
                for (int i = 0; i < T; i++) maskedSoftmaxRow(s, pr, so + i * T, i, T, attnCap, window);
                ops.gemm(false, false, T, hd, T, 1f, pr, so, T, vv, b * T * KV + g * hd, KV, 0f, out, b * T * Q + h * hd, Q);
            }
        });
    }

    /**
     * Row i of one head's T×T scores (already scaled): soft-cap in place, then p_ij = softmax over the
     * visible j (j ≤ i and, with a window, i − j &lt; window), p_ij = 0 elsewhere.
     */
    static void maskedSoftmaxRow(float[] s, float[] p, int o, int i, int T, float cap, int window) {
        int j0 = window > 0 ? Math.max(0, i - window + 1) : 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = j0; j <= i; j++) {
            if (cap > 0f) s[o + j] = cap * (float) Kernels.tanh(s[o + j] / cap);
            max = Math.max(max, s[o + j]);
        }
        float denom = 0f;
        for (int j = j0; j <= i; j++) {
            p[o + j] = (float) Math.exp(s[o + j] - max);
            denom += p[o + j];
        }
        for (int j = 0; j < j0; j++) p[o + j] = 0f;
        for (int j = j0; j <= i; j++) p[o + j] /= denom;
        for (int j = i + 1; j < T; j++) p[o + j] = 0f;
    }

    // ---- backward ------------------------------------------------------------------------------------

    private void backward(float[] p, LmParams lay, float[] grad) {
        // logits = cap·tanh(xnF·Eᵀ / cap); dlogits holds dLoss/d(capped logits)
        if (finalCap > 0) Parallel.forRange(0, N, rowChunk(V), (lo, hi) -> Kernels.softcapBackward(dlogits, dlogits, logits, lo * V, hi * V, finalCap));
        int e = lay.embedOffset();
        ops.gemm(false, false, N, H, V, 1f, dlogits, 0, V, p, e, H, 0f, dA, 0, H);          // d xnF = dz·E
        ops.gemm(true, false, V, H, N, 1f, dlogits, 0, V, xnF, 0, H, 1f, grad, e, H);       // dE += dzᵀ·xnF
        normBackward(dx, dA, xFinal, invF, p, grad, lay.finalNormOffset());
        for (int l = L - 1; l >= 0; l--) layerBackward(p, lay, grad, l);
        Kernels.embedBackward(grad, ids, dx, H, embedScale);
    }

    /** Layer l's backward: dx holds dLoss/d resid_post(l) on entry and dLoss/d(layer l's input) on return; grad += its weights' gradients. */
    private void layerBackward(float[] p, LmParams lay, float[] grad, int l) {
        {
            LmParams.LayerOffsets o = lay.layer(l);
            // x_out = xMid + postFf(dn):  d dn = normBack(dx)
            normBackward(dA, dx, dn[l], inv4[l], p, grad, o.postFfNorm());
            ops.gemm(false, false, N, I, H, 1f, dA, 0, H, p, o.down(), I, 0f, dact, 0, I);        // d act = d dn · Wd
            ops.gemm(true, false, H, I, N, 1f, dA, 0, H, act[l], 0, I, 1f, grad, o.down(), I);   // dWd += d dnᵀ·act
            float[] gl = gate[l], ul = up[l];
            Parallel.forRange(0, N, rowChunk(I), (lo, hi) -> Kernels.gegluBackward(dact, dup, dact, gl, ul, lo * I, hi * I));
            ops.gemm(false, false, N, H, I, 1f, dact, 0, I, p, o.gate(), H, 0f, dA, 0, H);        // d m = dg·Wg + du·Wu
            ops.gemm(false, false, N, H, I, 1f, dup, 0, I, p, o.up(), H, 1f, dA, 0, H);
            ops.gemm(true, false, I, H, N, 1f, dact, 0, I, m[l], 0, H, 1f, grad, o.gate(), H);
            ops.gemm(true, false, I, H, N, 1f, dup, 0, I, m[l], 0, H, 1f, grad, o.up(), H);
            normBackward(dB, dA, xMid[l], inv3[l], p, grad, o.preFfNorm());
            Kernels.add(dx, dB, N * H);                                                             // d xMid
            // xMid = xIn + postAttn(oo)
            normBackward(dA, dx, oo[l], inv2[l], p, grad, o.postAttnNorm());
            ops.gemm(false, false, N, Q, H, 1f, dA, 0, H, p, o.o(), Q, 0f, datt, 0, Q);            // d att = d oo · Wo
            ops.gemm(true, false, H, Q, N, 1f, dA, 0, H, att[l], 0, Q, 1f, grad, o.o(), Q);
            attentionBackward(l, c.windowOf(l));
            ropeAll(dq, nh, -1);
            ropeAll(dk, nkv, -1);
            ops.gemm(false, false, N, H, Q, 1f, dq, 0, Q, p, o.q(), H, 0f, dA, 0, H);              // d a1
            ops.gemm(false, false, N, H, KV, 1f, dk, 0, KV, p, o.k(), H, 1f, dA, 0, H);
            ops.gemm(false, false, N, H, KV, 1f, dv, 0, KV, p, o.v(), H, 1f, dA, 0, H);
            ops.gemm(true, false, Q, H, N, 1f, dq, 0, Q, a1[l], 0, H, 1f, grad, o.q(), H);
            ops.gemm(true, false, KV, H, N, 1f, dk, 0, KV, a1[l], 0, H, 1f, grad, o.k(), H);
            ops.gemm(true, false, KV, H, N, 1f, dv, 0, KV, a1[l], 0, H, 1f, grad, o.v(), H);
            normBackward(dB, dA, xIn[l], inv1[l], p, grad, o.inputNorm());
            Kernels.add(dx, dB, N * H);                                                             // d xIn
        }
    }

    /** dxOut = RMSNorm input gradient of dy; grad[wOff ..] += weight gradient. dxOut must not alias dy. */
    private void normBackward(float[] dxOut, float[] dy, float[] x, float[] inv, float[] p, float[] grad, int wOff) {
        System.arraycopy(p, wOff, w1, 0, H);
        Parallel.forRange(0, N, rowChunk(H), (lo, hi) -> Kernels.rmsNormBackward(dxOut, dy, x, inv, w1, lo, hi, H));
        Arrays.fill(dw1, 0f);
        Parallel.forRange(0, H, Math.max(1, H / 8), (lo, hi) -> Kernels.rmsNormWeightGrad(dw1, dy, x, inv, N, lo, hi, H));
        for (int i = 0; i < H; i++) grad[wOff + i] += dw1[i];
    }

    private void attentionBackward(int l, int window) {
        float[] qq = q[l], kk = k[l], vv = v[l];
        if (referenceAttention) {
            Parallel.forRange(0, B, 1, (lo, hi) -> {
                float[] qs = new float[T * Q], ks = new float[T * KV], vs = new float[T * KV], dos = new float[T * Q];
                float[] dqs = new float[T * Q], dks = new float[T * KV], dvs = new float[T * KV], sc = new float[3 * T];
                for (int b = lo; b < hi; b++) {
                    System.arraycopy(qq, b * T * Q, qs, 0, T * Q);
                    System.arraycopy(kk, b * T * KV, ks, 0, T * KV);
                    System.arraycopy(vv, b * T * KV, vs, 0, T * KV);
                    System.arraycopy(datt, b * T * Q, dos, 0, T * Q);
                    Kernels.attentionBackward(dqs, dks, dvs, dos, qs, ks, vs, sc, T, nh, nkv, hd, scale, attnCap, window);
                    System.arraycopy(dqs, 0, dq, b * T * Q, T * Q);
                    System.arraycopy(dks, 0, dk, b * T * KV, T * KV);
                    System.arraycopy(dvs, 0, dv, b * T * KV, T * KV);
                }
            });
            return;
        }
        float[] s = S[l], pr = P[l];
        int group = nh / nkv;
        Parallel.forRange(0, B * nkv, 1, (lo, hi) -> {
            float[] ds = new float[T * T];
            for (int t = lo; t < hi; t++) {
                int b = t / nkv, g = t % nkv, ko = b * T * KV + g * hd;
                for (int hh = 0; hh < group; hh++) {
                    int h = g * group + hh, so = (b * nh + h) * T * T, qo = b * T * Q + h * hd;
                    float beta = hh == 0 ? 0f : 1f;
                    ops.gemm(false, true, T, T, hd, 1f, datt, qo, Q, vv, ko, KV, 0f, ds, 0, T);      // dP = dO·Vᵀ
                    ops.gemm(true, false, T, hd, T, 1f, pr, so, T, datt, qo, Q, beta, dv, ko, KV);   // dV += Pᵀ·dO
                    for (int i = 0; i < T; i++) scoreGradRow(ds, s, pr, i * T, so + i * T, i, T, attnCap, scale);
                    ops.gemm(false, false, T, hd, T, 1f, ds, 0, T, kk, ko, KV, 0f, dq, qo, Q);       // dQ = dS·K
                    ops.gemm(true, false, T, hd, T, 1f, ds, 0, T, qq, qo, Q, beta, dk, ko, KV);      // dK += dSᵀ·Q
                }
            }
        });
    }

    /** Row i: ds_j = p_j·(dp_j − Σ_j' p_j'·dp_j')·(1 − (s_j/c)²)·scale for j ≤ i (0 where p = 0), 0 for j &gt; i. ds holds dp on entry. */
    static void scoreGradRow(float[] ds, float[] s, float[] p, int d0, int s0, int i, int T, float cap, float scale) {
        float dsum = 0f;
        for (int j = 0; j <= i; j++) dsum += p[s0 + j] * ds[d0 + j];
        for (int j = 0; j <= i; j++) {
            float g = p[s0 + j] * (ds[d0 + j] - dsum);
            if (cap > 0f) {
                float t = s[s0 + j] / cap;
                g *= 1f - t * t;
            }
            ds[d0 + j] = g * scale;
        }
        for (int j = i + 1; j < T; j++) ds[d0 + j] = 0f;
    }
}
