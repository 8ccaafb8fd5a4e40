package msts.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small parallel-for over index ranges on one shared {@link ForkJoinPool} sized to the number of
 * processors. The range is cut into chunks; the calling thread and up to {@code threads() - 1} pool
 * workers pull chunks from a shared counter until none is left, so uneven chunks balance themselves.
 * The caller never waits for a worker that has not started (on a loaded machine it simply does those
 * chunks itself). One call allocates one small job object, never anything per element.
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

    /** The thread count chosen at the top ({@link #configure}, CLI {@code --threads}) before the pool starts; 0 = not chosen. */
    private static int configured;
    private static boolean started;

    /**
     * Sets the number of threads (CLI {@code --threads N}); must come before the first parallel loop, which
     * fixes the pool for the life of the JVM. Calling it again with the same count is allowed.
     *
     * @throws IllegalArgumentException when n < 1
     * @throws IllegalStateException    when the pool already runs with another count
     */
    public static synchronized void configure(int n) {
        if (n < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + n);
        if (started && Holder.THREADS != n)
            throw new IllegalStateException("--threads " + n + ": this JVM already runs " + Holder.THREADS + " threads");
        configured = n;
    }

    private static synchronized int chosen() {
        started = true;
        if (configured > 0) return configured;
        // default: all cores, or the documented -Dmsts.threads (child JVMs of tests and benchmarks), read only here
        return Math.max(1, Integer.getInteger("msts.threads", Runtime.getRuntime().availableProcessors()));
    }

    /** The pool, created on first use with the chosen thread count. */
    private static final class Holder {
        static final int THREADS = chosen();
        static final ForkJoinPool POOL = THREADS <= 1 ? null : new ForkJoinPool(THREADS - 1,
                pool -> {
                    ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                    t.setName("msts-worker-" + t.getPoolIndex());
                    t.setDaemon(true);
                    return t;
                }, null, false);
    }

    /** Number of threads a parallel loop uses (the caller plus the pool's workers). */
    public static int threads() { return Holder.THREADS; }

    private static boolean insidePool() {
        ForkJoinPool pool = Holder.POOL;
        return pool != null && Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
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
        ForkJoinPool pool = Holder.POOL;
        if (chunks == 1 || pool == null || insidePool()) {
            body.run(start, end);
            return;
        }
        Job job = new Job(start, end, chunk, chunks, body);
        int helpers = Math.min(Holder.THREADS, chunks) - 1;
        for (int t = 0; t < helpers; t++) pool.execute(job);
        job.work();
        job.finish();
    }

    /**
     * One parallel loop. Helpers register in {@code state} before pulling chunks; once the caller has run
     * out of chunks it closes the job and waits only for helpers that registered. A helper the OS has
     * not scheduled yet (a loaded machine) finds the job closed and returns without touching anything,
     * so the caller never waits for it.
     */
    private static final class Job implements Runnable {
        private static final int CLOSED = Integer.MIN_VALUE;
        final int start, end, chunk, chunks;
        final Range body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger state = new AtomicInteger(); // CLOSED bit | number of running helpers
        final Thread caller = Thread.currentThread();
        volatile Throwable failure;

        Job(int start, int end, int chunk, int chunks, Range body) {
            this.start = start;
            this.end = end;
            this.chunk = chunk;
            this.chunks = chunks;
            this.body = body;
        }

        void work() {
            try {
                int i;
                while ((i = next.getAndIncrement()) < chunks) {
                    long lo = start + (long) i * chunk;
                    body.run((int) lo, (int) Math.min(lo + chunk, end));
                }
            } catch (Throwable e) {
                if (failure == null) failure = e;
                next.set(chunks); // stop handing out chunks
            }
        }

        @Override
        public void run() { // a helper
            int s;
            do {
                s = state.get();
                if ((s & CLOSED) != 0) return;
            } while (!state.compareAndSet(s, s + 1));
            try {
                work();
            } finally {
                if (state.decrementAndGet() == CLOSED) LockSupport.unpark(caller);
            }
        }

        void finish() {
            state.getAndUpdate(v -> v | CLOSED);
            int spins = 0;
            while ((state.get() & ~CLOSED) != 0) {
                if (++spins < 2000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000L);
            }
            Throwable f = failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error err) throw err;
            if (f != null) throw new RuntimeException(f);
        }
    }

    /**
     * Runs body over [start, end) with a chunk size chosen so that each thread gets about
     * {@code perThread} chunks, but no chunk is smaller than {@code minChunk}.
     */
    public static void forRange(int start, int end, Range body, int minChunk, int perThread) {
        int n = end - start;
        int threads = Holder.THREADS;
        int chunk = Math.max(minChunk, (n + threads * perThread - 1) / (threads * perThread));
        forRange(start, end, chunk, body);
    }
}
