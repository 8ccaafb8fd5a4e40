package msts.sae;

/**
 * The learning-rate and L1 schedules of a run of {@code steps} steps (docs/sae.md, "Training"): LR linear
 * warm-up, constant, then linear decay to 0 over the last lrDecayFraction of the steps; L1 coefficient
 * linear warm-up from 0.
 */
public record Schedule(TrainConfig tc, float l1Coefficient, long steps) {
    /** Learning rate of step (0-based). */
    public float lr(long step) {
        int warm = tc.lrWarmupSteps() >= 0 ? tc.lrWarmupSteps() : (int) Math.min(1000, steps / 10);
        double f = warm > 0 ? Math.min(1.0, (step + 1.0) / warm) : 1.0;
        long decayStart = steps - (long) Math.floor(steps * (double) tc.lrDecayFraction());
        if (step >= decayStart && steps > decayStart) f *= (double) (steps - step) / (steps - decayStart);
        return (float) (tc.lr() * f);
    }

    /** L1 coefficient λ of step (0-based). */
    public float l1(long step) {
        long warm = tc.l1WarmupSteps() >= 0 ? tc.l1WarmupSteps() : steps / 20;
        return (float) (l1Coefficient * (warm > 0 ? Math.min(1.0, (step + 1.0) / warm) : 1.0));
    }
}
