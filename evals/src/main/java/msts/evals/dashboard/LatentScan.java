package msts.evals.dashboard;

import java.util.Arrays;
import java.util.Comparator;
import msts.data.ActivationSource;
import msts.engine.Parallel;
import msts.engine.util.Progress;

/**
 * One pass over an activation source computing every latent's statistics and top-activating contexts with
 * bounded memory (docs/features.md): sequences are read and encoded a batch at a time; the latents are then
 * split into ranges handled in parallel, each range owned by one thread, so the per-latent state needs no
 * locks and the result does not depend on the number of threads or the batch size.
 *
 * Per latent j: the number of counted tokens with f_j > 0 (density = active / counted tokens), Σ f_j, max f_j,
 * a histogram of the positive activations, and a min-heap of the K best sequences (key: the sequence's
 * maximum of f_j, ties to the lower sequence index) holding the activations of f_j in a window of
 * positions around the sequence's first maximum. Positions before {@link Options#firstPosition} (the
 * store's BOS at position 0) are context only: they feed the temporal SAE's convolution and appear in
 * windows but are not counted or ranked.
 *
 * Histogram: NB equal bins [i·w, (i+1)·w) with w a power of two, set from the first activation so that it
 * falls in the upper half; when a value reaches NB·w, adjacent bins are merged pairwise and w doubles.
 * The counts are therefore exactly the histogram of all positive activations with the final width w,
 * whose range [0, NB·w) holds the maximum in its upper half.
 */
public final class LatentScan {
    private LatentScan() {}

    /**
     * @param topK           contexts kept per latent
     * @param before         window positions kept before the maximum
     * @param after          window positions kept after the maximum
     * @param histBins       histogram bins NB (a power of two ≥ 2)
     * @param firstPosition  first counted position of each sequence (1 skips BOS)
     * @param maxSequences   sequences read (0 = all)
     * @param batchSequences sequences encoded at a time (0 = automatic, about 4M activations)
     */
    public record Options(int topK, int before, int after, int histBins, int firstPosition, int maxSequences, int batchSequences) {
        public Options {
            if (topK < 1) throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
            if (before < 0 || after < 0) throw new IllegalArgumentException("window sizes must be >= 0");
            if (histBins < 2 || Integer.bitCount(histBins) != 1) throw new IllegalArgumentException("histogram bins must be a power of two >= 2, got " + histBins);
            if (firstPosition < 0) throw new IllegalArgumentException("first position must be >= 0");
            if (maxSequences < 0 || batchSequences < 0) throw new IllegalArgumentException("sequence counts must be >= 0");
        }

        public static Options defaults(int firstPosition) { return new Options(16, 24, 8, 64, firstPosition, 0, 0); }

        public Options withMaxSequences(int n) { return new Options(topK, before, after, histBins, firstPosition, n, batchSequences); }

        public Options withBatch(int n) { return new Options(topK, before, after, histBins, firstPosition, maxSequences, n); }
    }

    /**
     * A top context: sequence {@code seq}, position {@code pos} of the latent's maximum {@code act} in it, and the
     * latent's activations at positions {@code start .. start + acts.length − 1} of the sequence.
     */
    public record Example(int seq, int pos, float act, int start, float[] acts) {}

    /** The statistics of all latents; arrays indexed by latent. */
    public record Result(int dSae, int sequences, int contextSize, int firstPosition, long countedTokens, long[] active, double[] sum,
                         float[] max, float[] histWidth, int histBins, int[] hist, Example[][] top) {
        public double density(int j) { return countedTokens == 0 ? 0 : (double) active[j] / countedTokens; }

        public double meanActive(int j) { return active[j] == 0 ? 0 : sum[j] / active[j]; }

        /** Histogram counts of latent j (bin i covers [i·w, (i+1)·w) with w = histWidth[j]). */
        public int[] histogram(int j) { return Arrays.copyOfRange(hist, j * histBins, (j + 1) * histBins); }
    }

    public static Result scan(SaeView sae, ActivationSource src, Options o, Progress progress) {
        if (src.dIn() != sae.dIn())
            throw new IllegalArgumentException("the activations have d_in " + src.dIn() + ", the SAE expects " + sae.dIn());
        int n = sae.dSae(), T = src.contextSize(), d = src.dIn();
        if (o.firstPosition() >= T) throw new IllegalArgumentException("first counted position " + o.firstPosition() + " >= context " + T);
        int nSeq = o.maxSequences() > 0 ? Math.min(o.maxSequences(), src.numSequences()) : src.numSequences();
        int batch = o.batchSequences() > 0 ? o.batchSequences() : (int) Math.max(1, (4L << 20) / ((long) T * n));
        batch = Math.max(1, Math.min(batch, Math.max(1, nSeq)));
        State st = new State(n, o, T);
        float[] x = new float[batch * T * d], f = new float[batch * T * n];
        for (int s0 = 0; s0 < nSeq; s0 += batch) {
            int b = Math.min(batch, nSeq - s0);
            for (int i = 0; i < b; i++) src.readSequence(s0 + i, x, i * T * d);
            sae.encode(x, b, T, f);
            int base = s0;
            Parallel.forRange(0, n, 64, (lo, hi) -> st.update(f, b, T, base, lo, hi));
            if (progress != null) progress.advance(b);
        }
        return st.result(nSeq, T, (long) nSeq * (T - o.firstPosition()));
    }

