package msts.sae;

import msts.engine.Ops;

/** Multi-Scale Temporal SAE: f = act((z)·W_enc + b_enc) with z = (x_t − b_dec) + Σ_s Σ_j conv_w[s, ·, j] ⊙ (x_{t+off(s,j)} − b_dec); see docs/sae.md. */
public final class TemporalSae extends AbstractSae {
    public TemporalSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, null, ops);
    }
}
