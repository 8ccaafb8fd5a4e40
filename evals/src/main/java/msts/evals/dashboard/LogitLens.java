package msts.evals.dashboard;

import java.util.Arrays;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.engine.Tensor;

/**
 * The output tokens a latent promotes and suppresses through the direct path: the logit effect of latent j
 * on token v is {@code W_dec[j] · W_U[:, v]}, with W_U the model's (tied) embedding table E [vocab, d]:
 * {@code L = W_dec · Eᵀ} [d_sae, vocab] (docs/features.md). Gemma-2's final RMSNorm and the logit soft-cap
 * are left out, as sae_vis and Neuronpedia do (the soft-cap is monotone, so it would not change the ranking).
 * Computed in blocks (latents × a vocabulary chunk, widened to F32) so memory stays bounded; each latent
 * keeps its m largest and m smallest entries (ties to the lower token id).
 */
public final class LogitLens {
    private LogitLens() {}

    /** Per latent j: ids/values of the m most promoted (descending) and m most suppressed (ascending) tokens, [j·m + i]. */
    public record Result(int m, int[] topIds, float[] topValues, int[] bottomIds, float[] bottomValues) {}

    public static Result compute(float[] wDec, int nLatents, int d, Tensor embed, int m, Ops ops) {
        if (embed.rank() != 2 || embed.dim(1) != d)
            throw new IllegalArgumentException("embedding " + Arrays.toString(embed.shape()) + " does not match the SAE's d_in " + d);
        int vocab = Math.toIntExact(embed.dim(0));
        m = Math.min(m, vocab);
        int vc = Math.min(vocab, 4096), lb = Math.max(1, Math.min(nLatents, (1 << 23) / vc));
        float[] e = new float[vc * d], c = new float[lb * vc];
        float[] topV = new float[nLatents * m], botV = new float[nLatents * m];
        int[] topI = new int[nLatents * m], botI = new int[nLatents * m], filled = new int[nLatents];
        float[] topMin = new float[nLatents], botMin = new float[nLatents]; // the kept minimum once m are kept
        for (int v0 = 0; v0 < vocab; v0 += vc) {
            int nv = Math.min(vc, vocab - v0);
            embed.copyRowsTo(v0, v0 + nv, e);
            for (int l0 = 0; l0 < nLatents; l0 += lb) {
                int nl = Math.min(lb, nLatents - l0);
                ops.gemm(false, true, nl, nv, d, 1f, wDec, l0 * d, d, e, 0, d, 0f, c, 0, nv);
                int base = l0, vBase = v0, mm = m;
                Parallel.forRange(0, nl, 16, (lo, hi) -> {
                    for (int r = lo; r < hi; r++) {
                        int j = base + r;
                        for (int t = 0; t < nv; t++) {
                            float x = c[r * nv + t];
                            if (filled[j] < mm) {
                                keep(topV, topI, j, mm, filled[j], x, vBase + t);
                                keep(botV, botI, j, mm, filled[j], -x, vBase + t);
                                if (++filled[j] == mm) {
                                    topMin[j] = min(topV, j, mm);
                                    botMin[j] = min(botV, j, mm);
                                }
                            } else {
                                if (x > topMin[j]) topMin[j] = keep(topV, topI, j, mm, mm, x, vBase + t);
                                if (-x > botMin[j]) botMin[j] = keep(botV, botI, j, mm, mm, -x, vBase + t);
                            }
                        }
                    }
                });
            }
        }
        for (int j = 0; j < nLatents; j++) {
            sortDesc(topV, topI, j, m);
            sortDesc(botV, botI, j, m);
            for (int i = 0; i < m; i++) botV[j * m + i] = -botV[j * m + i];
        }
        return new Result(m, topI, topV, botI, botV);
    }

    /**
     * Keeps the m largest (value, id) of latent j in vals/ids [j·m, j·m + m), the first {@code filled} in use;
     * ids arrive in increasing order, so a value only displaces a strictly smaller one and among equal
     * smallest values the highest id goes. Returns the new minimum kept value (once m are kept).
     */
    static float keep(float[] vals, int[] ids, int j, int m, int filled, float x, int id) {
        int o = j * m;
        if (filled < m) {
            vals[o + filled] = x;
            ids[o + filled] = id;
            return Float.NEGATIVE_INFINITY;
        }
        int w = o;
        for (int i = o + 1; i < o + m; i++)
            if (vals[i] < vals[w] || (vals[i] == vals[w] && ids[i] > ids[w])) w = i;
        if (x > vals[w]) {
            vals[w] = x;
            ids[w] = id;
        }
        return min(vals, j, m);
    }

    private static float min(float[] vals, int j, int m) {
        float v = vals[j * m];
        for (int i = j * m + 1; i < j * m + m; i++) v = Math.min(v, vals[i]);
        return v;
    }

    private static void sortDesc(float[] vals, int[] ids, int j, int m) {
        int o = j * m;
        Integer[] idx = new Integer[m];
        for (int i = 0; i < m; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> vals[o + a] != vals[o + b] ? Float.compare(vals[o + b], vals[o + a]) : Integer.compare(ids[o + a], ids[o + b]));
        float[] v = new float[m];
        int[] d = new int[m];
        for (int i = 0; i < m; i++) {
            v[i] = vals[o + idx[i]];
            d[i] = ids[o + idx[i]];
        }
        System.arraycopy(v, 0, vals, o, m);
        System.arraycopy(d, 0, ids, o, m);
    }
}
