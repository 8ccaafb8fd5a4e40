package msts.data;

import java.util.SplittableRandom;

/**
 * Training batches from an {@link ActivationSource}, deterministic for a given seed, reading only what each
 * batch needs (the source stays memory-mapped; nothing loads the whole store).
 *
 * <p><b>Sequence stream.</b> Epoch e visits every sequence exactly once in the order of a permutation
 * π_e of 0..n−1 (Fisher–Yates driven by a generator seeded from (seed, e)); the k-th sequence served
 * overall is π_{⌊k/n⌋}[k mod n]. {@link #nextSequences} serves whole sequences [nSeq, ctx, d] from it in
 * token order (the temporal SAE needs the order).
 *
 * <p><b>Token stream.</b> {@link #nextTokens} (baseline SAEs) walks the same kind of sequence stream with its
 * own cursor, in windows of W consecutive sequences; the token positions of a window — positions 1..ctx−1
 * by default, 0..ctx−1 when BOS is included — are shuffled (seeded from (seed, window)) and served in that
 * order. Only the (sequence, position) index list of one window is held in memory; the activations are read
 * per token from the source.
 *
 * <p><b>Position 0.</b> Row position 0 is BOS; its residual has a norm orders of magnitude above the rest.
 * By default ({@code excludeBos}) it is excluded from token batches and from {@link #estimateNormScale};
 * whole-sequence batches still contain it (the sequence keeps its shape) and trainers must skip positions
 * {@code t < firstPosition()} in losses and statistics.
 *
 * <p><b>Scaling.</b> Every served activation is multiplied by {@link #scale()} (1 until set). SAELens's
 * factor is {@code sqrt(d_in) / mean‖x‖} over sampled tokens, see {@link #estimateNormScale}.
 *
 * <p>Resuming: the state is the two counters {@link #sequencesServed()} and {@link #tokensServed()};
 * {@link #seekSequences} and {@link #seekTokens} restore them.
 */
public final class ActivationBatcher {
    public static final int DEFAULT_WINDOW_SEQUENCES = 1024;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final ActivationSource src;
    private final long seed;
    private final int n, ctx, d;
    private final boolean excludeBos;
    private final int windowSeqs;
    private float scale = 1f;

    private long seqServed;
    private long tokServed;

    // two cached epoch permutations (the two cursors may be in different epochs)
    private final long[] permEpoch = {-1, -1};
    private final int[][] perms = new int[2][];
    private int permNext;

    // current token window
    private long window = -1;
    private int[] winSeq;
    private int[] winPos;

    public ActivationBatcher(ActivationSource src, long seed) {
        this(src, seed, true, DEFAULT_WINDOW_SEQUENCES);
    }

    public ActivationBatcher(ActivationSource src, long seed, boolean excludeBos, int windowSequences) {
        if (src.numSequences() <= 0) throw new IllegalArgumentException("the activation source holds no sequences");
        if (excludeBos && src.contextSize() < 2)
            throw new IllegalArgumentException("context size " + src.contextSize() + " leaves no token after BOS");
        if (windowSequences <= 0) throw new IllegalArgumentException("window must be > 0 sequences");
        this.src = src;
        this.seed = seed;
        this.n = src.numSequences();
        this.ctx = src.contextSize();
        this.d = src.dIn();
        this.excludeBos = excludeBos;
        this.windowSeqs = Math.min(windowSequences, n);
    }

    public ActivationSource source() { return src; }
    public int contextSize() { return ctx; }
    public int dIn() { return d; }
    public int numSequences() { return n; }
    public boolean excludesBos() { return excludeBos; }

    /** First position that counts in losses and statistics: 1 when BOS is excluded (default), else 0. */
    public int firstPosition() { return excludeBos ? 1 : 0; }

    /** Token positions per sequence that count: ctx − firstPosition(). */
    public int positionsPerSequence() { return ctx - firstPosition(); }

    public float scale() { return scale; }

    public ActivationBatcher setScale(float s) {
        if (!(s > 0) || Float.isInfinite(s)) throw new IllegalArgumentException("scale must be finite and > 0, got " + s);
        this.scale = s;
        return this;
    }

    public long sequencesServed() { return seqServed; }
    public long tokensServed() { return tokServed; }
    /** Epoch of the sequence cursor (0-based). */
    public long epoch() { return seqServed / n; }
    /** Epoch the token cursor is in (0-based). */
    public long tokenEpoch() { return (tokServed / ((long) windowSeqs * positionsPerSequence())) * windowSeqs / n; }

    public void seekSequences(long served) {
        if (served < 0) throw new IllegalArgumentException();
        seqServed = served;
    }

    public void seekTokens(long served) {
        if (served < 0) throw new IllegalArgumentException();
        tokServed = served;
    }

    /** The k-th sequence of the sequence stream: π_{⌊k/n⌋}[k mod n]. */
    public int sequenceAt(long k) {
        return perm(k / n)[(int) (k % n)];
    }

