package msts.sae;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Optimiser and schedule settings of a training run (docs/sae.md, "Training"); validated here, built with
 * {@link #builder()}.
 *
 * @param lrWarmupSteps    linear LR warm-up steps; −1 = min(1000, steps/10)
 * @param lrDecayFraction  LR decays linearly to 0 over this final fraction of the steps (SAEBench: 0.2)
 * @param l1WarmupSteps    linear L1 warm-up steps; −1 = steps/20 (SAELens default)
 * @param clipNorm         global gradient-norm clip; 0 = off
 * @param checkpointEvery  checkpoint every N steps (0 = only at the end)
 * @param deadAfterTokens  a latent is dead when it has not fired for this many tokens (AuxK, summary)
 * @param normalize        scale activations to mean ‖x‖ = sqrt(d_in) (SAELens expected_average_only_in); folded on export
 * @param maxStepsThisRun  stop after this many steps of this run (0 = no limit), writing a checkpoint; resume continues
 * @param initEncoderBias  initial value of every b_enc entry (0 = standard init; benchmarks start at a given sparsity)
 * @param scalingBatches   batches used to estimate the scaling factor
 * @param products         dense or sparse decoder/backward products (formerly -Dmsts.sae.sparse)
 */
public record TrainConfig(long totalTokens, float lr, int lrWarmupSteps, float lrDecayFraction, int l1WarmupSteps,
                          float clipNorm, float beta1, float beta2, float adamEps, long seed, int checkpointEvery,
                          long deadAfterTokens, boolean normalize, long maxStepsThisRun, float initEncoderBias,
                          int scalingBatches, SparsePolicy products) {
    public TrainConfig {
        if (totalTokens <= 0) throw new IllegalArgumentException("total tokens must be positive (got " + totalTokens + ")");
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rate must be positive (got " + lr + ")");
        if (lrDecayFraction < 0 || lrDecayFraction > 1) throw new IllegalArgumentException("LR decay fraction must be in [0, 1] (got " + lrDecayFraction + ")");
        if (clipNorm < 0) throw new IllegalArgumentException("clip norm must be ≥ 0 (got " + clipNorm + ")");
        if (checkpointEvery < 0 || maxStepsThisRun < 0) throw new IllegalArgumentException("checkpoint interval and max steps must be ≥ 0");
        if (products == null) products = SparsePolicy.AUTO;
    }

    public long steps(int tokensPerStep) {
        return Math.max(1, totalTokens / tokensPerStep);
    }

    /** The keys written to summary.json and the checkpoint's trainer_state.json. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total_tokens", totalTokens);
        m.put("lr", lr);
        m.put("lr_warm_up_steps", lrWarmupSteps);
        m.put("lr_decay_fraction", lrDecayFraction);
        m.put("l1_warm_up_steps", l1WarmupSteps);
        m.put("clip_norm", clipNorm);
        m.put("adam_beta1", beta1);
        m.put("adam_beta2", beta2);
        m.put("adam_eps", adamEps);
        m.put("seed", seed);
        m.put("checkpoint_every", checkpointEvery);
        m.put("dead_after_tokens", deadAfterTokens);
        m.put("normalize_activations", normalize);
        return m;
    }

    public static Builder builder() { return new Builder(); }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.totalTokens = totalTokens; b.lr = lr; b.lrWarmupSteps = lrWarmupSteps; b.lrDecayFraction = lrDecayFraction;
        b.l1WarmupSteps = l1WarmupSteps; b.clipNorm = clipNorm; b.beta1 = beta1; b.beta2 = beta2; b.adamEps = adamEps;
        b.seed = seed; b.checkpointEvery = checkpointEvery; b.deadAfterTokens = deadAfterTokens; b.normalize = normalize;
        b.maxStepsThisRun = maxStepsThisRun; b.initEncoderBias = initEncoderBias; b.scalingBatches = scalingBatches;
        b.products = products;
        return b;
    }

    /** Builder with the defaults of msts train. */
    public static final class Builder {
        private long totalTokens = 1_000_000;
        private float lr = 3e-4f;
        private int lrWarmupSteps = -1;
        private float lrDecayFraction = 0.2f;
        private int l1WarmupSteps = -1;
        private float clipNorm = 0f;
        private float beta1 = 0.9f, beta2 = 0.999f, adamEps = 1e-8f;
        private long seed = 42;
        private int checkpointEvery = 0;
        private long deadAfterTokens = 10_000_000L;
        private boolean normalize = true;
        private long maxStepsThisRun = 0;
        private float initEncoderBias = 0f;
        private int scalingBatches = 10;
        private SparsePolicy products = SparsePolicy.AUTO;

        private Builder() {}

        public Builder totalTokens(long v) { totalTokens = v; return this; }
        public Builder lr(float v) { lr = v; return this; }
        public Builder lrWarmupSteps(int v) { lrWarmupSteps = v; return this; }
        public Builder lrDecayFraction(float v) { lrDecayFraction = v; return this; }
        public Builder l1WarmupSteps(int v) { l1WarmupSteps = v; return this; }
        public Builder clipNorm(float v) { clipNorm = v; return this; }
        public Builder adam(float b1, float b2, float eps) { beta1 = b1; beta2 = b2; adamEps = eps; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder deadAfterTokens(long v) { deadAfterTokens = v; return this; }
        public Builder normalize(boolean v) { normalize = v; return this; }
        public Builder maxStepsThisRun(long v) { maxStepsThisRun = v; return this; }
        public Builder initEncoderBias(float v) { initEncoderBias = v; return this; }
        public Builder scalingBatches(int v) { scalingBatches = v; return this; }
        public Builder products(SparsePolicy v) { products = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(totalTokens, lr, lrWarmupSteps, lrDecayFraction, l1WarmupSteps, clipNorm, beta1, beta2,
                    adamEps, seed, checkpointEvery, deadAfterTokens, normalize, maxStepsThisRun, initEncoderBias,
                    scalingBatches, products);
        }
    }
}
