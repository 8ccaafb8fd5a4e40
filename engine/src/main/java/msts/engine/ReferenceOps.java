package msts.engine;

/** The control implementation: every op is the plain loop in {@link Kernels}. */
public final class ReferenceOps implements Ops {
    public static final ReferenceOps INSTANCE = new ReferenceOps();

    private ReferenceOps() {}

    @Override public String name() { return "reference"; }

    @Override
    public void matmul(float[] out, float[] x, Tensor w, int rows) {
        int outDim = (int) w.dim(0), in = (int) w.dim(1);
        switch (w.dtype()) {
            case F32 -> Kernels.matmulF32(out, x, w.segment(), rows, in, outDim);
            case BF16 -> Kernels.matmulBF16(out, x, w.segment(), rows, in, outDim);
            case F16 -> Kernels.matmulF16(out, x, w.segment(), rows, in, outDim);
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        Kernels.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps) {
        Kernels.rmsNorm(out, x, w, rows, dim, eps);
    }

    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta) {
        Kernels.rope(x, rows, heads, headDim, pos0, theta);
    }

    @Override
    public void attention(float[] out, float[] q, float[] k, float[] v, int T, int heads, int kvHeads,
                          int headDim, float scale, float softcap, int window) {
        Kernels.attention(out, q, k, v, new float[T], T, heads, kvHeads, headDim, scale, softcap, window);
    }

    @Override
    public void gegluTanh(float[] out, float[] gate, float[] up, int n) {
        Kernels.gegluTanh(out, gate, up, n);
    }

    @Override
    public void gegluErf(float[] out, float[] gate, float[] up, int n) {
        Kernels.gegluErf(out, gate, up, n);
    }

    @Override
    public void softcap(float[] x, int n, float cap) {
        Kernels.softcap(x, n, cap);
    }

    @Override
    public void add(float[] acc, float[] y, int n) {
        Kernels.add(acc, y, n);
    }

    @Override
    public void addBias(float[] x, Tensor b, int rows, int dim) {
        Kernels.addBias(x, b, rows, dim);
    }

    @Override
    public void embed(float[] out, int[] ids, Tensor table, int dim, float scale) {
        Kernels.embed(out, ids, table, dim, scale);
    }
}
