package msts.engine;

import java.lang.foreign.MemorySegment;

/**
 * The plain reference kernels: one short static loop per op, no allocation and no objects inside the
 * loops, so each ports one-to-one to a TornadoVM kernel. Every fast implementation (Vector API, TornadoVM)
 * is tested against these. Formulas: docs/engine.md.
 *
 * Layout conventions: activations are row-major F32 arrays; linear weights are [out, in] tensors
 * (y = x·Wᵀ) in F32, BF16 or F16 storage, read through {@link Tensor} accessors.
 */
public final class Kernels {
    private Kernels() {}

    // ---- matmul -------------------------------------------------------------------------------

    /** out[r, o] = Σ_i x[r, i] · w[o, i] for F32 weights [outDim, in]. */
    public static void matmulF32(float[] out, float[] x, MemorySegment w, int rows, int in, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0f;
                long base = (long) o * in;
                for (int i = 0; i < in; i++) sum += x[r * in + i] * w.getAtIndex(Tensor.F32, base + i);
                out[r * outDim + o] = sum;
            }
        }
    }

    /** As {@link #matmulF32} with BF16 weights widened element by element. */
    public static void matmulBF16(float[] out, float[] x, MemorySegment w, int rows, int in, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0f;
                long base = (long) o * in;
                for (int i = 0; i < in; i++)
                    sum += x[r * in + i] * DType.bf16ToF32(w.getAtIndex(Tensor.I16, base + i));
                out[r * outDim + o] = sum;
            }
        }
    }

    /**
     * BF16 compute (PyTorch's BF16 path): out[r, o] = Σ_i bf16(x[r, i]) · w[o, i] for BF16 weights, where
     * bf16() rounds to nearest even ({@link DType#f32ToBf16}); each product of two BF16 numbers is exact in
     * F32 and the sum is accumulated in F32.
     */
    public static void matmulBF16Compute(float[] out, float[] x, MemorySegment w, int rows, int in, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0f;
                long base = (long) o * in;
                for (int i = 0; i < in; i++)
                    sum += DType.bf16ToF32(DType.f32ToBf16(x[r * in + i])) * DType.bf16ToF32(w.getAtIndex(Tensor.I16, base + i));
                out[r * outDim + o] = sum;
            }
        }
    }

    /** As {@link #matmulF32} with F16 weights widened element by element. */
    public static void matmulF16(float[] out, float[] x, MemorySegment w, int rows, int in, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0f;
                long base = (long) o * in;
                for (int i = 0; i < in; i++)
                    sum += x[r * in + i] * DType.f16ToF32(w.getAtIndex(Tensor.I16, base + i));
                out[r * outDim + o] = sum;
            }
        }
    }

    /**
     * General row-major F32 GEMM: C = alpha·op(A)·op(B) + beta·C with op(A) [m, k], op(B) [k, n].
     * A is read as a[aOff + i*lda + p] (or a[aOff + p*lda + i] when transposed); likewise B and C.
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = alpha * sum + (beta == 0f ? 0f : beta * c[ci]);
            }
        }
    }

    // ---- Gemma-2 layer ops -------------------------------------------------------------------

    /** Gemma RMSNorm: out[r, i] = x[r, i] · rsqrt(mean_i(x[r, ·]²) + eps) · (1 + w[i]), all in F32. */
    public static void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            float ss = 0f;
            for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * inv * (1f + w.get(i));
        }
    }

    /** RoPE inverse frequency of pair i for head size d: 1 / theta^(2i/d), in F32 as HF computes it. */
    public static float ropeInvFreq(int i, int headDim, float theta) {
        return 1f / (float) Math.pow(theta, (float) (2 * i) / headDim);
    }

    /**
     * Rotary embedding, half-split (HF rotate_half): for each row r at position pos0 + r and each head,
     * (x_i, x_{i+d/2}) ← (x_i·cos − x_{i+d/2}·sin, x_{i+d/2}·cos + x_i·sin), angle = pos·invFreq(i).
     */
    public static void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta) {
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float angle = (float) (pos0 + r) * ropeInvFreq(i, headDim, theta);
                    float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
                    float x0 = x[base + i], x1 = x[base + i + half];
                    x[base + i] = x0 * cos - x1 * sin;
                    x[base + i + half] = x1 * cos + x0 * sin;
                }
            }
        }
    }

    /**
     * Causal grouped-query attention for one sequence of T tokens.
     * q [T, heads·hd], k and v [T, kvHeads·hd], out [T, heads·hd]; query head h reads kv head
     * h / (heads / kvHeads). s_ij = (q_i·k_j)·scale, then softcap·tanh(s/softcap) when softcap > 0,
     * masked when j > i or (window > 0 and i − j ≥ window); softmax over j; out_i = Σ_j p_ij v_j.
     * {@code scores} is scratch of at least T floats.
     */
    public static void attention(float[] out, float[] q, float[] k, float[] v, float[] scores,
                                 int T, int heads, int kvHeads, int headDim,
                                 float scale, float softcap, int window) {
        int group = heads / kvHeads;
        int qStride = heads * headDim, kvStride = kvHeads * headDim;
        for (int h = 0; h < heads; h++) {
            int kvh = h / group;
            for (int i = 0; i < T; i++) {
                int jStart = window > 0 ? Math.max(0, i - window + 1) : 0;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = jStart; j <= i; j++) {
                    float s = 0f;
                    for (int d = 0; d < headDim; d++)
                        s += q[i * qStride + h * headDim + d] * k[j * kvStride + kvh * headDim + d];
                    s *= scale;
                    if (softcap > 0f) s = softcap * (float) Math.tanh(s / softcap);
                    scores[j] = s;
                    max = Math.max(max, s);
                }
                float denom = 0f;
                for (int j = jStart; j <= i; j++) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    denom += scores[j];
                }
                for (int d = 0; d < headDim; d++) {
                    float acc = 0f;
                    for (int j = jStart; j <= i; j++) acc += scores[j] * v[j * kvStride + kvh * headDim + d];
                    out[i * qStride + h * headDim + d] = acc / denom;
                }
            }
        }
    }

    // ---- element-wise ops: GELU (two forms), GeGLU, soft-cap, residual add, bias, embedding --------

    /** GELU, tanh approximation (HF gelu_pytorch_tanh): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    public static float geluTanh(float x) {
        return 0.5f * x * (1f + (float) Math.tanh(0.7978845608028654 * (x + 0.044715f * x * x * x)));
    }

    /** GELU, exact (HF gelu): 0.5·x·(1 + erf(x/√2)), evaluated in double and rounded once to F32. */
    public static float geluErf(float x) {
        double g = x;
        return (float) (0.5 * g * (1.0 + erf(g * 0.7071067811865476)));
    }

    /** GeGLU with the tanh GELU: out[i] = geluTanh(gate[i]) · up[i]. out may alias gate. */
    public static void gegluTanh(float[] out, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) out[i] = geluTanh(gate[i]) * up[i];
    }

    /** GeGLU with the exact GELU: out[i] = geluErf(gate[i]) · up[i]. out may alias gate. */
    public static void gegluErf(float[] out, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) out[i] = geluErf(gate[i]) * up[i];
    }

    /**
     * erf(x) in double precision: Maclaurin series for |x| &lt; 2.5, the erfc continued fraction (Lentz)
     * beyond. Accurate to ~1e-15 (checked against tabulated values in Gemma2ForwardTest).
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2.0 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc via continued fraction (Lentz), converges fast for x >= 2.5
            double x2 = ax * ax;
            double f = ax, C = ax, D = 0.0;
            for (int n = 1; n < 200; n++) {
                double an = n / 2.0;
                D = ax + an * D;
                D = D == 0 ? 1e-300 : 1.0 / D;
                C = ax + an / C;
                if (C == 0) C = 1e-300;
                double delta = C * D;
                f *= delta;
                if (Math.abs(delta - 1.0) < 1e-16) break;
            }
            double erfc = Math.exp(-x2) / Math.sqrt(Math.PI) / f;
            r = 1.0 - erfc;
        }
        return x < 0 ? -r : r;
    }

    /** Soft-cap in place: x ← c·tanh(x/c). */
    public static void softcap(float[] x, int n, float cap) {
        for (int i = 0; i < n; i++) x[i] = cap * (float) Math.tanh(x[i] / cap);
    }

    /** Residual add: acc[i] += y[i]. */
    public static void add(float[] acc, float[] y, int n) {
        for (int i = 0; i < n; i++) acc[i] += y[i];
    }

    /** Bias add: x[r, i] += b[i] for rows × dim, b a [dim] tensor in any storage type. */
    public static void addBias(float[] x, Tensor b, int rows, int dim) {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++) x[r * dim + i] += b.get(i);
    }

    /** Embedding lookup: out[r, ·] = table[ids[r], ·] · scale (Gemma's √hidden normaliser, already rounded to the weight dtype). */
    public static void embed(float[] out, int[] ids, Tensor table, int dim, float scale) {
        for (int r = 0; r < ids.length; r++) {
            long base = (long) ids[r] * dim;
            for (int i = 0; i < dim; i++) out[r * dim + i] = table.get(base + i) * scale;
        }
    }

    // ---- training: forward twins on F32 arrays and backward (formulas: docs/gemma2-training.md) ------
    // Row-wise kernels take a row range [r0, r1) so callers can split rows over threads; backward kernels
    // write (=) the input gradient; parameter gradients are accumulated (+=) in a fixed row order.

    /** Gemma RMSNorm on rows [r0, r1) with an F32 weight array; stores ρ_r = (mean(x²)+eps)^-½ in inv[r]. out may alias x. */
    public static void rmsNorm(float[] out, float[] inv, float[] x, float[] w, int r0, int r1, int dim, float eps) {
        for (int r = r0; r < r1; r++) {
            float ss = 0f;
            for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
            float rho = (float) (1.0 / Math.sqrt(ss / dim + eps));
            inv[r] = rho;
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * rho * (1f + w[i]);
        }
    }

    /** RMSNorm input gradient on rows [r0, r1): g_i = dy_i(1+w_i); dx_i = ρ·g_i − x_i·ρ³·(Σ_j g_j x_j)/dim. dx may alias dy. */
    public static void rmsNormBackward(float[] dx, float[] dy, float[] x, float[] inv, float[] w, int r0, int r1, int dim) {
        for (int r = r0; r < r1; r++) {
            int o = r * dim;
            float rho = inv[r], dot = 0f;
            for (int i = 0; i < dim; i++) dot += dy[o + i] * (1f + w[i]) * x[o + i];
            float c = dot * rho * rho * rho / dim;
            for (int i = 0; i < dim; i++) dx[o + i] = rho * (1f + w[i]) * dy[o + i] - x[o + i] * c;
        }
    }

    /** RMSNorm weight gradient for columns [i0, i1): dw_i += Σ_r dy[r,i]·x[r,i]·ρ_r, rows in order. */
    public static void rmsNormWeightGrad(float[] dw, float[] dy, float[] x, float[] inv, int rows, int i0, int i1, int dim) {
        for (int i = i0; i < i1; i++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) acc += dy[r * dim + i] * x[r * dim + i] * inv[r];
            dw[i] += acc;
        }
    }

    /** Table [T][cos(θ_0..θ_{hd/2−1}), sin(θ_0..)] of RoPE angles θ_i = p·invFreq(i) for positions p < T (as {@link #rope}). */
    public static float[] ropeTable(int T, int headDim, float theta) {
        int half = headDim / 2;
        float[] t = new float[T * headDim];
        for (int p = 0; p < T; p++)
            for (int i = 0; i < half; i++) {
                float angle = (float) p * ropeInvFreq(i, headDim, theta);
                t[p * headDim + i] = (float) Math.cos(angle);
                t[p * headDim + half + i] = (float) Math.sin(angle);
            }
        return t;
    }

    /**
     * RoPE in place on rows [r0, r1) of sequences of T rows each (row r at position r mod T), from a
     * {@link #ropeTable}. sign +1 rotates by +θ (the forward); sign −1 by −θ, which is the backward
     * (a rotation's transpose is its inverse).
     */
    public static void ropeRows(float[] x, float[] table, int sign, int r0, int r1, int T, int heads, int headDim) {
        int half = headDim / 2;
        for (int r = r0; r < r1; r++) {
            int tb = (r % T) * headDim;
            for (int h = 0; h < heads; h++) {
                int base = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float cos = table[tb + i], sin = sign * table[tb + half + i];
                    float x0 = x[base + i], x1 = x[base + i + half];
                    x[base + i] = x0 * cos - x1 * sin;
                    x[base + i + half] = x1 * cos + x0 * sin;
                }
            }
        }
    }

    /**
     * Backward of {@link #attention} for one sequence (q, k after RoPE). Recomputes s_ij (capped) and p_ij;
     * then dv_j += p_ij·do_i, dp_ij = do_i·v_j, D_i = Σ_j p_ij·dp_ij,
     * ds_ij = p_ij·(dp_ij − D_i)·(1 − (s_ij/c)²)·scale (no cap factor when c = 0),
     * dq_i += ds_ij·k_j, dk_j += ds_ij·q_i. dq, dk, dv are overwritten; {@code scratch} holds ≥ 3T floats.
     */
    public static void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout,
                                         float[] q, float[] k, float[] v, float[] scratch,
                                         int T, int heads, int kvHeads, int headDim,
                                         float scale, float softcap, int window) {
        int group = heads / kvHeads;
        int qStride = heads * headDim, kvStride = kvHeads * headDim;
        java.util.Arrays.fill(dq, 0, T * qStride, 0f);
        java.util.Arrays.fill(dk, 0, T * kvStride, 0f);
        java.util.Arrays.fill(dv, 0, T * kvStride, 0f);
        int S = 0, P = T, DP = 2 * T; // capped scores, probabilities, dp
        for (int h = 0; h < heads; h++) {
            int kvh = h / group;
            for (int i = 0; i < T; i++) {
                int jStart = window > 0 ? Math.max(0, i - window + 1) : 0;
                int qi = i * qStride + h * headDim;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = jStart; j <= i; j++) {
                    float s = 0f;
                    for (int d = 0; d < headDim; d++) s += q[qi + d] * k[j * kvStride + kvh * headDim + d];
                    s *= scale;
                    if (softcap > 0f) s = softcap * (float) Math.tanh(s / softcap);
                    scratch[S + j] = s;
                    max = Math.max(max, s);
                }
                float denom = 0f;
                for (int j = jStart; j <= i; j++) {
                    scratch[P + j] = (float) Math.exp(scratch[S + j] - max);
                    denom += scratch[P + j];
                }
                float dsum = 0f;
                for (int j = jStart; j <= i; j++) {
                    float p = scratch[P + j] / denom;
                    scratch[P + j] = p;
                    int vj = j * kvStride + kvh * headDim;
                    float dp = 0f;
                    for (int d = 0; d < headDim; d++) {
                        dp += dout[qi + d] * v[vj + d];
                        dv[vj + d] += p * dout[qi + d];
                    }
                    scratch[DP + j] = dp;
                    dsum += p * dp;
                }
                for (int j = jStart; j <= i; j++) {
                    float ds = scratch[P + j] * (scratch[DP + j] - dsum);
                    if (softcap > 0f) {
                        float t = scratch[S + j] / softcap;
                        ds *= 1f - t * t;
                    }
                    ds *= scale;
                    int kj = j * kvStride + kvh * headDim;
                    for (int d = 0; d < headDim; d++) {
                        dq[qi + d] += ds * k[kj + d];
                        dk[kj + d] += ds * q[qi + d];
                    }
                }
            }
        }
    }

    /**
     * GeGLU backward on [lo, hi): dgate = dout·up·gelu'(gate), dup = dout·gelu(gate), with one tanh per element:
     * t = tanh(u), gelu = ½g(1 + t), gelu' = ½(1 + t) + ½g(1 − t²)·√(2/π)(1 + 3·0.044715g²). dgate may alias dout.
     */
    public static void gegluBackward(float[] dgate, float[] dup, float[] dout, float[] gate, float[] up, int lo, int hi) {
        for (int i = lo; i < hi; i++) {
            double g = gate[i], d = dout[i];
            double t = tanh(0.7978845608028654 * (g + 0.044715 * g * g * g));
            dup[i] = (float) (d * 0.5 * g * (1 + t));
            dgate[i] = (float) (d * up[i] * (0.5 * (1 + t) + 0.5 * g * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * g * g)));
        }
    }

    /** Soft-cap on [lo, hi) in place: x ← c·tanh(x/c) (tanh via {@link #tanh}). */
    public static void softcap(float[] x, int lo, int hi, float cap) {
        for (int i = lo; i < hi; i++) x[i] = cap * (float) tanh(x[i] / cap);
    }

    /**
     * tanh(u) = 1 − 2/(e^{2u} + 1) in double through Math.exp (an intrinsic, the same stub in every JIT
     * tier; Math.tanh is several times slower here). Absolute error ~1e-16, far below F32 rounding.
     */
    public static double tanh(double u) {
        return 1.0 - 2.0 / (Math.exp(2.0 * u) + 1.0);
    }

    /** Soft-cap backward on [lo, hi) from the capped output y = c·tanh(x/c): dx = dy·(1 − (y/c)²). dx may alias dy. */
    public static void softcapBackward(float[] dx, float[] dy, float[] y, int lo, int hi, float cap) {
        for (int i = lo; i < hi; i++) {
            float t = y[i] / cap;
            dx[i] = dy[i] * (1f - t * t);
        }
    }

    /** Embedding lookup from an F32 table: out[r, ·] = table[ids[r], ·]·scale. */
    public static void embed(float[] out, int[] ids, float[] table, int dim, float scale) {
        for (int r = 0; r < ids.length; r++)
            for (int i = 0; i < dim; i++) out[r * dim + i] = table[ids[r] * dim + i] * scale;
    }

    /** Embedding backward: dtable[ids[r], ·] += dy[r, ·]·scale, rows in order. */
    public static void embedBackward(float[] dtable, int[] ids, float[] dy, int dim, float scale) {
        for (int r = 0; r < ids.length; r++) {
            int base = ids[r] * dim;
            for (int i = 0; i < dim; i++) dtable[base + i] += dy[r * dim + i] * scale;
        }
    }

    /**
     * Next-token cross-entropy of one row of logits z[o .. o+V): returns −log softmax(z)[t] (0 when t &lt; 0:
     * position not counted) and writes dz = (softmax(z) − onehot(t))·gradScale (0 when t &lt; 0). dz may alias z.
     */
    public static double crossEntropyRow(float[] dz, float[] z, int t, int o, int V, float gradScale) {
        if (t < 0) {
            java.util.Arrays.fill(dz, o, o + V, 0f);
            return 0;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < V; j++) max = Math.max(max, z[o + j]);
        float zt = z[o + t];
        double sum = 0;
        for (int j = 0; j < V; j++) {
            float e = (float) Math.exp(z[o + j] - max);
            dz[o + j] = e;
            sum += e;
        }
        float f = (float) (gradScale / sum);
        for (int j = 0; j < V; j++) dz[o + j] *= f;
        dz[o + t] -= gradScale;
        return Math.log(sum) + max - zt;
    }
}
