package msts.sae;

import msts.engine.Ops;

/** TopK SAE: f = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = f·W_dec + b_dec. */
public final class TopKSae extends AbstractSae {
    public TopKSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, null, ops);
    }
}
