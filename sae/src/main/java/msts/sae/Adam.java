package msts.sae;

/**
 * Adam with bias correction (docs/sae.md, "Training"): per element {@link SaeKernels#adam}, with
 * bc1 = 1 − β1^t, bc2 = 1 − β2^t at step t (1-based). The moments m, v are kept here.
 */
public final class Adam {
    private final float beta1, beta2, eps;
    private final SaeParams m, v;

    public Adam(TrainConfig tc, SaeParams m, SaeParams v) {
        this.beta1 = tc.beta1();
        this.beta2 = tc.beta2();
        this.eps = tc.adamEps();
        this.m = m;
        this.v = v;
    }

    public SaeParams m() { return m; }

    public SaeParams v() { return v; }

    /** p −= lr · m̂ / (sqrt(v̂) + eps) for gradient g at step t ≥ 1. */
    public void step(SaeParams p, SaeParams g, float lr, long t) {
        float bc1 = (float) (1 - Math.pow(beta1, t)), bc2 = (float) (1 - Math.pow(beta2, t));
        float[][] pa = p.arrays(), ga = g.arrays(), ma = m.arrays(), va = v.arrays();
        for (int i = 0; i < pa.length; i++) {
            float[] pp = pa[i], gg = ga[i], mm = ma[i], vv = va[i];
            Par.forRange(0, pp.length, 1 << 15, (lo, hi) ->
                    SaeKernels.adam(pp, gg, mm, vv, lr, beta1, beta2, eps, bc1, bc2, lo, hi));
        }
    }
}
