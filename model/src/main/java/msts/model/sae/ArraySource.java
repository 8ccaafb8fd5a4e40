package msts.model.sae;

import msts.model.store.ActivationSource;

/** An in-memory {@link ActivationSource} over a float array [numSequences, contextSize, dIn]. */
public final class ArraySource implements ActivationSource {
    private final float[] data;
    private final int nSeq, ctx, d;

    public ArraySource(float[] data, int nSeq, int ctx, int d) {
        if (data.length != (long) nSeq * ctx * d) throw new IllegalArgumentException("data length " + data.length + " != " + nSeq + "·" + ctx + "·" + d);
        this.data = data;
        this.nSeq = nSeq;
        this.ctx = ctx;
        this.d = d;
    }

    @Override public int numSequences() { return nSeq; }

    @Override public int contextSize() { return ctx; }

    @Override public int dIn() { return d; }

    @Override
    public void readSequence(int s, float[] dst, int dstOff) {
        System.arraycopy(data, s * ctx * d, dst, dstOff, ctx * d);
    }
}
