package msts.sae;

import msts.engine.Ops;

/**
 * TopK SAE, SAELens "topk": f = ReLU(TopK_k(z·W_enc + b_enc)), x̂ = f·W_dec + b_dec (z: identity or, for
 * "temporal", the dilated convolution). Its own loss term is AuxK ({@link AuxK}): the k_aux largest
 * pre-activations of the dead latents reconstruct the detached residual. docs/sae.md, "Loss".
 */
public class TopKSae extends AbstractSae {
    private final AuxK auxK;

    public TopKSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, ops);
        auxK = new AuxK(cfg, ops);
    }

    @Override
    public msts.model.gemma.SaeSplice.Encoder spliceEncoder() {
        return spliceEncoder(msts.model.gemma.SaeSplice.Act.TOPK, cfg.k(), null);
    }

    @Override
    protected void activate(float[] pre, float[] f, int N) {
        int k = cfg.k();
        Par.rows(N, 8, (lo, hi) -> SaeKernels.topk(pre, f, n, k, new float[n], lo, hi));
    }

    @Override
    protected void penalty(Pass c) {
        auxK.forward(c, pre, frozenResidual);
    }

    @Override
    protected void penaltyBackward(Pass c) {
        auxK.backward(c);
    }

    @Override
    protected void resized(int rows) {
        auxK.drop();
    }

    @Override
    protected long hashExtra(long h, int N) {
        return auxK.hash(h, N);
    }
}
