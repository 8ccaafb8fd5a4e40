package msts.spark;

import msts.data.GemmaActivations;
import msts.engine.Ops;
import msts.engine.backend.Backends;
import msts.model.gemma.Gemma2;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The models of one executor JVM, kept between its tasks: a task borrows one (loading it, i.e. mapping the
 * checkpoint from the model path, only when none is idle) and gives it back. A {@link Gemma2} runs one forward
 * at a time, so an executor running k tasks at once holds k of them (their mapped weights share the page cache).
 * Spark has no per-executor object other than a static one; this is the only static mutable state of the harvest,
 * and it holds nothing a task's result depends on.
 */
final class ExecutorModels {
    private ExecutorModels() {}

    private static final ConcurrentHashMap<String, ConcurrentLinkedDeque<GemmaActivations>> IDLE = new ConcurrentHashMap<>();

    /** The ops of a --backend name: cpu (Vector API, all the executor's cores) or reference (plain loops). */
    static Ops ops(String name) {
        return switch (name) {
            case "cpu" -> Backends.cpu().ops();
            case "reference" -> Backends.reference().ops();
            default -> throw new IllegalArgumentException("--backend " + name + " is not available to the cluster harvest (cpu or reference)");
        };
    }

    interface Work<T> { T apply(GemmaActivations model) throws Exception; }

    static <T> T with(String model, String ops, int layer, Work<T> work) throws Exception {
        String key = model + "\u0000" + ops + "\u0000" + layer;
        ConcurrentLinkedDeque<GemmaActivations> idle = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>());
        GemmaActivations m = idle.pollFirst();
        if (m == null) m = new GemmaActivations(Gemma2.load(Path.of(model), ops(ops)), layer);
        try {
            return work.apply(m);
        } finally {
            idle.addFirst(m);
        }
    }
}
