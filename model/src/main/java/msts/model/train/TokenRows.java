package msts.model.train;

import java.util.SplittableRandom;

/**
 * A token stream packed into training rows of {@code context} tokens: row r = [BOS] followed by stream
 * tokens r·(context−1) … (r+1)·(context−1) − 1 (the tail that does not fill a row is dropped). Rows are
 * visited in epochs, each a permutation of all rows drawn from (seed, epoch); the rows of step s are the
 * positions s·B … s·B + B − 1 of that endless sequence. So the data order is a pure function of
 * (seed, step): resuming at step s needs only s.
 */
public final class TokenRows {
    private final int[] stream;
    private final int context, bos, rows;
    private final long seed;
    private long cachedEpoch = -1;
    private int[] perm;

    public TokenRows(int[] stream, int context, int bos, long seed) {
        if (context < 2) throw new IllegalArgumentException("context must be ≥ 2, got " + context);
        this.stream = stream;
        this.context = context;
        this.bos = bos;
        this.seed = seed;
        this.rows = stream.length / (context - 1);
        if (rows == 0)
            throw new IllegalArgumentException("the text has " + stream.length + " tokens, fewer than one row of context "
                    + context + " needs (" + (context - 1) + " + BOS)");
    }

    public int rows() { return rows; }

    public int context() { return context; }

    /** Tokens of stream row r (in file order), BOS first. */
    public int[] row(int r) {
        int[] out = new int[context];
        out[0] = bos;
        System.arraycopy(stream, r * (context - 1), out, 1, context - 1);
        return out;
    }

    /** The rows of step s for batch size B, in order. */
    public int[][] batch(long step, int B) {
        int[][] out = new int[B][];
        for (int i = 0; i < B; i++) {
            long pos = step * B + i;
            long epoch = pos / rows;
            out[i] = row(permutation(epoch)[(int) (pos % rows)]);
        }
        return out;
    }

    /** Fisher–Yates permutation of the rows for one epoch, from SplittableRandom(seed mixed with epoch). */
    private int[] permutation(long epoch) {
        if (epoch == cachedEpoch) return perm;
        int[] p = new int[rows];
        for (int i = 0; i < rows; i++) p[i] = i;
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = rows - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        cachedEpoch = epoch;
        perm = p;
        return p;
    }
}
