package msts.engine;

/**
 * The hot operations, as one interface with a plain reference implementation ({@link ReferenceOps},
 * the control) and fast ones (the Vector API CPU backend; TornadoVM in its own module). Every
 * implementation is tested against the reference. Model code receives an {@code Ops} and never branches
 * on which one it is.
 */
public interface Ops {
    String name();

    /** out[r, o] = Σ_i x[r, i] · w[o, i]; x [rows, in] F32, w [outDim, in] in F32/BF16/F16. */
    void matmul(float[] out, float[] x, Tensor w, int rows);

    /** C = alpha·op(A)·op(B) + beta·C, row-major F32 (see {@link Kernels#gemm}). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc);

    /** Gemma RMSNorm over rows of {@code dim} (see {@link Kernels#rmsNorm}). out may alias x. */
    void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps);

    /** Half-split RoPE in place, row r at position pos0 + r (see {@link Kernels#rope}). */
    void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta);

    /** Causal GQA attention with soft-cap and optional sliding window (see {@link Kernels#attention}). */
    void attention(float[] out, float[] q, float[] k, float[] v, int T, int heads, int kvHeads, int headDim,
                   float scale, float softcap, int window);

    /** out[i] = geluTanh(gate[i]) · up[i] (see {@link Kernels#gegluTanh}). out may alias gate. */
    void gegluTanh(float[] out, float[] gate, float[] up, int n);

    /** out[i] = geluErf(gate[i]) · up[i], the exact GELU (see {@link Kernels#gegluErf}). out may alias gate. */
    void gegluErf(float[] out, float[] gate, float[] up, int n);

    /** x ← cap·tanh(x/cap) in place (see {@link Kernels#softcap}). */
    void softcap(float[] x, int n, float cap);

    /** Residual add acc[i] += y[i] (see {@link Kernels#add}). */
    void add(float[] acc, float[] y, int n);

    /** Bias add x[r, i] += b[i] over rows of {@code dim} (see {@link Kernels#addBias}). */
    void addBias(float[] x, Tensor b, int rows, int dim);

    /** Embedding lookup out[r, ·] = table[ids[r], ·]·scale (see {@link Kernels#embed}). */
    void embed(float[] out, int[] ids, Tensor table, int dim, float scale);

    /** C = A·B for row-major [m,k]·[k,n] (shorthand). */
    default void gemmNN(int m, int n, int k, float[] a, float[] b, float[] c) {
        gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
    }

    static Ops reference() { return ReferenceOps.INSTANCE; }
}
