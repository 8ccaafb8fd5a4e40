package msts.model.train;

import msts.engine.Parallel;

/**
 * AdamW as torch.optim.AdamW computes it (decoupled weight decay): for step t ≥ 1,
 * p ← p·(1 − lr·wd) (decayed parameters only); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − (lr / (1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε). Element-wise, so splitting the index range over
 * threads does not change any bit. Also the global gradient norm and clipping (torch clip_grad_norm_).
 */
public final class AdamW {
    private final float[] m, v;
    private final int[] slotStart, slotEnd;
    private final boolean[] slotDecay;

    public AdamW(LmParams layout) {
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
        int n = layout.slots().size();
        slotStart = new int[n];
        slotEnd = new int[n];
        slotDecay = new boolean[n];
        for (int i = 0; i < n; i++) {
            LmParams.Slot s = layout.slots().get(i);
            slotStart[i] = s.offset();
            slotEnd[i] = s.offset() + s.size();
            slotDecay[i] = s.decay();
        }
    }

    public float[] m() { return m; }

    public float[] v() { return v; }

    /** One update with step number t (1-based) and learning rate lr. */
    public void step(float[] p, float[] g, long t, double lr, LmTrainConfig c) {
        double bc1 = 1 - Math.pow(c.beta1(), t), bc2 = 1 - Math.pow(c.beta2(), t);
        float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = c.beta1(), b2 = c.beta2(), eps = c.adamEps();
        for (int s = 0; s < slotStart.length; s++) {
            float keep = slotDecay[s] ? (float) (1 - lr * c.weightDecay()) : 1f;
            int lo0 = slotStart[s], hi0 = slotEnd[s];
            Parallel.forRange(lo0, hi0, 16384, (lo, hi) -> update(p, g, m, v, lo, hi, keep, b1, b2, eps, stepSize, bc2Sqrt));
        }
    }

    /** The AdamW update of elements [lo, hi). */
    static void update(float[] p, float[] g, float[] m, float[] v, int lo, int hi, float keep, float b1, float b2,
                       float eps, float stepSize, float bc2Sqrt) {
        for (int i = lo; i < hi; i++) {
            float gi = g[i];
            p[i] *= keep;
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
            p[i] -= stepSize * m[i] / denom;
        }
    }

    /** √(Σ g²), summed in double over fixed blocks of 65536 elements, blocks added in order. */
    public static double globalNorm(float[] g) {
        int block = 65536, nb = (g.length + block - 1) / block;
        double[] part = new double[nb];
        Parallel.forRange(0, nb, 1, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                double s = 0;
                for (int i = b * block, e = Math.min(g.length, i + block); i < e; i++) s += (double) g[i] * g[i];
                part[b] = s;
            }
        });
        double s = 0;
        for (double x : part) s += x;
        return Math.sqrt(s);
    }

    /** Scales g by clip/(norm + 1e-6) when that is below 1 (torch.nn.utils.clip_grad_norm_); returns the factor. */
    public static float clip(float[] g, double norm, float clip) {
        if (clip <= 0) return 1f;
        double f = clip / (norm + 1e-6);
        if (f >= 1) return 1f;
        float ff = (float) f;
        Parallel.forRange(0, g.length, 65536, (lo, hi) -> {
            for (int i = lo; i < hi; i++) g[i] *= ff;
        });
        return ff;
    }
}