    /** Adds v > 0 to latent j's adaptive histogram h[j·nb .. (j+1)·nb) of bin width width[j] (see the class comment). */
    static void histAdd(int[] h, float[] width, int nb, int j, float v) {
        float w = width[j];
        if (w == 0f) {
            w = Math.scalb(1f, Math.getExponent(v) + 1 - Integer.numberOfTrailingZeros(nb));
            width[j] = w;
        }
        int off = j * nb;
        int bin = (int) (v / w);
        while (bin >= nb) {
            for (int i = 0; i < nb / 2; i++) h[off + i] = h[off + 2 * i] + h[off + 2 * i + 1];
            Arrays.fill(h, off + nb / 2, off + nb, 0);
            w *= 2f;
            width[j] = w;
            bin = (int) (v / w);
        }
        h[off + bin]++;
    }

    /** Per-latent state; latent j is only ever touched by the thread that owns its range in a batch. */
    private static final class State {
        final int n, K, W, nb, first, before, after;
        final long[] active;
        final double[] sum;
        final float[] max, width;
        final int[] hist;
        final int[] count, heap;       // heap[j·K + i]: slot of the i-th heap node
        final float[] act;             // per slot [n·K]
        final int[] seq, pos, start, len;
        final float[] window;          // per slot [n·K·W]

        State(int n, Options o, int T) {
            this.n = n;
            K = o.topK();
            before = o.before();
            after = o.after();
            W = Math.min(T, before + 1 + after);
            nb = o.histBins();
            first = o.firstPosition();
            active = new long[n];
            sum = new double[n];
            max = new float[n];
            width = new float[n];
            hist = new int[n * nb];
            count = new int[n];
            heap = new int[n * K];
            act = new float[n * K];
            seq = new int[n * K];
            pos = new int[n * K];
            start = new int[n * K];
            len = new int[n * K];
            window = new float[n * K * W];
        }

        void update(float[] f, int b, int T, int seqBase, int lo, int hi) {
            int m = hi - lo;
            float[] smax = new float[m];
            int[] sarg = new int[m];
            for (int s = 0; s < b; s++) {
                Arrays.fill(smax, 0f);
                for (int t = first; t < T; t++) {
                    int row = (s * T + t) * n;
                    for (int j = lo; j < hi; j++) {
                        float v = f[row + j];
                        if (v > 0f) {
                            active[j]++;
                            sum[j] += v;
                            if (v > max[j]) max[j] = v;
                            histAdd(hist, width, nb, j, v);
                            if (v > smax[j - lo]) {
                                smax[j - lo] = v;
                                sarg[j - lo] = t;
                            }
                        }
                    }
                }
                for (int j = lo; j < hi; j++)
                    if (smax[j - lo] > 0f) offer(j, seqBase + s, sarg[j - lo], smax[j - lo], f, s, T);
            }
        }

        /** a is worse than b: lower activation, or equal activation in a later sequence. */
        private boolean worse(int j, int a, int b) {
            int ia = j * K + a, ib = j * K + b;
            return act[ia] < act[ib] || (act[ia] == act[ib] && seq[ia] > seq[ib]);
        }

        private void offer(int j, int sq, int p, float v, float[] f, int s, int T) {
            int c = count[j], h = j * K, slot;
            if (c < K) {
                slot = c;
                fill(j, slot, sq, p, v, f, s, T);
                heap[h + c] = slot;
                count[j] = c + 1;
                int i = c;
                while (i > 0) {
                    int parent = (i - 1) / 2;
                    if (!worse(j, heap[h + i], heap[h + parent])) break;
                    swap(h + i, h + parent);
                    i = parent;
                }
            } else {
                slot = heap[h];
                if (!(v > act[h + slot])) return; // later sequences lose ties
                fill(j, slot, sq, p, v, f, s, T);
                int i = 0;
                while (true) {
                    int l = 2 * i + 1, r = l + 1, w = i;
                    if (l < K && worse(j, heap[h + l], heap[h + w])) w = l;
                    if (r < K && worse(j, heap[h + r], heap[h + w])) w = r;
                    if (w == i) break;
                    swap(h + i, h + w);
                    i = w;
                }
            }
        }

        private void swap(int a, int b) {
            int t = heap[a];
            heap[a] = heap[b];
            heap[b] = t;
        }

        private void fill(int j, int slot, int sq, int p, float v, float[] f, int s, int T) {
            int i = j * K + slot;
            act[i] = v;
            seq[i] = sq;
            pos[i] = p;
            int st0 = Math.max(0, Math.min(p - before, T - W));
            start[i] = st0;
            len[i] = Math.min(W, T - st0);
            for (int t = 0; t < len[i]; t++) window[i * W + t] = f[(s * T + st0 + t) * n + j];
        }

        Result result(int nSeq, int T, long counted) {
            Example[][] top = new Example[n][];
            for (int j = 0; j < n; j++) {
                Example[] e = new Example[count[j]];
                for (int slot = 0; slot < count[j]; slot++) {
                    int i = j * K + slot;
                    e[slot] = new Example(seq[i], pos[i], act[i], start[i], Arrays.copyOfRange(window, i * W, i * W + len[i]));
                }
                Arrays.sort(e, BEST_FIRST);
                top[j] = e;
            }
            return new Result(n, nSeq, T, first, counted, active, sum, max, width, nb, hist, top);
        }
    }

    /** Highest activation first; ties: lower sequence index first. */
    public static final Comparator<Example> BEST_FIRST =
            Comparator.comparingDouble((Example e) -> -e.act()).thenComparingInt(Example::seq);
}
