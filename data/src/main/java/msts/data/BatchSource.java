package msts.data;

/**
 * The trainer's input: batches of rows [nSeq·T, d_in] (F32, unscaled), a pure function of the batch index
 * (so runs are deterministic and resumable). T = 1 for shuffled-token batches; for whole-sequence batches
 * rows with position t &lt; lossStart() (BOS) only feed the temporal convolution.
 */
public interface BatchSource {
    int dIn();

    /** Tokens per sequence group (1 = independent tokens). */
    int seqLen();

    /** First position of a sequence counted in losses and statistics. */
    int lossStart();

    /** Rows per batch (a multiple of seqLen()). */
    int rows();

    /** Fills x[0 .. rows()·dIn) with batch number {@code index}. */
    void fill(long index, float[] x);

    default int nSeq() { return rows() / seqLen(); }

    /** Rows of a batch counted in the loss. */
    default int countedRows() { return nSeq() * (seqLen() - lossStart()); }
}
