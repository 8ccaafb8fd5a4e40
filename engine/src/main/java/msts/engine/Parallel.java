package msts.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small parallel-for over index ranges on one shared {@link ForkJoinPool} sized to the number of
 * processors. The range is cut into chunks; the calling thread and {@code threads() - 1} pool workers
 * pull chunks from a shared counter until none is left, so uneven chunks balance themselves. One call
 * allocates a handful of task objects, never anything per element.
 *
 * Calls made from inside a parallel region (a pool worker) run serially in the caller, so kernels may
 * call each other without deadlock or oversubscription.
 */
public final class Parallel {
    private Parallel() {}

    /** Body of a parallel loop: handles indices [lo, hi). */
    @FunctionalInterface
    public interface Range {
        void run(int lo, int hi);
    }

    private static final int THREADS = Math.max(1,
            Integer.getInteger("msts.threads", Runtime.getRuntime().availableProcessors()));

    private static final ForkJoinPool POOL = THREADS <= 1 ? null : new ForkJoinPool(THREADS - 1,
            pool -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("msts-worker-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    /** Number of threads a parallel loop uses (the caller plus the pool's workers). */
    public static int threads() { return THREADS; }

    private static boolean insidePool() {
        return POOL != null && Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * Runs body over [start, end) in chunks of {@code chunk} indices (the last one shorter).
     * Runs inline when there is one chunk, one thread, or when already inside a parallel region.
     */
    public static void forRange(int start, int end, int chunk, Range body) {
        int n = end - start;
        if (n <= 0) return;
        if (chunk < 1) chunk = 1;
        int chunks = (int) (((long) n + chunk - 1) / chunk);
        if (chunks == 1 || POOL == null || insidePool()) {
            body.run(start, end);
            return;
        }
        int workers = Math.min(THREADS, chunks);
        AtomicInteger next = new AtomicInteger();
        final int c = chunk;
        Runnable loop = () -> {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                int lo = start + i * c;
                body.run(lo, (int) Math.min((long) lo + c, end));
            }
        };
        @SuppressWarnings("unchecked")
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[workers - 1];
        for (int t = 0; t < tasks.length; t++) tasks[t] = POOL.submit(loop);
        Throwable failure = null;
        try {
            loop.run();
        } catch (Throwable e) {
            failure = e;
        }
        for (ForkJoinTask<?> t : tasks) {
            try {
                t.join();
            } catch (Throwable e) {
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new RuntimeException(failure);
    }

    /**
     * Runs body over [start, end) with a chunk size chosen so that each thread gets about
     * {@code perThread} chunks, but no chunk is smaller than {@code minChunk}.
     */
    public static void forRange(int start, int end, Range body, int minChunk, int perThread) {
        int n = end - start;
        int chunk = Math.max(minChunk, (n + THREADS * perThread - 1) / (THREADS * perThread));
        forRange(start, end, chunk, body);
    }
}
