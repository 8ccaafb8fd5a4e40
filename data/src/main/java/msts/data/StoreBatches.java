package msts.data;

import msts.data.ActivationBatcher;
import msts.data.ActivationSource;

/**
 * {@link BatchSource} over the store's {@link ActivationBatcher}: batch i is served after seeking the
 * batcher's cursor to i batches, so it is a pure function of (source, seed, i) and a resumed run sees the
 * same batches. Whole sequences (temporal SAE; BOS rows kept as convolution context, excluded from the
 * loss) or shuffled tokens (baseline; BOS positions not served). The batcher's own scale stays 1: the
 * trainer applies its scaling factor.
 */
public final class StoreBatches implements BatchSource {
    private final ActivationBatcher b;
    private final boolean whole;
    private final int ctx, d, rows, nSeq;

    public StoreBatches(ActivationSource src, boolean wholeSequences, int batchTokens, boolean includeBos, long seed) {
        this.whole = wholeSequences;
        this.ctx = src.contextSize();
        this.d = src.dIn();
        int window = Math.min(ActivationBatcher.DEFAULT_WINDOW_SEQUENCES, src.numSequences());
        this.b = new ActivationBatcher(src, seed, !includeBos, window);
        if (b.positionsPerSequence() <= 0) throw new IllegalArgumentException("context size " + ctx + " leaves no tokens after BOS");
        if (whole) {
            nSeq = Math.max(1, Math.round((float) batchTokens / ctx));
            rows = nSeq * ctx;
        } else {
            nSeq = batchTokens;
            rows = batchTokens;
        }
    }

    @Override public int dIn() { return d; }

    @Override public int seqLen() { return whole ? ctx : 1; }

    @Override public int lossStart() { return whole ? b.firstPosition() : 0; }

    @Override public int rows() { return rows; }

    @Override
    public void fill(long index, float[] x) {
        if (whole) {
            b.seekSequences(index * nSeq);
            b.nextSequences(nSeq, x);
        } else {
            b.seekTokens(index * rows);
            b.nextTokens(rows, x);
        }
    }
}
