package msts.model.gemma;

import java.util.ServiceLoader;

/** Resolves {@code --backend} to a {@link ForwardEngine}: "cpu" → the model itself, else a registered provider. */
public final class ForwardEngines {
    private ForwardEngines() {}

    /**
     * The engine of {@code backend} over {@code model}. "cpu" (or null) is the model; other names need a
     * {@link ForwardEngineProvider}; when none is registered the model itself runs (its {@code Ops} are already
     * the backend's) and a one-line note says so on stderr.
     */
    public static ForwardEngine create(Gemma2 model, String backend, String device) {
        String n = backend == null ? "cpu" : backend.trim().toLowerCase();
        if (n.equals("cpu")) return model;
        for (ForwardEngineProvider p : ServiceLoader.load(ForwardEngineProvider.class))
            if (p.name().equalsIgnoreCase(n)) return p.create(model, device);
        System.err.println("note: no whole-pass forward engine for backend '" + n + "'; running op by op on its ops");
        return model;
    }

    /** Closes {@code e} when it is a separate engine holding its own resources (not the model itself). */
    public static void close(ForwardEngine e, Gemma2 model) {
        if (e != model && e instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ex) {
                throw new IllegalStateException("closing the forward engine failed: " + ex.getMessage(), ex);
            }
        }
    }
}
