package msts.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * TornadoVM kernels of the TopK and BatchTopK activations: exact selection of the k largest values with ties
 * broken by lower index, the device ports of {@code msts.sae.SaeKernels.topk} and
 * {@code msts.sae.ThresholdKernels.batchTopK} (formulas: docs/sae.md).
 *
 * <p>Selection without sorting and without reinterpreting float bits (TornadoVM 5.2's OpenCL backend has no
 * bit casts): the k-th largest value θ is found by bisection on values with the invariant
 * count(x ≥ lo) ≥ k &gt; count(x ≥ hi); every count is a work-group reduction in local memory. The loop stops
 * when no float lies strictly between lo and hi, so every value in [lo, hi) equals lo and θ = lo — exact,
 * in at most a few hundred counts (typically 25–40 for θ away from 0). Then x &gt; θ is kept, and of the
 * x = θ the first (k − count(x &gt; θ)) in index order: each work-item owns a contiguous chunk, counts its
 * ties, and an exclusive prefix over the chunks says how many ties come before it.
 * All loop conditions derive from local-memory results read by every work-item, so barriers stay uniform.
 */
public final class TopKKernelsGpu {
    private TopKKernelsGpu() {}

    static final int WG = LayerKernels.WG;
    /** Bisection steps at most (more than the 2·254 + 23 binades and mantissa bits of any float interval need). */
    static final int MAX_STEPS = 600;

