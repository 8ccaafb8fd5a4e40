package msts.engine.backend;

import java.util.List;
import java.util.Map;

/**
 * A backend found with {@link java.util.ServiceLoader} (file
 * {@code META-INF/services/msts.engine.backend.BackendProvider}); the TornadoVM module registers "tornado".
 * The built-in "cpu" and "reference" backends need no provider.
 */
public interface BackendProvider {
    /** The {@code --backend} name. */
    String name();

    /** Null when the backend can run here, otherwise why not (missing runtime, no device), one line. */
    String unavailableReason();

    /** One line per device ("0:0  OpenCL  pthread-… (4.2 GB)"); empty when unavailable. */
    List<String> devices();

    /**
     * The backend on {@code device} ("B:D", or null for its default) with its own typed options parsed from
     * {@code options} (CLI {@code --backend-option KEY=VALUE}; empty = the defaults). Unknown keys or bad values:
     * {@link IllegalArgumentException} with one line naming the known ones.
     */
    Backend create(String device, Map<String, String> options);
}
