package msts.model.sae;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal parallel-for over row ranges for the SAE's elementwise kernels (stand-in with the same
 * shape as the engine's {@code Parallel.forRange}; swap the body when that lands on main). Chunks are
 * pulled from a shared counter by the caller and {@code threads-1} common-pool tasks; results are
 * deterministic because every kernel writes disjoint rows.
 */
final class Par {
    private Par() {}

    @FunctionalInterface
    interface Range {
        void run(int lo, int hi);
    }

    static final int THREADS = Math.max(1,
            Integer.getInteger("msts.threads", Runtime.getRuntime().availableProcessors()));

    static void forRange(int start, int end, int chunk, Range body) {
        int n = end - start;
        if (n <= 0) return;
        chunk = Math.max(1, chunk);
        int chunks = (n + chunk - 1) / chunk;
        if (chunks == 1 || THREADS == 1 || Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread) {
            body.run(start, end);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        final int c = chunk;
        Runnable loop = () -> {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                int lo = start + i * c;
                body.run(lo, Math.min(lo + c, end));
            }
        };
        int workers = Math.min(THREADS, chunks);
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[workers - 1];
        for (int t = 0; t < tasks.length; t++) tasks[t] = ForkJoinPool.commonPool().submit(loop);
        loop.run();
        for (ForkJoinTask<?> t : tasks) t.join();
    }

    /** Rows split into about 4 chunks per thread, at least minChunk rows each. */
    static void rows(int n, int minChunk, Range body) {
        int chunk = Math.max(minChunk, (n + THREADS * 4 - 1) / (THREADS * 4));
        forRange(0, n, chunk, body);
    }
}