    /**
     * TopK then ReLU per row of pre [rows, n]: f keeps the k largest pre-activations of the row (ties by lower
     * index), the rest 0, then max(·, 0). One work-group of {@link #WG} per row ({@link Grids#groupPerItem}).
     * Reference: {@code SaeKernels.topk}.
     */
    public static void topkRows(KernelContext ctx, FloatArray pre, FloatArray f, int n, int k) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        int o = r * n;
        int kk = k < n ? k : n;
        float[] ra = ctx.allocateFloatLocalArray(WG);
        float[] rb = ctx.allocateFloatLocalArray(WG);
        int[] ia = ctx.allocateIntLocalArray(WG);
        int[] ib = ctx.allocateIntLocalArray(WG);
        // min and max of the row
        float mn = pre.get(o);
        float mx = mn;
        for (int j = lid; j < n; j += WG) {
            float v = pre.get(o + j);
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        ra[lid] = mn;
        rb[lid] = mx;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                ra[lid] = ra[lid + st] < ra[lid] ? ra[lid + st] : ra[lid];
                rb[lid] = rb[lid + st] > rb[lid] ? rb[lid + st] : rb[lid];
            }
        }
        ctx.localBarrier();
        float lo = ra[0];
        float hi = rb[0];
        ctx.localBarrier();
        // θ = hi when at least k values equal the maximum; else bisect [lo, hi)
        int cnt = 0;
        for (int j = lid; j < n; j += WG) cnt += pre.get(o + j) >= hi ? 1 : 0;
        ia[lid] = cnt;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int atMax = ia[0];
        ctx.localBarrier();
        float th = hi;
        if (atMax < kk) {
            for (int step = 0; step < MAX_STEPS; step++) {
                float mid = lo * 0.5f + hi * 0.5f;
                if (mid <= lo || mid >= hi) break;
                int c = 0;
                for (int j = lid; j < n; j += WG) c += pre.get(o + j) >= mid ? 1 : 0;
                ia[lid] = c;
                for (int st = WG / 2; st > 0; st >>= 1) {
                    ctx.localBarrier();
                    if (lid < st) ia[lid] += ia[lid + st];
                }
                ctx.localBarrier();
                int total = ia[0];
                ctx.localBarrier();
                if (total >= kk) lo = mid;
                else hi = mid;
            }
            th = lo;
        }
        // ties: count(x > θ) over the row, then the equal values per contiguous chunk
        int chunk = (n + WG - 1) / WG;
        int j0 = lid * chunk;
        int j1 = j0 + chunk < n ? j0 + chunk : n;
        int gt = 0;
        int eq = 0;
        for (int j = j0; j < j1; j++) {
            float v = pre.get(o + j);
            gt += v > th ? 1 : 0;
            eq += v == th ? 1 : 0;
        }
        ia[lid] = gt;
        ib[lid] = eq;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int ties = kk - ia[0];
        if (lid == 0) { // exclusive prefix of the per-chunk tie counts
            int run = 0;
            for (int q = 0; q < WG; q++) {
                int e = ib[q];
                ib[q] = run;
                run += e;
            }
        }
        ctx.localBarrier();
        int before = ib[lid];
        for (int j = j0; j < j1; j++) {
            float v = pre.get(o + j);
            boolean keep = v > th;
            if (v == th) {
                keep = before < ties;
                before++;
            }
            f.set(o + j, keep && v > 0f ? v : 0f);
        }
    }

    /**
     * BatchTopK over the counted rows of pre [rows, n] (r mod T ≥ lossStart): v = max(pre, 0); f keeps the K
     * largest v of the whole batch (ties by lower flat index), everything else — and every uncounted row — 0;
     * kept[slot] = the number of kept positive values. A single work-group of {@link #WG} (global = local = WG).
     * Reference: {@code ThresholdKernels.batchTopK}.
     */
    public static void batchTopK(KernelContext ctx, FloatArray pre, FloatArray f, int rows, int n, int T, int lossStart,
                                 int K, FloatArray kept, int slot) {
        int lid = ctx.localIdx;
        int total = rows * n;
        float[] rb = ctx.allocateFloatLocalArray(WG);
        int[] ia = ctx.allocateIntLocalArray(WG);
        int[] ib = ctx.allocateIntLocalArray(WG);
        // counted values and the maximum (all v ≥ 0, so lo = 0 satisfies count(v ≥ lo) = m)
        int m = 0;
        float mx = 0f;
        for (int i = lid; i < total; i += WG) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                float v = p > 0f ? p : 0f;
                m++;
                mx = v > mx ? v : mx;
            }
        }
        ia[lid] = m;
        rb[lid] = mx;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                ia[lid] += ia[lid + st];
                rb[lid] = rb[lid + st] > rb[lid] ? rb[lid + st] : rb[lid];
            }
        }
        ctx.localBarrier();
        int counted = ia[0];
        float hi = rb[0];
        ctx.localBarrier();
        int kk = K < counted ? K : counted;
        float lo = 0f;
        int cnt = 0;
        for (int i = lid; i < total; i += WG) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                cnt += (p > 0f ? p : 0f) >= hi ? 1 : 0;
            }
        }
        ia[lid] = cnt;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int atMax = ia[0];
        ctx.localBarrier();
        float th = hi;
        if (atMax < kk) {
            for (int step = 0; step < MAX_STEPS; step++) {
                float mid = lo * 0.5f + hi * 0.5f;
                if (mid <= lo || mid >= hi) break;
                int c = 0;
                for (int i = lid; i < total; i += WG) {
                    int r = i / n;
                    if (r % T >= lossStart) {
                        float p = pre.get(i);
                        c += (p > 0f ? p : 0f) >= mid ? 1 : 0;
                    }
                }
                ia[lid] = c;
                for (int st = WG / 2; st > 0; st >>= 1) {
                    ctx.localBarrier();
                    if (lid < st) ia[lid] += ia[lid + st];
                }
                ctx.localBarrier();
                int tot = ia[0];
                ctx.localBarrier();
                if (tot >= kk) lo = mid;
                else hi = mid;
            }
            th = lo;
        }
        int chunk = (total + WG - 1) / WG;
        int i0 = lid * chunk;
        int i1 = i0 + chunk < total ? i0 + chunk : total;
        int gt = 0;
        int eq = 0;
        for (int i = i0; i < i1; i++) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                float v = p > 0f ? p : 0f;
                gt += v > th ? 1 : 0;
                eq += v == th ? 1 : 0;
            }
        }
        ia[lid] = gt;
        ib[lid] = eq;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int ties = kk - ia[0];
        if (lid == 0) {
            int run = 0;
            for (int q = 0; q < WG; q++) {
                int e = ib[q];
                ib[q] = run;
                run += e;
            }
        }
        ctx.localBarrier();
        int before = ib[lid];
        int keptHere = 0;
        for (int i = i0; i < i1; i++) {
            int r = i / n;
            float out = 0f;
            if (r % T >= lossStart && K > 0) {
                float p = pre.get(i);
                float v = p > 0f ? p : 0f;
                boolean keep = v > th;
                if (v == th) {
                    keep = before < ties;
                    before++;
                }
                if (keep && v > 0f) out = v;
            }
            keptHere += out > 0f ? 1 : 0;
            f.set(i, out);
        }
        ctx.localBarrier();
        ia[lid] = keptHere;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        if (lid == 0) kept.set(slot, ia[0]);
    }

    /**
     * AuxK's selection per row of pre [rows, n]: among the latents with dead[j] ≠ 0, keep the kAux largest raw
     * pre-activations (no ReLU; ties by lower index), kAux = (int) hyper[kIdx] (per step: min(k_aux, n_dead));
     * aux = the kept values, 0 elsewhere; sel = 1 where kept, 0 elsewhere. kAux = 0 selects nothing. One
     * work-group of {@link #WG} per row, the bisection of {@link #topkRows} restricted to the dead latents.
     * Reference: {@code SaeKernels.topkDead}.
     */
    public static void topkDeadRows(KernelContext ctx, FloatArray pre, FloatArray dead, FloatArray hyper, int kIdx,
                                    FloatArray aux, FloatArray sel, int n) {
        int r = ctx.groupIdx;
        int lid = ctx.localIdx;
        int o = r * n;
        int kk = (int) hyper.get(kIdx);
        float[] ra = ctx.allocateFloatLocalArray(WG);
        float[] rb = ctx.allocateFloatLocalArray(WG);
        int[] ia = ctx.allocateIntLocalArray(WG);
        int[] ib = ctx.allocateIntLocalArray(WG);
        // min and max over the dead latents of the row
        float mn = 3.0e38f;
        float mx = -3.0e38f;
        for (int j = lid; j < n; j += WG) {
            if (dead.get(j) != 0f) {
                float v = pre.get(o + j);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        }
        ra[lid] = mn;
        rb[lid] = mx;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                ra[lid] = ra[lid + st] < ra[lid] ? ra[lid + st] : ra[lid];
                rb[lid] = rb[lid + st] > rb[lid] ? rb[lid + st] : rb[lid];
            }
        }
        ctx.localBarrier();
        float lo = ra[0];
        float hi = rb[0];
        ctx.localBarrier();
        int cnt = 0;
        for (int j = lid; j < n; j += WG) cnt += dead.get(j) != 0f && pre.get(o + j) >= hi ? 1 : 0;
        ia[lid] = cnt;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int atMax = ia[0];
        ctx.localBarrier();
        float th = hi;
        if (kk > 0 && atMax < kk) {
            for (int step = 0; step < MAX_STEPS; step++) {
                float mid = lo * 0.5f + hi * 0.5f;
                if (mid <= lo || mid >= hi) break;
                int c = 0;
                for (int j = lid; j < n; j += WG) c += dead.get(j) != 0f && pre.get(o + j) >= mid ? 1 : 0;
                ia[lid] = c;
                for (int st = WG / 2; st > 0; st >>= 1) {
                    ctx.localBarrier();
                    if (lid < st) ia[lid] += ia[lid + st];
                }
                ctx.localBarrier();
                int total = ia[0];
                ctx.localBarrier();
                if (total >= kk) lo = mid;
                else hi = mid;
            }
            th = lo;
        }
        int chunk = (n + WG - 1) / WG;
        int j0 = lid * chunk;
        int j1 = j0 + chunk < n ? j0 + chunk : n;
        int gt = 0;
        int eq = 0;
        for (int j = j0; j < j1; j++) {
            if (dead.get(j) != 0f) {
                float v = pre.get(o + j);
                gt += v > th ? 1 : 0;
                eq += v == th ? 1 : 0;
            }
        }
        ia[lid] = gt;
        ib[lid] = eq;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) ia[lid] += ia[lid + st];
        }
        ctx.localBarrier();
        int ties = kk - ia[0];
        if (lid == 0) {
            int run = 0;
            for (int q = 0; q < WG; q++) {
                int e = ib[q];
                ib[q] = run;
                run += e;
            }
        }
        ctx.localBarrier();
        int before = ib[lid];
        for (int j = j0; j < j1; j++) {
            float v = pre.get(o + j);
            boolean keep = false;
            if (kk > 0 && dead.get(j) != 0f) {
                keep = v > th;
                if (v == th) {
                    keep = before < ties;
                    before++;
                }
            }
            aux.set(o + j, keep ? v : 0f);
            sel.set(o + j, keep ? 1f : 0f);
        }
    }
}
