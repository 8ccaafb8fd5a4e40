package msts.model.train;

/**
 * Optimisation settings of one language-model training run (docs/gemma2-training.md).
 *
 * @param steps           optimizer steps of the whole schedule
 * @param batch           rows per step
 * @param lr              peak learning rate
 * @param warmup          linear warm-up steps (lr·(s+1)/warmup), then cosine decay to 0 at {@code steps}
 * @param weightDecay     AdamW decoupled weight decay (matrices and the embedding; not the RMSNorm weights)
 * @param beta1           AdamW β₁
 * @param beta2           AdamW β₂
 * @param adamEps         AdamW ε
 * @param clip            global gradient-norm clip (0 = off)
 * @param seed            initialisation and data-order seed
 * @param initStd         std of the initial weights (HF initializer_range)
 * @param checkpointEvery steps between checkpoints (0 = only at the end)
 */
public record LmTrainConfig(int steps, int batch, float lr, int warmup, float weightDecay, float beta1, float beta2,
                            float adamEps, float clip, long seed, float initStd, int checkpointEvery) {
    public LmTrainConfig {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
        if (warmup < 0) throw new IllegalArgumentException("warmup must be ≥ 0, got " + warmup);
        if (weightDecay < 0) throw new IllegalArgumentException("weight decay must be ≥ 0, got " + weightDecay);
        if (clip < 0) throw new IllegalArgumentException("clip must be ≥ 0, got " + clip);
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint interval must be ≥ 0");
    }

    /** Learning rate of (0-based) step s: linear warm-up to lr over {@code warmup} steps, then cosine to 0. */
    public double lrAt(long s) {
        if (s < warmup) return lr * (double) (s + 1) / warmup;
        double progress = steps > warmup ? (double) (s - warmup) / (steps - warmup) : 1.0;
        return lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
    }
}