    /**
     * Next nSeq whole sequences into x [nSeq, ctx, d] (scaled). If ids is non-null, ids[i] receives the source
     * index of the i-th sequence (to look up its tokens).
     */
    public void nextSequences(int nSeq, float[] x, int[] ids) {
        long per = (long) ctx * d;
        if ((long) nSeq * per > x.length) throw new IllegalArgumentException("x holds " + x.length + " floats, need " + nSeq * per);
        for (int i = 0; i < nSeq; i++) {
            int s = sequenceAt(seqServed++);
            if (ids != null) ids[i] = s;
            src.readSequence(s, x, (int) (i * per));
        }
        scaleInPlace(x, (int) (nSeq * per));
    }

    public void nextSequences(int nSeq, float[] x) { nextSequences(nSeq, x, null); }

    /** Next nTok shuffled tokens into x [nTok, d] (scaled), BOS positions excluded by default. */
    public void nextTokens(int nTok, float[] x) {
        if ((long) nTok * d > x.length) throw new IllegalArgumentException("x holds " + x.length + " floats, need " + (long) nTok * d);
        long winTokens = (long) windowSeqs * positionsPerSequence();
        for (int i = 0; i < nTok; i++) {
            long w = tokServed / winTokens;
            int j = (int) (tokServed % winTokens);
            if (w != window) loadWindow(w);
            src.readToken(winSeq[j], winPos[j], x, i * d);
            tokServed++;
        }
        scaleInPlace(x, nTok * d);
    }

    private void loadWindow(long w) {
        int per = positionsPerSequence(), p0 = firstPosition();
        int m = windowSeqs * per;
        if (winSeq == null) {
            winSeq = new int[m];
            winPos = new int[m];
        }
        long base = w * windowSeqs;
        for (int i = 0; i < windowSeqs; i++) {
            int s = sequenceAt(base + i);
            for (int p = 0; p < per; p++) {
                winSeq[i * per + p] = s;
                winPos[i * per + p] = p0 + p;
            }
        }
        SplittableRandom rnd = new SplittableRandom(mix(seed, 0x70CE45L, w));
        for (int i = m - 1; i > 0; i--) {
            int k = rnd.nextInt(i + 1);
            int a = winSeq[i]; winSeq[i] = winSeq[k]; winSeq[k] = a;
            int b = winPos[i]; winPos[i] = winPos[k]; winPos[k] = b;
        }
        window = w;
    }

    private int[] perm(long epoch) {
        for (int c = 0; c < 2; c++) if (permEpoch[c] == epoch) return perms[c];
        int c = permNext;
        permNext ^= 1;
        int[] p = perms[c] == null ? new int[n] : perms[c];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom rnd = new SplittableRandom(mix(seed, 0x5E0L, epoch));
        for (int i = n - 1; i > 0; i--) {
            int k = rnd.nextInt(i + 1);
            int t = p[i]; p[i] = p[k]; p[k] = t;
        }
        perms[c] = p;
        permEpoch[c] = epoch;
        return p;
    }

    private void scaleInPlace(float[] x, int len) {
        if (scale == 1f) return;
        for (int i = 0; i < len; i++) x[i] *= scale;
    }

    static long mix(long seed, long salt, long v) {
        long z = seed * GOLDEN + salt * 0xBF58476D1CE4E5B9L + v * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * SAELens's activation scaling factor {@code sqrt(d_in) / mean‖x‖}, the mean taken over nSamples token
     * positions drawn uniformly with replacement (seeded; positions ≥ firstPosition()), or over all of them
     * exactly when nSamples ≥ their number. Unscaled activations; the batcher's state is not changed.
     * Multiplying by it makes the mean norm sqrt(d_in), i.e. the mean squared norm ≈ d_in.
     */
    public double estimateNormScale(long nSamples) {
        return normScale(meanNorm(nSamples), d);
    }

    /** Mean L2 norm of the (unscaled) activations over sampled token positions, as in {@link #estimateNormScale}. */
    public double meanNorm(long nSamples) {
        int per = positionsPerSequence(), p0 = firstPosition();
        long total = (long) n * per;
        float[] row = new float[d];
        double sum = 0;
        long count;
        if (nSamples >= total) {
            float[] seq = new float[ctx * d];
            for (int s = 0; s < n; s++) {
                src.readSequence(s, seq, 0);
                for (int p = p0; p < ctx; p++) sum += norm(seq, p * d, d);
            }
            count = total;
        } else {
            if (nSamples <= 0) throw new IllegalArgumentException("nSamples must be > 0");
            SplittableRandom rnd = new SplittableRandom(mix(seed, 0x2C0A1EL, 0));
            for (long i = 0; i < nSamples; i++) {
                long t = rnd.nextLong(total);
                src.readToken((int) (t / per), p0 + (int) (t % per), row, 0);
                sum += norm(row, 0, d);
            }
            count = nSamples;
        }
        return sum / count;
    }

    public static double normScale(double meanNorm, int dIn) {
        if (!(meanNorm > 0) || Double.isInfinite(meanNorm))
            throw new IllegalStateException("cannot scale activations: their mean norm is " + meanNorm);
        return Math.sqrt(dIn) / meanNorm;
    }

    static double norm(float[] x, int off, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) s += (double) x[off + i] * x[off + i];
        return Math.sqrt(s);
    }
}
