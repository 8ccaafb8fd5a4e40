package msts.sae;

/**
 * The SAE's reference kernels: one short static method per op, plain loops over a row
 * (or column, or element) range [lo, hi) so callers can run them in parallel over disjoint ranges; no
 * allocation inside. Matrix products go through {@code Ops.gemm}. Formulas: docs/sae.md. Where a fast
 * version exists it is the method of the same name in {@link SaeVectorKernels}, tested against the one here.
 * Layouts: activations [rows, d] row-major; a row r of a whole-sequence batch is token t = r mod T of
 * sequence r / T; conv_w [n_scales, d, 3].
 */
public final class SaeKernels {
    private SaeKernels() {}

    /** out[r, c] = x[r, c] − b[c]. */
    public static void subRowVector(float[] x, float[] b, float[] out, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * d;
            for (int c = 0; c < d; c++) out[o + c] = x[o + c] - b[c];
        }
    }

    /** a[r, c] += b[c]. */
    public static void addRowVector(float[] a, float[] b, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * d;
            for (int c = 0; c < d; c++) a[o + c] += b[c];
        }
    }

    /** Offset of tap j of a dilation-dil kernel: causal −j·dil, centred (j−1)·dil. */
    public static int tapOffset(int j, int dil, boolean centred) {
        return centred ? (j - 1) * dil : -j * dil;
    }

    /**
     * Depth-wise dilated convolution plus identity:
     * z[r, c] = xc[r, c] + Σ_s Σ_j w[s, c, j] · xc[r + off(s, j), c], taps outside the sequence are zero.
     */
    public static void convForward(float[] xc, float[] w, int[] dil, boolean centred, int T, int d, float[] z,
                                   int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int t = r % T, o = r * d;
            System.arraycopy(xc, o, z, o, d);
            for (int s = 0; s < dil.length; s++) {
                for (int j = 0; j < 3; j++) {
                    int off = tapOffset(j, dil[s], centred);
                    if (t + off < 0 || t + off >= T) continue;
                    int src = (r + off) * d, wo = s * d * 3 + j;
                    for (int c = 0; c < d; c++) z[o + c] += w[wo + c * 3] * xc[src + c];
                }
            }
        }
    }

    /** dxc[r, c] = dz[r, c] + Σ_s Σ_j w[s, c, j] · dz[r − off(s, j), c] (the transpose of {@link #convForward}). */
    public static void convBackwardInput(float[] dz, float[] w, int[] dil, boolean centred, int T, int d,
                                         float[] dxc, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int t = r % T, o = r * d;
            System.arraycopy(dz, o, dxc, o, d);
            for (int s = 0; s < dil.length; s++) {
                for (int j = 0; j < 3; j++) {
                    int off = tapOffset(j, dil[s], centred);
                    if (t - off < 0 || t - off >= T) continue;
                    int src = (r - off) * d, wo = s * d * 3 + j;
                    for (int c = 0; c < d; c++) dxc[o + c] += w[wo + c * 3] * dz[src + c];
                }
            }
        }
    }

    /** dw[s, c, j] = Σ_r dz[r, c] · xc[r + off(s, j), c] over valid taps, for channels c in [lo, hi). */
    public static void convBackwardWeights(float[] dz, float[] xc, int[] dil, boolean centred, int rows, int T,
                                           int d, float[] dw, int lo, int hi) {
        for (int s = 0; s < dil.length; s++)
            for (int c = lo; c < hi; c++)
                for (int j = 0; j < 3; j++) dw[(s * d + c) * 3 + j] = 0f;
        for (int r = 0; r < rows; r++) {
            int t = r % T, o = r * d;
            for (int s = 0; s < dil.length; s++) {
                for (int j = 0; j < 3; j++) {
                    int off = tapOffset(j, dil[s], centred);
                    if (t + off < 0 || t + off >= T) continue;
                    int src = (r + off) * d, wo = s * d * 3 + j;
                    for (int c = lo; c < hi; c++) dw[wo + c * 3] += dz[o + c] * xc[src + c];
                }
            }
        }
    }

    /** f = max(pre, 0) on elements [lo, hi). */
    public static void relu(float[] pre, float[] f, int lo, int hi) {
        for (int i = lo; i < hi; i++) f[i] = pre[i] > 0f ? pre[i] : 0f;
    }

    /** JumpReLU: f = pre · (pre > θ_j). */
    public static void jumpRelu(float[] pre, float[] theta, float[] f, int n, int lo, int hi) {
        for (int r = lo; r < hi; r++)
            for (int j = 0; j < n; j++) {
                float v = pre[r * n + j];
                f[r * n + j] = v > theta[j] ? v : 0f;
            }
    }

    /**
     * TopK then ReLU per row: keeps the k largest pre-activations (ties broken by lower index), zeroes the
     * rest, then max(·, 0). scratch has length ≥ n.
     */
    public static void topk(float[] pre, float[] f, int n, int k, float[] scratch, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * n;
            System.arraycopy(pre, o, scratch, 0, n);
            float th = kthLargest(scratch, n, k);
            int greater = 0;
            for (int j = 0; j < n; j++) if (pre[o + j] > th) greater++;
            int ties = k - greater;
            for (int j = 0; j < n; j++) {
                float v = pre[o + j];
                boolean keep = v > th || (v == th && ties-- > 0);
                f[o + j] = keep && v > 0f ? v : 0f;
            }
        }
    }

    /**
     * AuxK selection: among latents with dead[j], keeps the kAux largest raw pre-activations (no ReLU, as
     * SAELens), everything else 0; sel[r, j] = 1 where kept. scratch length ≥ n.
     */
    public static void topkDead(float[] pre, boolean[] dead, int nDead, float[] out, byte[] sel, int n, int kAux,
                                float[] scratch, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * n, m = 0;
            for (int j = 0; j < n; j++) if (dead[j]) scratch[m++] = pre[o + j];
            float th = kthLargest(scratch, nDead, kAux);
            int greater = 0;
            for (int j = 0; j < n; j++) if (dead[j] && pre[o + j] > th) greater++;
            int ties = kAux - greater;
            for (int j = 0; j < n; j++) {
                float v = pre[o + j];
                boolean keep = dead[j] && (v > th || (v == th && ties-- > 0));
                out[o + j] = keep ? v : 0f;
                sel[o + j] = (byte) (keep ? 1 : 0);
            }
        }
    }

    /** The k-th largest of a[0..n) (1-based k), by in-place quickselect (a is reordered). */
    public static float kthLargest(float[] a, int n, int k) {
        int lo = 0, hi = n - 1, target = k - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] > pivot) i++;
                while (a[j] < pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return a[target];
        }
        return a[target];
    }

    /** g[i] = act[i] > 0 ? g[i] : 0 (gradient through ReLU / TopK-ReLU, whose active set is f > 0). */
    public static void maskByActive(float[] g, float[] act, int lo, int hi) {
        for (int i = lo; i < hi; i++) if (!(act[i] > 0f)) g[i] = 0f;
    }

    /** g[i] += src[i] where sel[i] = 1. */
    public static void addSelected(float[] g, float[] src, byte[] sel, int lo, int hi) {
        for (int i = lo; i < hi; i++) if (sel[i] != 0) g[i] += src[i];
    }

    /** e[r, c] = a[r, c] − b[r, c]; rowSq[r] = Σ_c e² (double). */
    public static void diffRowSq(float[] a, float[] b, float[] e, double[] rowSq, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * d;
            double s = 0;
            for (int c = 0; c < d; c++) {
                float v = a[o + c] - b[o + c];
                e[o + c] = v;
                s += (double) v * v;
            }
            rowSq[r] = s;
        }
    }

    /** a[i] *= s, except whole rows r with (r mod T) < lossStart, which are zeroed (BOS exclusion). */
    public static void scaleMaskRows(float[] a, float s, int d, int T, int lossStart, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * d;
            float m = r % T < lossStart ? 0f : s;
            for (int c = 0; c < d; c++) a[o + c] *= m;
        }
    }

    /** a[r, j] += s · v[j] for rows counted in the loss (r mod T ≥ lossStart) and where act[r, j] > 0. */
    public static void addRowVectorActive(float[] a, float[] v, float s, float[] act, int n, int T, int lossStart,
                                          int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            if (r % T < lossStart) continue;
            int o = r * n;
            for (int j = 0; j < n; j++) if (act[o + j] > 0f) a[o + j] += s * v[j];
        }
    }

    /** out[c] = Σ_r a[r, c] for columns c in [lo, hi) (rows summed in order: deterministic). */
    public static void columnSums(float[] a, int rows, int cols, float[] out, int lo, int hi) {
        for (int c = lo; c < hi; c++) out[c] = 0f;
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int c = lo; c < hi; c++) out[c] += a[o + c];
        }
    }

    /** out[c] += s · Σ_r a[r, c]. */
    public static void addColumnSums(float[] a, int rows, int cols, float s, float[] out, int lo, int hi) {
        for (int c = lo; c < hi; c++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) acc += a[r * cols + c];
            out[c] += s * acc;
        }
    }

    /** out[i] += s · Σ_j W[i, j] · v[j] for rows i in [lo, hi) of W [rows, n]. */
    public static void addMatVec(float[] w, float[] v, int n, float s, float[] out, int lo, int hi) {
        for (int i = lo; i < hi; i++) {
            float acc = 0f;
            for (int j = 0; j < n; j++) acc += w[i * n + j] * v[j];
            out[i] += s * acc;
        }
    }

    /** norms[r] = ‖W[r, ·]‖₂. */
    public static void rowNorms(float[] w, int d, float[] norms, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            double s = 0;
            for (int c = 0; c < d; c++) s += (double) w[r * d + c] * w[r * d + c];
            norms[r] = (float) Math.sqrt(s);
        }
    }

    /** g[r] += s · colSum[r] · W[r] / norms[r] (gradient of Σ_r f_rj ‖W_j‖ w.r.t. W_j). */
    public static void addScaledRowsByNorm(float[] g, float[] w, float[] colSum, float[] norms, float s, int d,
                                           int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            if (norms[r] == 0f) continue;
            float a = s * colSum[r] / norms[r];
            for (int c = 0; c < d; c++) g[r * d + c] += a * w[r * d + c];
        }
    }

    /** g[r] −= (g[r]·W[r] / ‖W[r]‖²) · W[r]: removes the gradient component parallel to each row. */
    public static void projectOutParallel(float[] g, float[] w, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            double dot = 0, nn = 0;
            for (int c = 0; c < d; c++) {
                dot += (double) g[r * d + c] * w[r * d + c];
                nn += (double) w[r * d + c] * w[r * d + c];
            }
            if (nn == 0) continue;
            float a = (float) (dot / nn);
            for (int c = 0; c < d; c++) g[r * d + c] -= a * w[r * d + c];
        }
    }

    /** W[r] /= ‖W[r]‖. */
    public static void normalizeRows(float[] w, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            double s = 0;
            for (int c = 0; c < d; c++) s += (double) w[r * d + c] * w[r * d + c];
            if (s == 0) continue;
            float inv = (float) (1.0 / Math.sqrt(s));
            for (int c = 0; c < d; c++) w[r * d + c] *= inv;
        }
    }

    /** u[r] = W[r] / norms[r] (zero rows stay zero). */
    public static void unitRows(float[] w, float[] norms, float[] u, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            float inv = norms[r] == 0f ? 0f : 1f / norms[r];
            for (int c = 0; c < d; c++) u[r * d + c] = w[r * d + c] * inv;
        }
    }

    /** Separation penalty φ(c) = relu(|c| − m)² (m = 0: c²). */
    public static double sepPhi(double c, double m) {
        double a = Math.abs(c) - m;
        return a > 0 ? a * a : 0;
    }

    /** φ'(c) = 2·relu(|c| − m)·sign(c). */
    public static double sepDPhi(double c, double m) {
        double a = Math.abs(c) - m;
        return a > 0 ? 2 * a * Math.signum(c) : 0;
    }

    /**
     * Exact separation loss from the Gram matrix G = U·Uᵀ [n, n]: returns Σ_{i≠j} φ(G_ij) over rows
     * [lo, hi) and overwrites G with dφ/dG (diagonal 0) scaled by s.
     */
    public static double sepGram(float[] g, int n, double m, float s, int lo, int hi) {
        double sum = 0;
        for (int i = lo; i < hi; i++) {
            for (int j = 0; j < n; j++) {
                int o = i * n + j;
                if (i == j) {
                    g[o] = 0f;
                    continue;
                }
                double c = g[o];
                sum += sepPhi(c, m);
                g[o] = (float) (s * sepDPhi(c, m));
            }
        }
        return sum;
    }

    /**
     * Gradient of a loss L(U) with U = W / ‖W‖ row-wise: dW[r] += (dU[r] − (dU[r]·u[r]) u[r]) / ‖W[r]‖.
     */
    public static void backUnitRows(float[] du, float[] u, float[] norms, float[] dw, int d, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            if (norms[r] == 0f) continue;
            double dot = 0;
            for (int c = 0; c < d; c++) dot += (double) du[r * d + c] * u[r * d + c];
            float inv = 1f / norms[r];
            for (int c = 0; c < d; c++) dw[r * d + c] += (du[r * d + c] - (float) dot * u[r * d + c]) * inv;
        }
    }

    /** Σ_i a[i]² in double over [lo, hi). */
    public static double sumSq(float[] a, int lo, int hi) {
        double s = 0;
        for (int i = lo; i < hi; i++) s += (double) a[i] * a[i];
        return s;
    }

    /** a[i] *= s. */
    public static void scale(float[] a, float s, int lo, int hi) {
        for (int i = lo; i < hi; i++) a[i] *= s;
    }

    /**
     * Adam: m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= lr · (m / bc1) / (sqrt(v / bc2) + eps),
     * with bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t.
     */
    public static void adam(float[] p, float[] g, float[] m, float[] v, float lr, float b1, float b2, float eps,
                            float bc1, float bc2, int lo, int hi) {
        for (int i = lo; i < hi; i++) {
            float gi = g[i];
            float mi = b1 * m[i] + (1f - b1) * gi;
            float vi = b2 * v[i] + (1f - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= lr * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + eps);
        }
    }

    // ---- sparse products (used when the latent activations are sparse) ----

    /** cnt[r] = number of non-zero entries of row r of a [rows, n]. */
    public static void countNonZero(float[] a, int n, int[] cnt, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int c = 0;
            for (int j = r * n; j < (r + 1) * n; j++) if (a[j] != 0f) c++;
            cnt[r] = c;
        }
    }

    /** CSR fill: for each row r, the non-zero (j, a[r, j]) in ascending j at start[r]... */
    public static void gatherNonZero(float[] a, int n, int[] start, int[] idx, float[] val, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int e = start[r];
            for (int j = 0; j < n; j++) {
                float v = a[r * n + j];
                if (v != 0f) {
                    idx[e] = j;
                    val[e] = v;
                    e++;
                }
            }
        }
    }

    /** out[r] (+)= Σ_{e ∈ row r} val[e] · B[idx[e], ·] for rows [lo, hi) (B rows of length d). */
    public static void spmmRows(int[] start, int[] idx, float[] val, float[] b, int d, float[] out, boolean accumulate,
                                int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int o = r * d;
            if (!accumulate) for (int c = 0; c < d; c++) out[o + c] = 0f;
            for (int e = start[r]; e < start[r + 1]; e++) {
                float v = val[e];
                int bo = idx[e] * d;
                for (int c = 0; c < d; c++) out[o + c] += v * b[bo + c];
            }
        }
    }

    /**
     * Column-wise product for columns j in [lo, hi) of a CSC matrix S [rows, n]:
     * out[j] (+)= Σ_{e ∈ column j} cval[e] · A[rowIdx[e], ·] — i.e. Sᵀ·A, rows in ascending order.
     */
    public static void spmmCols(int[] colStart, int[] rowIdx, float[] cval, float[] a, int d, float[] out,
                                boolean accumulate, int lo, int hi) {
        for (int j = lo; j < hi; j++) {
            int o = j * d;
            if (!accumulate) for (int c = 0; c < d; c++) out[o + c] = 0f;
            for (int e = colStart[j]; e < colStart[j + 1]; e++) {
                float v = cval[e];
                int ao = rowIdx[e] * d;
                for (int c = 0; c < d; c++) out[o + c] += v * a[ao + c];
            }
        }
    }

    /** Sampled product: out[e] = A[r, ·] · B[idx[e], ·] for the entries e of rows [lo, hi). */
    public static void sampledDot(int[] start, int[] idx, float[] a, float[] b, int d, float[] out, int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            int ao = r * d;
            for (int e = start[r]; e < start[r + 1]; e++) {
                int bo = idx[e] * d;
                float s = 0f;
                for (int c = 0; c < d; c++) s += a[ao + c] * b[bo + c];
                out[e] = s;
            }
        }
    }

    /** dst[c, r] = src[r, c] for source rows [lo, hi) of src [rows, cols]. */
    public static void transpose(float[] src, int rows, int cols, float[] dst, int lo, int hi) {
        for (int r0 = lo; r0 < hi; r0 += 16) {
            int r1 = Math.min(hi, r0 + 16);
            for (int c0 = 0; c0 < cols; c0 += 64) {
                int c1 = Math.min(cols, c0 + 64);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
            }
        }
    }
}
