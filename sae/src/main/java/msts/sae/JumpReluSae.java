package msts.sae;

import msts.engine.Ops;

import java.util.Map;

/**
 * JumpReLU SAE, SAELens "jumprelu": f = pre · 1[pre &gt; θ_j] (docs/sae.md, "JumpReLU training").
 * Loaded (e.g. Gemma Scope, or a trained BatchTopK SAE): θ is the tensor "threshold". Trained (SAELens
 * JumpReLUTrainingSAE, Rajamanoharan et al. 2024): θ = exp(log_threshold) with log_threshold a parameter; its
 * own loss term is L0 = λ · mean over counted rows of Σ_j H(pre − θ_j), and θ gets the straight-through
 * pseudo-gradients of JumpReLU and Step with the rectangle kernel of bandwidth ε ({@link ThresholdKernels}).
 * The L0 term is reported in the loss terms' l1 slot (the activation's sparsity penalty).
 */
public class JumpReluSae extends AbstractSae {
    private final float[] threshold;
    private final float[] dTheta;

    public JumpReluSae(SaeConfig cfg, SaeParams params, Map<String, float[]> extras, Ops ops) {
        super(cfg, params, ops);
        float[] th = extras.get("threshold");
        if (th == null && params.log_threshold.length == n) {
            th = new float[n];
            ThresholdKernels.expInto(params.log_threshold, th);
        }
        if (th == null || th.length != n) throw new IllegalArgumentException("jumprelu SAE needs threshold [" + n + "]");
        this.threshold = th;
        this.dTheta = new float[n];
    }

    /** θ = exp(log_threshold) of p when p trains the thresholds (else the loaded θ), then the shared forward. */
    @Override
    public synchronized void forward(SaeParams p, float[] x, int nSeq, int T) {
        if (p.log_threshold.length == n) ThresholdKernels.expInto(p.log_threshold, threshold);
        super.forward(p, x, nSeq, T);
    }

    /** θ of the current parameters ({@link #extraTensors}). */
    @Override
    public msts.model.gemma.SaeSplice.Encoder spliceEncoder() {
        return spliceEncoder(msts.model.gemma.SaeSplice.Act.JUMPRELU, 0, extraTensors().get("threshold"));
    }

    @Override
    protected void activate(float[] pre, float[] f, int N) {
        Par.rows(N, 16, (lo, hi) -> SaeKernels.jumpRelu(pre, threshold, f, n, lo, hi));
    }

    /** Trainable when its parameters hold log_threshold (a fresh or resumed training SAE), not when loaded. */
    @Override public boolean trainable() { return params.log_threshold.length == n; }

    /** SAELens saves θ = exp(log_threshold) as "threshold" (process_state_dict_for_saving); θ of the current parameters. */
    @Override
    public Map<String, float[]> extraTensors() {
        float[] th = threshold.clone();
        if (trainable()) ThresholdKernels.expInto(params.log_threshold, th);
        return Map.of("threshold", th);
    }

    /** L0 = λ/|M| · #{(r, j) : r counted, pre[r, j] &gt; θ_j} (λ: the scheduled coefficient in.l1()). */
    @Override
    protected void penalty(Pass c) {
        if (c.p.log_threshold.length != n) throw new UnsupportedOperationException("this JumpReLU SAE was loaded without log_threshold: no training loss");
        long above = ThresholdKernels.countAboveThreshold(pre, threshold, c.N, n, c.T, c.lossStart);
        c.l1 = c.in.l1() * (double) above / c.counted;
    }

    /** Dense products: the decoder path's θ pseudo-gradient from the full ∂L/∂f (before it is masked). */
    @Override
    protected void denseDf(Pass c, float[] df) {
        float eps = cfg.jumpReluBandwidth();
        int N = c.N;
        Par.forRange(0, n, Math.max(16, n / (Par.THREADS * 4)), (lo, hi) ->
                ThresholdKernels.jumpReluThetaGrad(pre, threshold, df, eps, N, n, dTheta, lo, hi));
    }

    /**
     * ∂L/∂pre through JumpReLU is H(pre − θ)·∂L/∂f — already in dpre (the shared backward masks by f &gt; 0, the
     * same set since θ &gt; 0); L0 adds nothing to pre. θ: JumpReLU STE (decoder path) + Step STE (L0), then
     * ∂L/∂log_threshold = θ·∂L/∂θ.
     */
    @Override
    protected void penaltyBackward(Pass c) {
        float eps = cfg.jumpReluBandwidth(), coef = c.in.l1() * c.invM;
        float[] delta = c.e, wDec = c.p.W_dec;
        int N = c.N, T = c.T, ls = c.lossStart, chunk = Math.max(16, n / (Par.THREADS * 4));
        boolean sparse = c.sparse; // dense: the decoder path's part is already in dTheta (denseDf)
        Par.forRange(0, n, chunk, (lo, hi) -> {
            if (sparse) ThresholdKernels.jumpReluThetaGradFromDelta(pre, threshold, delta, wDec, d, eps, N, n, dTheta, lo, hi);
            ThresholdKernels.stepThetaGrad(pre, threshold, eps, coef, N, n, T, ls, dTheta, lo, hi);
        });
        ThresholdKernels.logThetaGrad(threshold, dTheta, c.grad.log_threshold);
    }
}
