package msts.sae;

/**
 * The training step on the host arrays: the SAE's loss and gradients ({@link AbstractSae#loss}), unit-norm
 * projection of the decoder gradient, NaN/Inf check, gradient clipping, {@link Adam}, decoder renormalisation.
 * Parameters and moments are the trainer's own arrays, so {@link #syncTo} has nothing to do.
 */
public final class CpuTrainStep implements TrainStep {
    private final AbstractSae sae;
    private final SaeConfig cfg;
    private final TrainConfig tc;
    private final Adam adam;
    private final FiringTracker firing;
    private final SaeParams g;
    private final int nSeq, T, lossStart;
    private long step;

    /** sae computes on the parameters being trained; stepsDone: optimiser steps already taken (resume). */
    public CpuTrainStep(AbstractSae sae, TrainConfig tc, Adam adam, FiringTracker firing, int nSeq, int T, int lossStart, long stepsDone) {
        this.sae = sae;
        this.cfg = sae.config();
        this.tc = tc;
        this.adam = adam;
        this.firing = firing;
        this.g = sae.params().zerosLike();
        this.nSeq = nSeq;
        this.T = T;
        this.lossStart = lossStart;
        this.step = stepsDone;
    }

    /** Seed of the separation loss' pair sampling at a step (so resume samples the same pairs). */
    static long sepSeed(long seed, long step) {
        return seed * 0x9E3779B97F4A7C15L + step;
    }

    @Override
    public Metrics step(float[] x, float lr, float l1) {
        SaeParams p = sae.params();
        int d = cfg.dIn();
        var in = new AbstractSae.LossInput(lossStart, l1, cfg.auxK() ? firing.deadMask() : null, sepSeed(tc.seed(), step), tc.products());
        AbstractSae.LossTerms r = sae.loss(x, nSeq, T, in, g);
        if (!Double.isFinite(r.loss())) throw new NonFinite("loss is " + r.loss());
        if (cfg.unitNorm()) Par.rows(cfg.dSae(), 64, (lo, hi) -> SaeKernels.projectOutParallel(g.W_dec, p.W_dec, d, lo, hi));
        double gn = GradientClipping.norm(g);
        if (!Double.isFinite(gn)) throw new NonFinite("gradient norm is " + gn);
        GradientClipping.clip(g, tc.clipNorm(), gn);
        adam.step(p, g, lr, step + 1);
        if (cfg.unitNorm()) Par.rows(cfg.dSae(), 64, (lo, hi) -> SaeKernels.normalizeRows(p.W_dec, d, lo, hi));
        step++;
        return new Metrics(r.loss(), r.mse(), r.l1(), r.aux(), r.sep(), r.l0(), r.explainedVariance(), sae.fireCount());
    }

    @Override
    public void syncTo(SaeParams p, SaeParams m, SaeParams v) {}

    @Override
    public void close() {}
}
