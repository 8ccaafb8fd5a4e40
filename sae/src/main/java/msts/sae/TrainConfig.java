package msts.sae;

import java.util.LinkedHashMap;
import java.util.Map;

/** Optimiser and schedule settings of a training run (docs/sae.md, "Training"). */
public final class TrainConfig {
    public long totalTokens = 1_000_000;
    public float lr = 3e-4f;
    /** Linear LR warm-up steps; −1 = min(1000, steps/10). */
    public int lrWarmupSteps = -1;
    /** LR decays linearly to 0 over this final fraction of the steps (SAEBench: 0.2). */
    public float lrDecayFraction = 0.2f;
    /** Linear L1 warm-up steps; −1 = steps/20 (SAELens default). */
    public int l1WarmupSteps = -1;
    /** Global gradient-norm clip; 0 = off. */
    public float clipNorm = 0f;
    public float beta1 = 0.9f, beta2 = 0.999f, adamEps = 1e-8f;
    public long seed = 42;
    /** Checkpoint every N steps (0 = only at the end). */
    public int checkpointEvery = 0;
    /** A latent is dead when it has not fired for this many tokens (AuxK, summary). */
    public long deadAfterTokens = 10_000_000L;
    /** Scale activations to mean ‖x‖ = sqrt(d_in) (SAELens expected_average_only_in); folded on export. */
    public boolean normalize = true;
    /** Stop after this many steps of this run (0 = no limit), writing a checkpoint; --resume continues. */
    public long maxStepsThisRun = 0;
    /** Initial value of every b_enc entry (0 = standard init; benchmarks use it to start at a given sparsity). */
    public float initEncoderBias = 0f;
    /** Batches used to estimate the scaling factor. */
    public int scalingBatches = 10;

    public long steps(int tokensPerStep) {
        return Math.max(1, totalTokens / tokensPerStep);
    }

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
}
