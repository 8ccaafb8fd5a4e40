package msts.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * TornadoVM kernels of an SAE training step: one static method per op, each the device port of the
 * plain-Java loop in {@code msts.sae.SaeKernels} (worker "sae"; formulas: docs/sae.md) or of
 * {@link msts.engine.Kernels#gemm}. Layouts as there: activations [rows, d] row-major, row r is token
 * t = r mod T of sequence r / T; rows with t &lt; lossStart are left out of loss terms;
 * conv_w [nScales, d, 3]; W_enc [d, n], W_dec [n, d].
 *
 * <p>Reductions over rows (column sums, row norms, squared errors, dot products) are
 * {@link KernelContext} kernels with one work-group of {@link LayerKernels#WG} threads per output,
 * local memory and barriers ({@link Grids#groupPerItem}). Flags are ints (0/1).
 */
public final class SaeKernelsGpu {
    private SaeKernelsGpu() {}

    static final int WG = LayerKernels.WG;

    /** C = α·op(A)·op(B) + β·C, row-major, op = transpose when the flag is 1. Reference: {@link msts.engine.Kernels#gemm}. */
    public static void gemm(int transA, int transB, int m, int n, int k, float alpha, FloatArray a, int lda,
                            FloatArray b, int ldb, float beta, FloatArray c, int ldc) {
        for (@Parallel int i = 0; i < m; i++) {
            for (@Parallel int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA == 1 ? a.get(p * lda + i) : a.get(i * lda + p);
                    float bv = transB == 1 ? b.get(j * ldb + p) : b.get(p * ldb + j);
                    sum += av * bv;
                }
                int ci = i * ldc + j;
                float prev = beta == 0f ? 0f : beta * c.get(ci);
                c.set(ci, alpha * sum + prev);
            }
        }
    }

    /** Tile edge of {@link #gemmTiled}: a TS×TS work-group computes a TS×TS block of C. */
    public static final int TS = 16;
    /** Row stride of the local tiles (TS + 1: a column walk does not hit one local-memory bank TS times). */
    static final int TSP = TS + 1;

    /**
     * C = α·op(A)·op(B) + β·C as {@link #gemm}, tiled through local memory (the GPU shape for devices without
     * a vendor BLAS): work-group (gx, gy) of TS×TS work-items computes C[gy·TS + ly, gx·TS + lx]; per step of TS
     * along k, the group loads one TS×TS tile of op(A) and one of op(B) (each element read from global memory
     * once per group instead of once per output, reads along rows of the stored matrix whatever the transpose),
     * waits at a barrier, and accumulates from local memory. Out-of-range tile entries are zeros, so any m, n, k
     * works; the sum runs over p = 0 … k−1 in order, like the reference. Launch: {@link Grids#tiles}.
     * Reference: {@link msts.engine.Kernels#gemm}.
     */
    public static void gemmTiled(KernelContext ctx, int transA, int transB, int m, int n, int k, float alpha,
                                 FloatArray a, int lda, FloatArray b, int ldb, float beta, FloatArray c, int ldc) {
        int lx = ctx.localIdx;
        int ly = ctx.localIdy;
        int i0 = ctx.groupIdy * TS;
        int j0 = ctx.groupIdx * TS;
        float[] as = ctx.allocateFloatLocalArray(TS * TSP); // as[r·TSP + p] = op(A)[i0 + r, t·TS + p]
        float[] bs = ctx.allocateFloatLocalArray(TS * TSP); // bs[p·TSP + q] = op(B)[t·TS + p, j0 + q]
        float sum = 0f;
        int tiles = (k + TS - 1) / TS;
        for (int t = 0; t < tiles; t++) {
            int k0 = t * TS;
            if (transA == 1) { // A stored [k, m]: consecutive lx read consecutive i
                int kk = k0 + ly;
                int ii = i0 + lx;
                as[lx * TSP + ly] = kk < k && ii < m ? a.get(kk * lda + ii) : 0f;
            } else { // A stored [m, k]: consecutive lx read consecutive p
                int kk = k0 + lx;
                int ii = i0 + ly;
                as[ly * TSP + lx] = kk < k && ii < m ? a.get(ii * lda + kk) : 0f;
            }
            if (transB == 1) { // B stored [n, k]
                int kk = k0 + lx;
                int jj = j0 + ly;
                bs[lx * TSP + ly] = kk < k && jj < n ? b.get(jj * ldb + kk) : 0f;
            } else { // B stored [k, n]
                int kk = k0 + ly;
                int jj = j0 + lx;
                bs[ly * TSP + lx] = kk < k && jj < n ? b.get(kk * ldb + jj) : 0f;
            }
            ctx.localBarrier();
            for (int p = 0; p < TS; p++) sum += as[ly * TSP + p] * bs[p * TSP + lx];
            ctx.localBarrier();
        }
        int i = i0 + ly;
        int j = j0 + lx;
        if (i < m && j < n) {
            int ci = i * ldc + j;
            float prev = beta == 0f ? 0f : beta * c.get(ci);
            c.set(ci, alpha * sum + prev);
        }
    }

    /** out[r, c] = x[r, c] − b[c]. Reference: {@code SaeKernels.subRowVector}. */
    public static void subRowVector(FloatArray x, FloatArray b, FloatArray out, int rows, int d) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) out.set(i, x.get(i) - b.get(i % d));
    }

    /** a[r, c] += b[c]. Reference: {@code SaeKernels.addRowVector}. */
    public static void addRowVector(FloatArray a, FloatArray b, int rows, int d) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) a.set(i, a.get(i) + b.get(i % d));
    }

    /** f = max(pre, 0). Reference: {@code SaeKernels.relu}. */
    public static void relu(FloatArray pre, FloatArray f, int total) {
        for (@Parallel int i = 0; i < total; i++) {
            float v = pre.get(i);
            f.set(i, v > 0f ? v : 0f);
        }
    }

    /**
     * The encoder epilogue fused: f[r, j] = max(pre[r, j] + b[j], 0) in one pass (pre is left as the matmul
     * wrote it). Reference: {@code SaeKernels.addRowVector} then {@code SaeKernels.relu}.
     */
    public static void addRowVectorRelu(FloatArray pre, FloatArray b, FloatArray f, int rows, int n) {
        int total = rows * n;
        for (@Parallel int i = 0; i < total; i++) {
            float v = pre.get(i) + b.get(i % n);
            f.set(i, v > 0f ? v : 0f);
        }
    }

    /**
     * Depth-wise dilated convolution plus identity, z[r, c] = xc[r, c] + Σ_s Σ_j w[s, c, j]·xc[r + off(s, j), c],
     * off = −j·dil[s] (causal) or (j − 1)·dil[s] (centred = 1); taps outside the sequence are zero.
     * Reference: {@code SaeKernels.convForward}.
     */
    public static void convForward(FloatArray xc, FloatArray w, IntArray dil, int nScales, int centred, int T, int d,
                                   FloatArray z, int rows) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / d;
            int c = i - r * d;
            int t = r % T;
            float acc = xc.get(i);
            for (int s = 0; s < nScales; s++) {
                int dl = dil.get(s);
                for (int j = 0; j < 3; j++) {
                    int off = centred == 1 ? (j - 1) * dl : -j * dl;
                    if (t + off >= 0 && t + off < T) acc += w.get((s * d + c) * 3 + j) * xc.get((r + off) * d + c);
                }
            }
            z.set(i, acc);
        }
    }

    /**
     * The transpose of {@link #convForward}: dxc[r, c] = dz[r, c] + Σ_s Σ_j w[s, c, j]·dz[r − off(s, j), c].
     * Reference: {@code SaeKernels.convBackwardInput}.
     */
    public static void convBackwardInput(FloatArray dz, FloatArray w, IntArray dil, int nScales, int centred, int T,
                                         int d, FloatArray dxc, int rows) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / d;
            int c = i - r * d;
            int t = r % T;
            float acc = dz.get(i);
            for (int s = 0; s < nScales; s++) {
                int dl = dil.get(s);
                for (int j = 0; j < 3; j++) {
                    int off = centred == 1 ? (j - 1) * dl : -j * dl;
                    if (t - off >= 0 && t - off < T) acc += w.get((s * d + c) * 3 + j) * dz.get((r - off) * d + c);
                }
            }
            dxc.set(i, acc);
        }
    }

    /**
     * dw[s, c, j] = Σ_r dz[r, c]·xc[r + off(s, j), c] over valid taps; one work-group per (s, c, j), the
     * rows reduced in local memory. Reference: {@code SaeKernels.convBackwardWeights}.
     */
    public static void convBackwardWeights(KernelContext ctx, FloatArray dz, FloatArray xc, IntArray dil, int centred,
                                           int rows, int T, int d, FloatArray dw) {
        int g = ctx.groupIdx; // (s·d + c)·3 + j
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int j = g % 3;
        int sc = g / 3;
        int c = sc % d;
        int s = sc / d;
        int dl = dil.get(s);
        int off = centred == 1 ? (j - 1) * dl : -j * dl;
        float sum = 0f;
        for (int r = lid; r < rows; r += WG) {
            int t = r % T;
            if (t + off >= 0 && t + off < T) sum += dz.get(r * d + c) * xc.get((r + off) * d + c);
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) dw.set(g, partial[0]);
    }

    /**
     * Squared error per row, masked: e = xhat − x everywhere; rowSq[r] = Σ_c e² for counted rows
     * (r mod T ≥ lossStart), 0 otherwise. One work-group per row. Reference: {@code SaeKernels.diffRowSq}.
     */
    public static void diffRowSq(KernelContext ctx, FloatArray xhat, FloatArray x, FloatArray e, FloatArray rowSq,
                                 int d, int T, int lossStart) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int o = r * d;
        float sum = 0f;
        for (int c = lid; c < d; c += WG) {
            float v = xhat.get(o + c) - x.get(o + c);
            e.set(o + c, v);
            sum += v * v;
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) rowSq.set(r, r % T < lossStart ? 0f : partial[0]);
    }

    /**
     * out[slot] = Σ_i a[i] over i &lt; n, by a single work-group (global = local = WG): the batch metrics
     * (sum of squared errors, L1 sum, active count) without sending the per-row arrays back.
     */
    public static void sumTo(KernelContext ctx, FloatArray a, int n, FloatArray out, int slot) {
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int i = lid; i < n; i += WG) sum += a.get(i);
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) out.set(slot, partial[0]);
    }

    /** a[i] *= s, rows with (r mod T) &lt; lossStart zeroed. s is hyper[sIdx]. Reference: {@code SaeKernels.scaleMaskRows}. */
    public static void scaleMaskRows(FloatArray a, FloatArray hyper, int sIdx, int rows, int d, int T, int lossStart) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / d;
            float m = r % T < lossStart ? 0f : hyper.get(sIdx);
            a.set(i, a.get(i) * m);
        }
    }

    /**
     * out[c] = scale·Σ_r a[r, c] (+ out[c] when accumulate = 1), rows with (r mod T) &lt; lossStart skipped
     * (pass lossStart = 0 for all rows); active = 1 counts a &gt; 0 instead of summing.
     * One work-group per column. Reference: {@code SaeKernels.columnSums} / {@code addColumnSums}.
     */
    public static void columnSums(KernelContext ctx, FloatArray a, int rows, int cols, int T, int lossStart,
                                  float scale, int accumulate, int active, FloatArray out) {
        int c = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int r = lid; r < rows; r += WG) {
            if (r % T >= lossStart) {
                float v = a.get(r * cols + c);
                if (active == 1) sum += v > 0f ? 1f : 0f;
                else sum += v;
            }
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) out.set(c, scale * partial[0] + (accumulate == 1 ? out.get(c) : 0f));
    }

    /** norms[r] = ‖W[r, ·]‖₂, one work-group per row. Reference: {@code SaeKernels.rowNorms}. */
    public static void rowNorms(KernelContext ctx, FloatArray w, int d, FloatArray norms) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int c = lid; c < d; c += WG) {
            float v = w.get(r * d + c);
            sum += v * v;
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) norms.set(r, TornadoMath.sqrt(partial[0]));
    }

    /**
     * L1 weights and the L1 sum: wL1[j] = unitNorm ? 1 : norms[j]; l1part[j] = colF[j]·wL1[j]
     * (summed by {@link #sumTo}).
     */
    public static void l1Weights(FloatArray norms, FloatArray colF, int unitNorm, FloatArray wL1, FloatArray l1part, int n) {
        for (@Parallel int j = 0; j < n; j++) {
            float w = unitNorm == 1 ? 1f : norms.get(j);
            wL1.set(j, w);
            l1part.set(j, colF.get(j) * w);
        }
    }

    /**
     * df[r, j] += s·wL1[j] where f[r, j] &gt; 0 on counted rows, s = hyper[sIdx] (λ/M).
     * Reference: {@code SaeKernels.addRowVectorActive}.
     */
    public static void addRowVectorActive(FloatArray df, FloatArray wL1, FloatArray hyper, int sIdx, FloatArray f,
                                          int rows, int n, int T, int lossStart) {
        int total = rows * n;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / n;
            int j = i - r * n;
            if (r % T >= lossStart && f.get(i) > 0f) df.set(i, df.get(i) + hyper.get(sIdx) * wL1.get(j));
        }
    }

    /**
     * g[r] += s·colF[r]·W[r]/norms[r] (rows with zero norm skipped), s = hyper[sIdx].
     * Reference: {@code SaeKernels.addScaledRowsByNorm}.
     */
    public static void addScaledRowsByNorm(FloatArray g, FloatArray w, FloatArray colF, FloatArray norms,
                                           FloatArray hyper, int sIdx, int n, int d) {
        int total = n * d;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / d;
            float nr = norms.get(r);
            if (nr != 0f) g.set(i, g.get(i) + hyper.get(sIdx) * colF.get(r) / nr * w.get(i));
        }
    }

    /** g[i] = act[i] &gt; 0 ? g[i] : 0. Reference: {@code SaeKernels.maskByActive}. */
    public static void maskByActive(FloatArray g, FloatArray act, int total) {
        for (@Parallel int i = 0; i < total; i++) if (!(act.get(i) > 0f)) g.set(i, 0f);
    }

    /**
     * out[i] += s·Σ_j W[i, j]·v[j], one work-group per row i of W [rows, n].
     * Reference: {@code SaeKernels.addMatVec}.
     */
    public static void addMatVec(KernelContext ctx, FloatArray w, FloatArray v, int n, float s, FloatArray out) {
        int i = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int j = lid; j < n; j += WG) sum += w.get(i * n + j) * v.get(j);
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) out.set(i, out.get(i) + s * partial[0]);
    }

    /**
     * Adam: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= lr·(m/bc1)/(sqrt(v/bc2) + eps), with
     * hyper = [lr, bc1, bc2, …] updated by the host each step (β1, β2, eps fixed).
     * Reference: {@code SaeKernels.adam}.
     */
    public static void adam(FloatArray p, FloatArray g, FloatArray m, FloatArray v, FloatArray hyper,
                            float b1, float b2, float eps, int total) {
        for (@Parallel int i = 0; i < total; i++) {
            float lr = hyper.get(0);
            float bc1 = hyper.get(1);
            float bc2 = hyper.get(2);
            float gi = g.get(i);
            float mi = b1 * m.get(i) + (1f - b1) * gi;
            float vi = b2 * v.get(i) + (1f - b2) * gi * gi;
            m.set(i, mi);
            v.set(i, vi);
            p.set(i, p.get(i) - lr * (mi / bc1) / (TornadoMath.sqrt(vi / bc2) + eps));
        }
    }

    /**
     * g[r] −= (g[r]·W[r] / ‖W[r]‖²)·W[r] (unit-norm decoders: the gradient loses its component along each row);
     * one work-group per row. Reference: {@code SaeKernels.projectOutParallel}.
     */
    public static void projectOutParallel(KernelContext ctx, FloatArray g, FloatArray w, int d) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] dots = ctx.allocateFloatLocalArray(WG);
        float[] sqs = ctx.allocateFloatLocalArray(WG);
        float dot = 0f;
        float sq = 0f;
        for (int c = lid; c < d; c += WG) {
            float wv = w.get(r * d + c);
            dot += g.get(r * d + c) * wv;
            sq += wv * wv;
        }
        dots[lid] = dot;
        sqs[lid] = sq;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                dots[lid] += dots[lid + st];
                sqs[lid] += sqs[lid + st];
            }
        }
        ctx.localBarrier();
        float nn = sqs[0];
        if (nn != 0f) {
            float a = dots[0] / nn;
            for (int c = lid; c < d; c += WG) g.set(r * d + c, g.get(r * d + c) - a * w.get(r * d + c));
        }
    }

    /** W[r] /= ‖W[r]‖ (zero rows stay zero); one work-group per row. Reference: {@code SaeKernels.normalizeRows}. */
    public static void normalizeRows(KernelContext ctx, FloatArray w, int d) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sq = 0f;
        for (int c = lid; c < d; c += WG) {
            float v = w.get(r * d + c);
            sq += v * v;
        }
        partial[lid] = sq;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        float s = partial[0];
        if (s != 0f) {
            float inv = 1f / TornadoMath.sqrt(s);
            for (int c = lid; c < d; c += WG) w.set(r * d + c, w.get(r * d + c) * inv);
        }
    }

    /** u[r] = W[r] / norms[r] (zero rows stay zero), W [n, d]. Reference: {@code SaeKernels.unitRows}. */
    public static void unitRows(FloatArray w, FloatArray norms, FloatArray u, int n, int d) {
        int total = n * d;
        for (@Parallel int i = 0; i < total; i++) {
            float nr = norms.get(i / d);
            u.set(i, nr == 0f ? 0f : w.get(i) / nr);
        }
    }

    /**
     * The exact separation loss on the Gram matrix G = U·Uᵀ [n, n], one work-group per row i:
     * rowSum[i] = Σ_{j≠i} φ(G_ij), φ(c) = relu(|c| − m)², and G is overwritten with s·φ'(G_ij)
     * (φ'(c) = 2·relu(|c| − m)·sign(c); diagonal 0). Reference: {@code SaeKernels.sepGram} (which sums in double).
     */
    public static void sepGram(KernelContext ctx, FloatArray g, int n, float margin, float s, FloatArray rowSum) {
        int i = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int j = lid; j < n; j += WG) {
            int o = i * n + j;
            float c = g.get(o);
            float a = (c < 0f ? -c : c) - margin;
            float dphi = 0f;
            if (i != j && a > 0f) {
                sum += a * a;
                dphi = s * 2f * a * (c > 0f ? 1f : -1f);
            }
            g.set(o, dphi);
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) rowSum.set(i, partial[0]);
    }

    /**
     * The gradient through U = W / ‖W‖ row-wise: dW[r] += (dU[r] − (dU[r]·u[r])·u[r]) / ‖W[r]‖ (zero rows skipped),
     * one work-group per row. Reference: {@code SaeKernels.backUnitRows}.
     */
    public static void backUnitRows(KernelContext ctx, FloatArray du, FloatArray u, FloatArray norms, FloatArray dw, int d) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float dot = 0f;
        for (int c = lid; c < d; c += WG) dot += du.get(r * d + c) * u.get(r * d + c);
        partial[lid] = dot;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        float nr = norms.get(r);
        if (nr != 0f) {
            float dt = partial[0];
            float inv = 1f / nr;
            for (int c = lid; c < d; c += WG) {
                int o = r * d + c;
                dw.set(o, dw.get(o) + (du.get(o) - dt * u.get(o)) * inv);
            }
        }
    }

    /**
     * Squared-norm partials: out[offset + g] = Σ a[i]² over i ≡ g·WG + lid (mod groups·WG), launched as
     * {@code groups} work-groups ({@link Grids#groupPerItem}); {@link #sumTo} adds the partials.
     * Reference: {@code SaeKernels.sumSq}.
     */
    public static void sumSqGroups(KernelContext ctx, FloatArray a, int n, int groups, FloatArray out, int offset) {
        int grp = ctx.groupIdx;
        int lid = ctx.localIdx;
        int stride = groups * WG;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        float sum = 0f;
        for (int i = grp * WG + lid; i < n; i += stride) {
            float v = a.get(i);
            sum += v * v;
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) out.set(offset + grp, partial[0]);
    }

    /**
     * Gradient-norm clipping: with ‖g‖ = sqrt(sq[slot]) over all gradients, g *= maxNorm/‖g‖ when ‖g‖ &gt; maxNorm.
     * Reference: {@code GradientClipping.clip}.
     */
    public static void clipScale(FloatArray g, FloatArray sq, int slot, float maxNorm, int total) {
        for (@Parallel int i = 0; i < total; i++) {
            float norm = TornadoMath.sqrt(sq.get(slot));
            if (norm > maxNorm) g.set(i, g.get(i) * (maxNorm / norm));
        }
    }

    // ---- AuxK and BatchTopK (TopK training) ----

    /**
     * a += b and rowSq[r] = Σ_c a² for counted rows (r mod T ≥ lossStart), 0 otherwise: AuxK's
     * ê − (x − x̂) = (a·W_dec + b_dec) + e with e = x̂ − x. One work-group per row.
     * Reference: the residual loop of {@code msts.sae.AuxK.forward}.
     */
    public static void addRowSq(KernelContext ctx, FloatArray a, FloatArray b, FloatArray rowSq, int d, int T,
                                int lossStart) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int o = r * d;
        float sum = 0f;
        for (int c = lid; c < d; c += WG) {
            float v = a.get(o + c) + b.get(o + c);
            a.set(o + c, v);
            sum += v * v;
        }
        partial[lid] = sum;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) partial[lid] += partial[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) rowSq.set(r, r % T < lossStart ? 0f : partial[0]);
    }

    /** g[i] += src[i] where sel[i] ≠ 0 (AuxK's gradient into ∂L/∂pre). Reference: {@code SaeKernels.addSelected}. */
    public static void addSelected(FloatArray g, FloatArray src, FloatArray sel, int total) {
        for (@Parallel int i = 0; i < total; i++) if (sel.get(i) != 0f) g.set(i, g.get(i) + src.get(i));
    }

    /**
     * out[slot] = min{f[r, j] : f &gt; 0, r mod T ≥ lossStart}, or −1 when no f is positive; a single work-group
     * (global = local = WG). BatchTopK's threshold statistic; reference: {@code ThresholdKernels.minPositive}
     * (which says +∞ where this says −1).
     */
    public static void minPositive(KernelContext ctx, FloatArray f, int rows, int n, int T, int lossStart,
                                   FloatArray out, int slot) {
        int lid = ctx.localIdx;
        float[] partial = ctx.allocateFloatLocalArray(WG);
        int total = rows * n;
        float mn = -1f;
        for (int i = lid; i < total; i += WG) {
            int r = i / n;
            float v = f.get(i);
            if (r % T >= lossStart && v > 0f && (mn < 0f || v < mn)) mn = v;
        }
        partial[lid] = mn;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                float a = partial[lid];
                float b = partial[lid + st];
                partial[lid] = a < 0f ? b : (b < 0f ? a : (b < a ? b : a));
            }
        }
        ctx.localBarrier();
        if (lid == 0) out.set(slot, partial[0]);
    }

    // ---- the SAE splice inside the forward plan (msts.model.gemma.SaeSplice) ----

    /** f = v·1[v &gt; θ_j] with v = pre + b_enc (JumpReLU). Reference: {@code SaeKernels.addRowVector} then {@code jumpRelu}. */
    public static void addRowVectorJumpRelu(FloatArray pre, FloatArray b, FloatArray theta, FloatArray f, int rows, int n) {
        int total = rows * n;
        for (@Parallel int i = 0; i < total; i++) {
            int j = i % n;
            float v = pre.get(i) + b.get(j);
            f.set(i, v > theta.get(j) ? v : 0f);
        }
    }

    /** x[r, ·] = x̂[r, ·] where rowMask[r] ≠ 0 (the SAE splice). Reference: {@code msts.evals.SaeApply.splice}. */
    public static void replaceRows(FloatArray x, FloatArray xhat, FloatArray rowMask, int rows, int d) {
        int total = rows * d;
        for (@Parallel int i = 0; i < total; i++) if (rowMask.get(i / d) != 0f) x.set(i, xhat.get(i));
    }

    /**
     * SAEBench's clamp on f [rows, n] of sequences of T rows: f[t = 0] = 0; fmod = −mult[0] where sel[j] ≠ 0 and
     * f &gt; 0, else f. Reference: {@code msts.evals.Unlearning.clamp}.
     */
    public static void clampLatents(FloatArray f, FloatArray fmod, FloatArray sel, FloatArray mult, int rows, int n, int T) {
        int total = rows * n;
        for (@Parallel int i = 0; i < total; i++) {
            int r = i / n;
            float v = r % T == 0 ? 0f : f.get(i);
            f.set(i, v);
            fmod.set(i, sel.get(i - r * n) != 0f && v > 0f ? -mult.get(0) : v);
        }
    }

    /** x = (x − x̂) + x̂' (the clamp's error term kept, the reconstruction swapped). Reference: {@code Unlearning.clamp}. */
    public static void swapReconstruction(FloatArray x, FloatArray xhat, FloatArray mod, int total) {
        for (@Parallel int i = 0; i < total; i++) x.set(i, x.get(i) - xhat.get(i) + mod.get(i));
    }
}
