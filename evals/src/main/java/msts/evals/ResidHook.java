package msts.evals;

/**
 * Called with the residual stream after each layer (resid_post) of one sequence, [T, hidden] row-major;
 * may modify it in place. Mirrors {@code Gemma2.ResidHook} so that the adapter is one line.
 */
@FunctionalInterface
public interface ResidHook {
    void apply(int layer, int seq, float[] resid, int T);
}
