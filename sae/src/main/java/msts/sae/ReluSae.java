package msts.sae;

import msts.engine.Ops;

/** ReLU SAE: f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec. */
public final class ReluSae extends AbstractSae {
    public ReluSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, null, ops);
    }
}
