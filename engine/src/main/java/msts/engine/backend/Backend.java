package msts.engine.backend;

import java.util.Optional;

import msts.engine.Ops;

/**
 * The compute backend of a run: chosen once at the top (CLI {@code --backend cpu|reference|tornado},
 * {@code --device}) by {@link Backends#resolve} and passed down as this one value. Everything that computes
 * takes it: the model's ops, the SAE kernels and training steps. Code below the CLI never branches on the
 * backend's name.
 *
 * <p>{@link #ops()} is always there (every op of the model and the SAE gemms). A backend may also offer
 * whole-graph executors for larger units of work — a Gemma-2 forward pass, an SAE training step — as
 * <em>extensions</em>, looked up by their factory interface (e.g. {@code ForwardEngineFactory} in model,
 * {@code TrainStepFactory} in sae). Where a backend has none, callers run op by op on {@link #ops()}.
 */
public interface Backend extends AutoCloseable {
    /** The {@code --backend} name: "cpu", "reference", "tornado". */
    String name();

    /** The ops every computation of this run goes through. */
    Ops ops();

    /** The backend's executor factory of the given type, or empty where it has none (then: op by op on {@link #ops()}). */
    default <T> Optional<T> extension(Class<T> type) { return Optional.empty(); }

    /** One line for logs and result metadata, e.g. "cpu (Vector API, 2 threads)". */
    default String describe() { return name() + " (" + ops().name() + ")"; }

    /** Frees device resources; the built-in CPU backends hold none. */
    @Override default void close() {}

    /** A backend that is just its ops (no extensions, nothing to free): "cpu", "reference", tests. */
    static Backend of(String name, Ops ops) {
        java.util.Objects.requireNonNull(ops, "ops");
        return new Backend() {
            @Override public String name() { return name; }
            @Override public Ops ops() { return ops; }
            @Override public String toString() { return describe(); }
        };
    }
}
