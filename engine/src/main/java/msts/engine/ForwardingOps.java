package msts.engine;

/**
 * Ops that hand every operation to a base {@link Ops}: the starting point of a backend that changes only some
 * of them (e.g. {@code --compute bf16} changes the matmul, a device backend the operations it offloads) and
 * overrides just those.
 */
public abstract class ForwardingOps implements Ops {
    protected final Ops base;

    protected ForwardingOps(Ops base) {
        this.base = java.util.Objects.requireNonNull(base, "base");
    }

    /** The ops every operation not overridden runs on. */
    public Ops base() { return base; }

    @Override
    public String name() { return base.name(); }

    @Override
    public void matmul(float[] out, float[] x, Tensor w, int rows) {
        base.matmul(out, x, w, rows);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        base.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps) {
        base.rmsNorm(out, x, w, rows, dim, eps);
    }

    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta) {
        base.rope(x, rows, heads, headDim, pos0, theta);
    }

    @Override
    public void attention(float[] out, float[] q, float[] k, float[] v, int T, int heads, int kvHeads, int headDim,
                          float scale, float softcap, int window) {
        base.attention(out, q, k, v, T, heads, kvHeads, headDim, scale, softcap, window);
    }

    @Override
    public void gegluTanh(float[] out, float[] gate, float[] up, int n) {
        base.gegluTanh(out, gate, up, n);
    }

    @Override
    public void gegluErf(float[] out, float[] gate, float[] up, int n) {
        base.gegluErf(out, gate, up, n);
    }

    @Override
    public void softcap(float[] x, int n, float cap) {
        base.softcap(x, n, cap);
    }

    @Override
    public void add(float[] acc, float[] y, int n) {
        base.add(acc, y, n);
    }

    @Override
    public void addBias(float[] x, Tensor b, int rows, int dim) {
        base.addBias(x, b, rows, dim);
    }

    @Override
    public void embed(float[] out, int[] ids, Tensor table, int dim, float scale) {
        base.embed(out, ids, table, dim, scale);
    }
}
