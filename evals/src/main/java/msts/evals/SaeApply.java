package msts.evals;

import msts.model.gemma.SaeSplice;
import msts.sae.Sae;

/** Small helpers around {@link Sae} for one sequence at a time (temporal SAEs see the whole sequence). */
public final class SaeApply {
    private SaeApply() {}

    /** f = encode(x) for one sequence x [T, dIn]. */
    public static float[] encode(Sae sae, float[] x, int T) {
        float[] f = new float[T * sae.dSae()];
        sae.encode(x, 1, T, f);
        return f;
    }

    public static float[] decode(Sae sae, float[] f, int rows) {
        float[] xhat = new float[rows * sae.dIn()];
        sae.decode(f, rows, xhat);
        return xhat;
    }

    /**
     * Hook that replaces resid_post at {@code layer} by x̂ = decode(encode(x)) at positions where mask is true;
     * it carries the splice ({@link SpliceHook}, {@link SaeSplice.Mode#REPLACE}) for engines that run it on a device.
     */
    public static ResidHook splice(Sae sae, int layer, boolean[][] mask) {
        return SpliceHook.of(sae, spliceOnHost(sae, layer, mask),
                enc -> new SaeSplice(layer, enc, SaeSplice.Mode.REPLACE, mask, null, 0f));
    }

    private static ResidHook spliceOnHost(Sae sae, int layer, boolean[][] mask) {
        return (l, seq, resid, T) -> {
            if (l != layer) return;
            int d = sae.dIn();
            float[] xhat = decode(sae, encode(sae, resid, T), T);
            for (int t = 0; t < T; t++) {
                if (mask[seq][t]) System.arraycopy(xhat, t * d, resid, t * d, d);
            }
        };
    }

    /** Hook that zeroes resid_post at {@code layer} at every position (SAEBench's zero ablation). */
    public static ResidHook zeroAblate(int layer) {
        return (l, seq, resid, T) -> {
            if (l == layer) java.util.Arrays.fill(resid, 0f);
        };
    }
}
