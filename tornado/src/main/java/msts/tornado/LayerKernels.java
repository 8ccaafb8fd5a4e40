package msts.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * TornadoVM kernels of a Gemma-2 transformer layer: one static method per op, each the device port of a
 * plain-Java reference loop in {@link msts.engine.Kernels} (formulas: docs/engine.md, map: docs/tornado.md).
 *
 * <p>Reductions (dot products, sums of squares) use {@link KernelContext} local memory and barriers with
 * work-groups of {@link #WG} threads — {@code @Reduce} gave wrong sums on PoCL. Element-wise ops are
 * {@code @Parallel} loops. Launch geometry for every kernel is computed in one place, {@link Grids}.
 *
 * <p>Storage: activations are {@link FloatArray}s; BF16 weights travel as raw 16-bit patterns in a
 * {@link ShortArray} and are widened in the kernel ({@code bits << 16}), so BF16 stays BF16 in device
 * memory and no fp16/bf16 device support is needed (PoCL has none).
 */
public final class LayerKernels {
    private LayerKernels() {}

    /** Work-group size of the reduction kernels (a power of two). */
    public static final int WG = 64;

    /**
     * out[r, o] = Σ_i x[r, i] · w[o, i], F32 weights [outDim, in]. Reference: {@link msts.engine.Kernels#matmulF32}.
     * One work-group per output feature o (global = outDim·WG, local = WG); the group walks the rows, so each
     * weight row is read from global memory once per row batch and stays in cache.
     */
    public static void matmulF32(KernelContext ctx, FloatArray out, FloatArray x, FloatArray w,
                                 int rows, int in, int outDim) {
        int o = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int wb = o * in;
        for (int r = 0; r < rows; r++) {
            int xb = r * in;
            float sum = 0f;
            for (int i = lid; i < in; i += WG) sum += x.get(xb + i) * w.get(wb + i);
            partial[lid] = sum;
            for (int s = WG / 2; s > 0; s >>= 1) {
                ctx.localBarrier();
                if (lid < s) partial[lid] += partial[lid + s];
            }
            ctx.localBarrier();
            if (lid == 0) out.set(r * outDim + o, partial[0]);
            ctx.localBarrier();
        }
    }

    /**
     * As {@link #matmulF32} with BF16 weights carried as 16-bit patterns and widened in registers.
     * Reference: {@link msts.engine.Kernels#matmulBF16}. The OpenCL backend of TornadoVM 5.2 cannot compile
     * {@code Float.intBitsToFloat} (no reinterpret), so the widening is arithmetic and exact:
     * value = ±exp2[e]·(implicit 1 + m/128), {@code exp2} = {@link #bf16ExponentTable()} (e = 0: subnormals;
     * e = 255 gives ±∞ for both ∞ and NaN patterns).
     */
    public static void matmulBF16(KernelContext ctx, FloatArray out, FloatArray x, ShortArray w, FloatArray exp2,
                                  int rows, int in, int outDim) {
        int o = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int wb = o * in;
        for (int r = 0; r < rows; r++) {
            int xb = r * in;
            float sum = 0f;
            for (int i = lid; i < in; i += WG) {
                int bits = w.get(wb + i) & 0xFFFF;
                int e = (bits >> 7) & 0xFF;
                float mant = (float) (bits & 0x7F) * 0.0078125f + (e == 0 ? 0f : 1f);
                float wv = exp2.get(e) * mant;
                if ((bits & 0x8000) != 0) wv = -wv;
                sum += x.get(xb + i) * wv;
            }
            partial[lid] = sum;
            for (int s = WG / 2; s > 0; s >>= 1) {
                ctx.localBarrier();
                if (lid < s) partial[lid] += partial[lid + s];
            }
            ctx.localBarrier();
            if (lid == 0) out.set(r * outDim + o, partial[0]);
            ctx.localBarrier();
        }
    }

    /**
     * As {@link #matmulF32}, one work-item per output element (r, o) with a sequential dot product: the
     * better shape for CPU OpenCL devices (PoCL vectorises across work-items; barriers inside loops are slow
     * there). Reference: {@link msts.engine.Kernels#matmulF32}. Chosen by {@link Grids#threadPerOutput}.
     */
    public static void matmulF32Threads(FloatArray out, FloatArray x, FloatArray w, int rows, int in, int outDim) {
        for (@Parallel int r = 0; r < rows; r++) {
            for (@Parallel int o = 0; o < outDim; o++) {
                int xb = r * in;
                int wb = o * in;
                float sum = 0f;
                for (int i = 0; i < in; i++) sum += x.get(xb + i) * w.get(wb + i);
                out.set(r * outDim + o, sum);
            }
        }
    }

    /** As {@link #matmulF32Threads} with BF16 weights widened as in {@link #matmulBF16}. Reference: {@link msts.engine.Kernels#matmulBF16}. */
    public static void matmulBF16Threads(FloatArray out, FloatArray x, ShortArray w, FloatArray exp2,
                                         int rows, int in, int outDim) {
        for (@Parallel int r = 0; r < rows; r++) {
            for (@Parallel int o = 0; o < outDim; o++) {
                int xb = r * in;
                int wb = o * in;
                float sum = 0f;
                for (int i = 0; i < in; i++) {
                    int bits = w.get(wb + i) & 0xFFFF;
                    int e = (bits >> 7) & 0xFF;
                    float mant = (float) (bits & 0x7F) * 0.0078125f + (e == 0 ? 0f : 1f);
                    float wv = exp2.get(e) * mant;
                    if ((bits & 0x8000) != 0) wv = -wv;
                    sum += x.get(xb + i) * wv;
                }
                out.set(r * outDim + o, sum);
            }
        }
    }

    /** exp2[e] = 2^(e − 127) for e in 1..254, exp2[0] = 2^−126 (subnormal scale), exp2[255] = +∞. */
    public static FloatArray bf16ExponentTable() {
        FloatArray t = new FloatArray(256);
        for (int e = 0; e < 256; e++) t.set(e, e == 255 ? Float.POSITIVE_INFINITY : Math.scalb(1f, Math.max(e, 1) - 127));
        return t;
    }

    /**
     * Gemma RMSNorm, out[r, i] = x[r, i] · rsqrt(mean(x[r, ·]²) + eps) · (1 + w[i]); one work-group per row.
     * out may be x. Reference: {@link msts.engine.Kernels#rmsNorm}.
     */
    public static void rmsNorm(KernelContext ctx, FloatArray out, FloatArray x, FloatArray w, int dim, float eps) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int b = r * dim;
        float ss = 0f;
        for (int i = lid; i < dim; i += WG) {
            float v = x.get(b + i);
            ss += v * v;
        }
        partial[lid] = ss;
        for (int s = WG / 2; s > 0; s >>= 1) {
            ctx.localBarrier();
            if (lid < s) partial[lid] += partial[lid + s];
        }
        ctx.localBarrier();
        float inv = 1f / TornadoMath.sqrt(partial[0] / dim + eps);
        for (int i = lid; i < dim; i += WG) out.set(b + i, x.get(b + i) * inv * (1f + w.get(i)));
    }

    /**
     * Half-split RoPE in place; row r of sequence-batch position (r mod T) gets angle (pos0 + r mod T)·invFreq[i]
     * (invFreq from {@link msts.engine.Kernels#ropeInvFreq}). Reference: {@link msts.engine.Kernels#rope}.
     */
    public static void rope(FloatArray x, FloatArray invFreq, int rows, int T, int heads, int headDim, int pos0) {
        int half = headDim / 2;
        int n = rows * heads * half;
        for (@Parallel int g = 0; g < n; g++) {
            int i = g % half;
            int rh = g / half;
            int r = rh / heads;
            int base = rh * headDim;
            float angle = (float) (pos0 + r % T) * invFreq.get(i);
            float c = TornadoMath.cos(angle);
            float s = TornadoMath.sin(angle);
            float x0 = x.get(base + i);
            float x1 = x.get(base + i + half);
            x.set(base + i, x0 * c - x1 * s);
            x.set(base + i + half, x1 * c + x0 * s);
        }
    }

    /**
     * Causal GQA attention with optional soft-cap and sliding window for {@code seqs} sequences of T tokens
     * (rows = seqs·T). One work-item per (sequence, head, query); online softmax (running max and sum) so no
     * score scratch is needed. Reference: {@link msts.engine.Kernels#attention}.
     */
    public static void attention(FloatArray out, FloatArray q, FloatArray k, FloatArray v, int seqs, int T,
                                 int heads, int kvHeads, int headDim, float scale, float softcap, int window) {
        int n = seqs * heads * T;
        for (@Parallel int g = 0; g < n; g++) {
            int i = g % T;
            int sh = g / T;
            int h = sh % heads;
            int sq = sh / heads;
            int kvh = h / (heads / kvHeads);
            int qStride = heads * headDim;
            int kvStride = kvHeads * headDim;
            int row0 = sq * T;
            int qb = (row0 + i) * qStride + h * headDim;
            int jStart = 0;
            if (window > 0 && i - window + 1 > 0) jStart = i - window + 1;
            for (int d = 0; d < headDim; d++) out.set(qb + d, 0f);
            float m = -3.0e38f;
            float l = 0f;
            for (int j = jStart; j <= i; j++) {
                int kb = (row0 + j) * kvStride + kvh * headDim;
                float s = 0f;
                for (int d = 0; d < headDim; d++) s += q.get(qb + d) * k.get(kb + d);
                s = s * scale;
                if (softcap > 0f) s = softcap * TornadoMath.tanh(s / softcap);
                float mNew = TornadoMath.max(m, s);
                float corr = TornadoMath.exp(m - mNew);
                float p = TornadoMath.exp(s - mNew);
                l = l * corr + p;
                for (int d = 0; d < headDim; d++) out.set(qb + d, out.get(qb + d) * corr + p * v.get(kb + d));
                m = mNew;
            }
            float invL = 1f / l;
            for (int d = 0; d < headDim; d++) out.set(qb + d, out.get(qb + d) * invL);
        }
    }

    /**
     * GeGLU with the tanh GELU, out[i] = geluTanh(gate[i]) · up[i]; out may be gate.
     * Reference: {@link msts.engine.Kernels#gegluTanh} / {@link msts.engine.Kernels#geluTanh}.
     */
    public static void gegluTanh(FloatArray out, FloatArray gate, FloatArray up, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float x = gate.get(i);
            float gel = 0.5f * x * (1f + TornadoMath.tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
            out.set(i, gel * up.get(i));
        }
    }

    /**
     * GeGLU with the exact GELU, out[i] = 0.5·g·(1 + erf(g/√2)) · up[i]; out may be gate.
     * Reference: {@link msts.engine.Kernels#gegluErf} / {@link msts.engine.Kernels#geluErf}. The reference's
     * double-precision erf series does not suit a device, so erf here is Abramowitz–Stegun 7.1.26 in F32,
     * erf(z) = 1 − (a1·t + … + a5·t⁵)·e^(−z²), t = 1/(1 + p·z), z ≥ 0 (odd extension), |error| ≤ 1.5e-7.
     */
    public static void gegluErf(FloatArray out, FloatArray gate, FloatArray up, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float x = gate.get(i);
            float z = x * 0.70710678f;
            if (z < 0f) z = -z;
            float t = 1f / (1f + 0.3275911f * z);
            float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
            float erf = 1f - poly * TornadoMath.exp(-z * z);
            if (x < 0f) erf = -erf;
            out.set(i, 0.5f * x * (1f + erf) * up.get(i));
        }
    }

    /** x[r, i] += b[i] over rows × dim (attention biases). Reference: {@link msts.engine.Kernels#addBias}. */
    public static void addBias(FloatArray x, FloatArray b, int rows, int dim) {
        int n = rows * dim;
        for (@Parallel int i = 0; i < n; i++) x.set(i, x.get(i) + b.get(i % dim));
    }

    /** acc[i] += y[i] (residual add). Reference: {@link msts.engine.Kernels#add}. */
    public static void add(FloatArray acc, FloatArray y, int n) {
        for (@Parallel int i = 0; i < n; i++) acc.set(i, acc.get(i) + y.get(i));
    }

    /** x ← cap·tanh(x/cap) (final-logit soft-cap). Reference: {@link msts.engine.Kernels#softcap}. */
    public static void softcap(FloatArray x, int n, float cap) {
        for (@Parallel int i = 0; i < n; i++) x.set(i, cap * TornadoMath.tanh(x.get(i) / cap));
    }

    /** dst[i] = src[i] (captures the residual stream of a layer into its own buffer). */
    public static void copy(FloatArray dst, FloatArray src, int n) {
        for (@Parallel int i = 0; i < n; i++) dst.set(i, src.get(i));
    }
}
