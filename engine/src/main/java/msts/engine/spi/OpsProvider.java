package msts.engine.spi;

import java.util.List;

import msts.engine.Ops;

/**
 * A compute backend found with {@link java.util.ServiceLoader} (file
 * {@code META-INF/services/msts.engine.spi.OpsProvider}); the TornadoVM module registers "tornado".
 * Chosen once at the top (CLI {@code --backend}), see {@link msts.engine.Backends}; model code only sees {@link Ops}.
 */
public interface OpsProvider {
    /** The name used by {@code --backend}, e.g. "tornado". */
    String name();

    /** Null when the backend can run here, otherwise why not (missing runtime, no device). */
    String unavailableReason();

    /** One line per device ("0:0  OpenCL  pthread-… (4.2 GB)"); empty when unavailable. */
    List<String> devices();

    /** The ops on the given device ("B:D", or null for the backend's default). */
    Ops create(String device);
}
