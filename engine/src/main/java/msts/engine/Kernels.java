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
}
