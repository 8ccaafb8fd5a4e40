package msts.sae;

import msts.engine.Ops;

import java.util.Map;

/**
 * JumpReLU SAE, SAELens "jumprelu" (load and inference, e.g. Gemma Scope in SAELens layout):
 * f = pre · (pre > θ_j) with thresholds θ [d_sae] stored as tensor "threshold". No training loss yet.
 */
public class JumpReluSae extends AbstractSae {
    private final float[] threshold;

    public JumpReluSae(SaeConfig cfg, SaeParams params, Map<String, float[]> extras, Ops ops) {
        super(cfg, params, ops);
        float[] th = extras.get("threshold");
        if (th == null || th.length != n) throw new IllegalArgumentException("jumprelu SAE needs threshold [" + n + "]");
        this.threshold = th;
    }

    @Override
    protected void activate(float[] pre, float[] f, int N) {
        Par.rows(N, 16, (lo, hi) -> SaeKernels.jumpRelu(pre, threshold, f, n, lo, hi));
    }

    @Override public boolean trainable() { return false; }

    @Override public Map<String, float[]> extraTensors() { return Map.of("threshold", threshold); }

    @Override protected void penalty(Pass c) { throw new UnsupportedOperationException("JumpReLU training"); }

    @Override protected void penaltyBackward(Pass c) { throw new UnsupportedOperationException("JumpReLU training"); }
}
