package msts.model.sae;

import msts.model.store.ActivationSource;

import java.util.SplittableRandom;

/**
 * Deterministic batches from an {@link ActivationSource} (a minimal stand-in for the store's
 * ActivationBatcher). Sequences are visited in a seeded permutation per epoch.
 * <ul>
 *   <li>whole sequences (temporal SAE): a batch is nSeq consecutive sequences of the permuted order,
 *       T = context size, BOS position excluded from losses (lossStart 1) unless includeBos;</li>
 *   <li>shuffled tokens (baseline): the permuted sequences are cut into pools of P sequences whose
 *       non-BOS tokens are shuffled (seeded per pool); batches are consecutive runs of that token stream.</li>
 * </ul>
 * Batch i is a pure function of (source, seed, i).
 */
public final class SequenceBatcher implements BatchSource {
    private final ActivationSource src;
    private final long seed;
    private final boolean whole;
    private final int ctx, d, nSeqSrc, first, rows, nSeqBatch, poolSeqs;
    private int permEpoch = -1;
    private int[] perm;
    private long poolIndex = -1;
    private float[] pool;
    private int[] poolOrder;
    private final float[] seqBuf;

    public SequenceBatcher(ActivationSource src, boolean wholeSequences, int batchTokens, boolean includeBos, long seed) {
        this.src = src;
        this.seed = seed;
        this.whole = wholeSequences;
        this.ctx = src.contextSize();
        this.d = src.dIn();
        this.nSeqSrc = src.numSequences();
        this.first = includeBos ? 0 : 1;
        if (nSeqSrc <= 0) throw new IllegalArgumentException("the activation source has no sequences");
        if (ctx - first <= 0) throw new IllegalArgumentException("context size " + ctx + " leaves no tokens after BOS");
        if (whole) {
            nSeqBatch = Math.max(1, Math.round((float) batchTokens / ctx));
            rows = nSeqBatch * ctx;
            poolSeqs = 0;
        } else {
            nSeqBatch = batchTokens;
            rows = batchTokens;
            int usable = ctx - first;
            poolSeqs = Math.max(1, Math.min(nSeqSrc, (4 * batchTokens + usable - 1) / usable));
        }
        seqBuf = new float[ctx * d];
    }

    @Override public int dIn() { return d; }

    @Override public int seqLen() { return whole ? ctx : 1; }

    @Override public int lossStart() { return whole ? first : 0; }

    @Override public int rows() { return rows; }

    /** Source sequence at position g of the infinite permuted stream. */
    private int sequenceAt(long g) {
        int epoch = (int) (g / nSeqSrc);
        if (epoch != permEpoch) {
            perm = permutation(nSeqSrc, new SplittableRandom(seed * 1_000_003L + epoch));
            permEpoch = epoch;
        }
        return perm[(int) (g % nSeqSrc)];
    }

    static int[] permutation(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public void fill(long index, float[] x) {
        if (whole) {
            for (int i = 0; i < nSeqBatch; i++) src.readSequence(sequenceAt(index * nSeqBatch + i), x, i * ctx * d);
            return;
        }
        int usable = ctx - first;
        long poolTokens = (long) poolSeqs * usable;
        for (int i = 0; i < rows; i++) {
            long g = index * rows + i;
            long q = g / poolTokens;
            if (q != poolIndex) loadPool(q);
            int tok = poolOrder[(int) (g % poolTokens)];
            System.arraycopy(pool, tok * d, x, i * d, d);
        }
    }

    private void loadPool(long q) {
        int usable = ctx - first;
        if (pool == null) {
            pool = new float[poolSeqs * usable * d];
        }
        for (int i = 0; i < poolSeqs; i++) {
            src.readSequence(sequenceAt(q * poolSeqs + i), seqBuf, 0);
            System.arraycopy(seqBuf, first * d, pool, i * usable * d, usable * d);
        }
        poolOrder = permutation(poolSeqs * usable, new SplittableRandom(seed * 7_919L + 31 * q + 1));
        poolIndex = q;
    }
}
