package msts.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

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

    // ---- BatchTopK over many work-groups (the GPU shape of batchTopK, same exact result) ----
    //
    // The flat array [rows·n] is cut into G contiguous chunks, one work-group each. θ (the kk-th largest v of the
    // counted rows, kk = min(K, counted)) is narrowed with the invariant count(v ≥ lo) ≥ kk > count(v ≥ hi):
    // BTK_ROUNDS rounds of a (WG−1)-interval histogram between lo and hi (edges e_i = lo + (hi − lo)·i/(WG−1),
    // e_{WG−1} = hi; per group a per-thread histogram in local memory, then one group sums the groups' bins, takes
    // the largest i with count(v ≥ e_i) ≥ kk and sets [lo, hi) = [e_i, e_{i+1}), or θ = hi when i = WG−1); then one
    // group finishes the bisection of batchTopK where floats remain between lo and hi (none after the rounds unless
    // θ is tiny next to the maximum). Ties by lower flat index: per-group counts of v > θ and v = θ, an exclusive
    // prefix over the groups, then per-thread chunks within each group as in batchTopK. Launches: 2 + 2·ROUNDS + 4.

    /** Histogram rounds before the final bisection ((WG − 1)^6 ≈ 6·10^10 narrowing). */
    static final int BTK_ROUNDS = 6;
    /** Values per work-group aimed at by {@link #batchTopKGroups}, and the most groups. */
    static final int BTK_CHUNK = 16 * WG, BTK_MAX_GROUPS = 4096;

    /** Work-groups for a batch of {@code total} values. */
    public static int batchTopKGroups(int total) {
        int g = (total + BTK_CHUNK - 1) / BTK_CHUNK;
        return Math.max(1, Math.min(BTK_MAX_GROUPS, g));
    }

    /**
     * Adds the multi-group BatchTopK to graph {@code graph} as tasks {@code prefix}…: f = BatchTopK(pre) over the
     * counted rows, kept[slot] = the number of kept positive values, exactly as {@link #batchTopK}
     * (reference: {@code ThresholdKernels.batchTopK}); {@code groups} work-groups ({@link #batchTopKGroups}).
     * Its scratch arrays are created here and live on the device.
     */
    public static TaskGraph batchTopKTasks(TaskGraph g, GridScheduler grid, String graph, String prefix, FloatArray pre,
                                           FloatArray f, int rows, int n, int T, int lossStart, int K, FloatArray kept,
                                           int slot, int groups) {
        int G = groups;
        IntArray cnt = new IntArray(G), hist = new IntArray(G * WG), gtP = new IntArray(G), eqP = new IntArray(G),
                ist = new IntArray(4);
        FloatArray mx = new FloatArray(G), st = new FloatArray(4), edges = new FloatArray(WG);
        g.transferToDevice(DataTransferMode.FIRST_EXECUTION, cnt, hist, gtP, eqP, ist, mx, st, edges);
        Grids.groupPerItem(grid, graph, prefix + "Stats", G);
        g.task(prefix + "Stats", TopKKernelsGpu::btkStats, new KernelContext(), pre, rows, n, T, lossStart, G, cnt, mx);
        Grids.groupPerItem(grid, graph, prefix + "Init", 1);
        g.task(prefix + "Init", TopKKernelsGpu::btkInit, new KernelContext(), cnt, mx, G, K, st, ist);
        for (int r = 0; r < BTK_ROUNDS; r++) {
            Grids.groupPerItem(grid, graph, prefix + "Count" + r, G);
            g.task(prefix + "Count" + r, TopKKernelsGpu::btkCount, new KernelContext(), pre, rows, n, T, lossStart, G, st, edges, hist);
            Grids.groupPerItem(grid, graph, prefix + "Narrow" + r, 1);
            g.task(prefix + "Narrow" + r, TopKKernelsGpu::btkNarrow, new KernelContext(), hist, edges, G, st, ist);
        }
        Grids.groupPerItem(grid, graph, prefix + "Finish", 1);
        g.task(prefix + "Finish", TopKKernelsGpu::btkFinish, new KernelContext(), pre, rows, n, T, lossStart, st, ist);
        Grids.groupPerItem(grid, graph, prefix + "Ties", G);
        g.task(prefix + "Ties", TopKKernelsGpu::btkTies, new KernelContext(), pre, rows, n, T, lossStart, G, st, gtP, eqP);
        Grids.groupPerItem(grid, graph, prefix + "Prefix", 1);
        g.task(prefix + "Prefix", TopKKernelsGpu::btkPrefix, new KernelContext(), G, K, gtP, eqP, st, ist, kept, slot);
        Grids.groupPerItem(grid, graph, prefix + "Write", G);
        g.task(prefix + "Write", TopKKernelsGpu::btkWrite, new KernelContext(), pre, f, rows, n, T, lossStart, K, G, st, ist, eqP);
        return g;
    }

    /** Per group: the number of counted values and the largest v = max(pre, 0) of its chunk. */
    public static void btkStats(KernelContext ctx, FloatArray pre, int rows, int n, int T, int lossStart, int groups,
                                IntArray cnt, FloatArray mx) {
        int gid = ctx.groupIdx;
        int lid = ctx.localIdx;
        int total = rows * n;
        int chunk = (total + groups - 1) / groups;
        int i0 = gid * chunk;
        int i1 = i0 + chunk < total ? i0 + chunk : total;
        int[] ia = ctx.allocateIntLocalArray(WG);
        float[] ra = ctx.allocateFloatLocalArray(WG);
        int m = 0;
        float mv = 0f;
        for (int i = i0 + lid; i < i1; i += WG) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                float v = p > 0f ? p : 0f;
                m++;
                mv = v > mv ? v : mv;
            }
        }
        ia[lid] = m;
        ra[lid] = mv;
        for (int st = WG / 2; st > 0; st >>= 1) {
            ctx.localBarrier();
            if (lid < st) {
                ia[lid] += ia[lid + st];
                ra[lid] = ra[lid + st] > ra[lid] ? ra[lid + st] : ra[lid];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            cnt.set(gid, ia[0]);
            mx.set(gid, ra[0]);
        }
    }

    /** One group: counted = Σ cnt, hi = max, lo = 0; ist = {kk = min(K, counted), counted}. */
    public static void btkInit(KernelContext ctx, IntArray cnt, FloatArray mx, int groups, int K, FloatArray st, IntArray ist) {
        int lid = ctx.localIdx;
        int[] ia = ctx.allocateIntLocalArray(WG);
        float[] ra = ctx.allocateFloatLocalArray(WG);
        int m = 0;
        float mv = 0f;
        for (int q = lid; q < groups; q += WG) {
            m += cnt.get(q);
            float v = mx.get(q);
            mv = v > mv ? v : mv;
        }
        ia[lid] = m;
        ra[lid] = mv;
        for (int s = WG / 2; s > 0; s >>= 1) {
            ctx.localBarrier();
            if (lid < s) {
                ia[lid] += ia[lid + s];
                ra[lid] = ra[lid + s] > ra[lid] ? ra[lid + s] : ra[lid];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            int counted = ia[0];
            st.set(0, 0f);
            st.set(1, ra[0]);
            st.set(2, 0f);
            ist.set(0, K < counted ? K : counted);
            ist.set(1, counted);
        }
    }

    /**
     * Per group: a histogram of its counted v ≥ lo over the edges e_0..e_{WG−1} (bin i: e_i ≤ v, largest such i),
     * into hist[group·WG + i]; group 0 also writes the edges (so the narrowing reads exactly these values).
     */
    public static void btkCount(KernelContext ctx, FloatArray pre, int rows, int n, int T, int lossStart, int groups,
                                FloatArray st, FloatArray edges, IntArray hist) {
        int gid = ctx.groupIdx;
        int lid = ctx.localIdx;
        int total = rows * n;
        int chunk = (total + groups - 1) / groups;
        int i0 = gid * chunk;
        int i1 = i0 + chunk < total ? i0 + chunk : total;
        float[] el = ctx.allocateFloatLocalArray(WG);
        int[] h = ctx.allocateIntLocalArray(WG * WG);
        float lo = st.get(0);
        float hi = st.get(1);
        float e = lo + (hi - lo) * ((float) lid / (float) (WG - 1));
        e = e > hi ? hi : e;
        el[lid] = lid == WG - 1 ? hi : e;
        for (int b = 0; b < WG; b++) h[lid * WG + b] = 0;
        ctx.localBarrier();
        if (gid == 0) edges.set(lid, el[lid]);
        for (int i = i0 + lid; i < i1; i += WG) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                float v = p > 0f ? p : 0f;
                if (v >= el[0]) {
                    int a = 0;
                    int c = WG - 1;
                    while (a < c) {
                        int mid = (a + c + 1) / 2;
                        if (el[mid] <= v) a = mid;
                        else c = mid - 1;
                    }
                    h[lid * WG + a] += 1;
                }
            }
        }
        ctx.localBarrier();
        int sum = 0;
        for (int t = 0; t < WG; t++) sum += h[t * WG + lid];
        hist.set(gid * WG + lid, sum);
    }

    /** One group: bins summed over the groups; the largest i with count(v ≥ e_i) ≥ kk gives [lo, hi) = [e_i, e_{i+1}). */
    public static void btkNarrow(KernelContext ctx, IntArray hist, FloatArray edges, int groups, FloatArray st, IntArray ist) {
        int lid = ctx.localIdx;
        int[] ia = ctx.allocateIntLocalArray(WG);
        int sum = 0;
        for (int q = 0; q < groups; q++) sum += hist.get(q * WG + lid);
        ia[lid] = sum;
        ctx.localBarrier();
        if (lid == 0) {
            int kk = ist.get(0);
            if (kk > 0) {
                int above = 0;
                int pick = -1;
                for (int i = WG - 1; i >= 0 && pick < 0; i--) {
                    above += ia[i];
                    if (above >= kk) pick = i;
                }
                if (pick >= 0) { // always, by the invariant count(v ≥ lo) ≥ kk
                    float nlo = edges.get(pick);
                    float nhi = pick == WG - 1 ? nlo : edges.get(pick + 1);
                    st.set(0, nlo);
                    st.set(1, nhi);
                }
            }
        }
    }

    /** One group: the rest of the bisection of {@link #batchTopK} in [lo, hi) (usually none); θ = lo into st[2]. */
    public static void btkFinish(KernelContext ctx, FloatArray pre, int rows, int n, int T, int lossStart, FloatArray st,
                                 IntArray ist) {
        int lid = ctx.localIdx;
        int total = rows * n;
        int[] ia = ctx.allocateIntLocalArray(WG);
        float lo = st.get(0);
        float hi = st.get(1);
        int kk = ist.get(0);
        if (kk > 0) {
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
                for (int s = WG / 2; s > 0; s >>= 1) {
                    ctx.localBarrier();
                    if (lid < s) ia[lid] += ia[lid + s];
                }
                ctx.localBarrier();
                int tot = ia[0];
                ctx.localBarrier();
                if (tot >= kk) lo = mid;
                else hi = mid;
            }
        }
        if (lid == 0) st.set(2, lo);
    }

    /** Per group: counted values of its chunk with v &gt; θ and with v = θ. */
    public static void btkTies(KernelContext ctx, FloatArray pre, int rows, int n, int T, int lossStart, int groups,
                               FloatArray st, IntArray gtP, IntArray eqP) {
        int gid = ctx.groupIdx;
        int lid = ctx.localIdx;
        int total = rows * n;
        int chunk = (total + groups - 1) / groups;
        int i0 = gid * chunk;
        int i1 = i0 + chunk < total ? i0 + chunk : total;
        int[] ia = ctx.allocateIntLocalArray(WG);
        int[] ib = ctx.allocateIntLocalArray(WG);
        float th = st.get(2);
        int gt = 0;
        int eq = 0;
        for (int i = i0 + lid; i < i1; i += WG) {
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
        for (int s = WG / 2; s > 0; s >>= 1) {
            ctx.localBarrier();
            if (lid < s) {
                ia[lid] += ia[lid + s];
                ib[lid] += ib[lid + s];
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            gtP.set(gid, ia[0]);
            eqP.set(gid, ib[0]);
        }
    }

    /**
     * One group: eqP ← its exclusive prefix over the groups; ist[2] = ties to keep = kk − count(v &gt; θ);
     * kept[slot] = kk when θ &gt; 0, else count(v &gt; 0) (0 when K ≤ 0 or nothing counted).
     */
    public static void btkPrefix(KernelContext ctx, int groups, int K, IntArray gtP, IntArray eqP, FloatArray st,
                                 IntArray ist, FloatArray kept, int slot) {
        int lid = ctx.localIdx;
        if (lid == 0) {
            int gt = 0;
            int run = 0;
            for (int q = 0; q < groups; q++) {
                gt += gtP.get(q);
                int e = eqP.get(q);
                eqP.set(q, run);
                run += e;
            }
            int kk = ist.get(0);
            ist.set(2, kk - gt);
            float th = st.get(2);
            int k = K > 0 && kk > 0 ? (th > 0f ? kk : gt) : 0;
            kept.set(slot, k);
        }
    }

    /** Per group: f over its chunk (contiguous per-thread parts; ties before them from eqP and a local prefix). */
    public static void btkWrite(KernelContext ctx, FloatArray pre, FloatArray f, int rows, int n, int T, int lossStart,
                                int K, int groups, FloatArray st, IntArray ist, IntArray eqP) {
        int gid = ctx.groupIdx;
        int lid = ctx.localIdx;
        int total = rows * n;
        int chunk = (total + groups - 1) / groups;
        int i0 = gid * chunk;
        int i1 = i0 + chunk < total ? i0 + chunk : total;
        int len = i1 > i0 ? i1 - i0 : 0;
        int sub = (len + WG - 1) / WG;
        int j0 = i0 + lid * sub;
        int j1 = j0 + sub < i1 ? j0 + sub : i1;
        int[] ib = ctx.allocateIntLocalArray(WG);
        float th = st.get(2);
        int ties = ist.get(2);
        int eq = 0;
        for (int i = j0; i < j1; i++) {
            int r = i / n;
            if (r % T >= lossStart) {
                float p = pre.get(i);
                eq += (p > 0f ? p : 0f) == th ? 1 : 0;
            }
        }
        ib[lid] = eq;
        ctx.localBarrier();
        if (lid == 0) {
            int run = 0;
            for (int q = 0; q < WG; q++) {
                int e = ib[q];
                ib[q] = run;
                run += e;
            }
        }
        ctx.localBarrier();
        int before = eqP.get(gid) + ib[lid];
        for (int i = j0; i < j1; i++) {
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
            f.set(i, out);
        }
    }
}
