package msts.sae;

/** Tokens since each latent last fired; a latent is dead after deadAfterTokens silent tokens (AuxK, summary). */
public final class FiringTracker {
    private final long[] sinceFired;
    private final long deadAfter;
    private final boolean[] dead;

    public FiringTracker(long[] sinceFired, long deadAfterTokens) {
        this.sinceFired = sinceFired;
        this.deadAfter = deadAfterTokens;
        this.dead = new boolean[sinceFired.length];
    }

    /** After a step of perStep counted tokens where latent j fired on fired[j] rows. */
    public void update(int[] fired, int perStep) {
        for (int j = 0; j < sinceFired.length; j++) sinceFired[j] = fired[j] > 0 ? 0 : sinceFired[j] + perStep;
    }

    /** The dead mask (reused array, valid until the next call). */
    public boolean[] deadMask() {
        for (int j = 0; j < dead.length; j++) dead[j] = sinceFired[j] >= deadAfter;
        return dead;
    }

    /** Number of latents silent for at least window tokens. */
    public int silentFor(long window) {
        int c = 0;
        for (long f : sinceFired) if (f >= window) c++;
        return c;
    }

    public int dead() { return silentFor(deadAfter); }

    /** The counters (not a copy; checkpoints write them). */
    public long[] sinceFired() { return sinceFired; }
}
