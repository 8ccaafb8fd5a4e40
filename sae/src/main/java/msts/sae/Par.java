package msts.sae;

import msts.engine.Parallel;

/** Row-range parallel loops of the SAE kernels, on the engine's {@link Parallel} pool. */
final class Par {
    private Par() {}

    static final int THREADS = Parallel.threads();

    static void forRange(int start, int end, int chunk, Parallel.Range body) {
        Parallel.forRange(start, end, chunk, body);
    }

    /** Rows split into about 4 chunks per thread, at least minChunk rows each. */
    static void rows(int n, int minChunk, Parallel.Range body) {
        Parallel.forRange(0, n, body, minChunk, 4);
    }
}
