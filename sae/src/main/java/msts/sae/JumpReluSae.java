package msts.sae;

import msts.engine.Ops;

/** JumpReLU SAE (loading only, e.g. Gemma Scope in SAELens layout): f = pre · (pre > threshold). */
public final class JumpReluSae extends AbstractSae {
    public JumpReluSae(SaeConfig cfg, SaeParams params, float[] threshold, Ops ops) {
        super(cfg, params, threshold, ops);
    }
}
