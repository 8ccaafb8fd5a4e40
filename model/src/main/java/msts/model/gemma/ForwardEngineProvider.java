package msts.model.gemma;

/**
 * A {@link ForwardEngine} backend found with {@link java.util.ServiceLoader} (file
 * {@code META-INF/services/msts.model.gemma.ForwardEngineProvider}); see {@link ForwardEngines}.
 */
public interface ForwardEngineProvider {
    /** The {@code --backend} name, e.g. "tornado". */
    String name();

    /**
     * An engine over the loaded model (its config and mmap'd weights) on {@code device} ("B:D", null = default).
     * The engine does not own the model; closing it (when AutoCloseable) frees only its own device state.
     */
    ForwardEngine create(Gemma2 model, String device);
}
