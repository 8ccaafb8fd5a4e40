package msts.model.gemma;

import msts.engine.backend.Backend;

/**
 * A backend's whole-pass Gemma-2 executor, offered as an extension of its {@link Backend}
 * ({@code backend.extension(ForwardEngineFactory.class)}); the TornadoVM backend's is the plan engine
 * (whole-layer task graphs). Backends without one run the model op by op on their ops: the engine is then
 * {@link Gemma2} itself. Callers use {@link #engine}, written once here.
 */
public interface ForwardEngineFactory {
    /**
     * An engine over the loaded model (its config and mmap'd weights). The engine does not own the model;
     * closing it (when AutoCloseable) frees only its own device state.
     */
    ForwardEngine create(Gemma2 model);

    /** The backend's whole-pass engine over {@code model}, or the model itself (op by op on its ops). */
    static ForwardEngine engine(Backend backend, Gemma2 model) {
        return backend.extension(ForwardEngineFactory.class).map(f -> f.create(model)).orElse(model);
    }

    /** Closes {@code e} when it is a separate engine holding its own resources (not the model itself). */
    static void close(ForwardEngine e, Gemma2 model) {
        if (e != model && e instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ex) {
                throw new IllegalStateException("closing the forward engine failed: " + ex.getMessage(), ex);
            }
        }
    }
}
