package msts.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

import msts.engine.spi.OpsProvider;

/**
 * Resolves a backend name ({@code --backend cpu|tornado}) to {@link Ops}. "cpu" is built in (a registered
 * provider named "cpu" wins, else the Vector API {@link CpuOps}); other names are {@link OpsProvider}s on the class path.
 */
public final class Backends {
    private Backends() {}

    /** The registered providers. */
    public static List<OpsProvider> providers() {
        List<OpsProvider> out = new ArrayList<>();
        ServiceLoader.load(OpsProvider.class).forEach(out::add);
        return out;
    }

    public static Optional<OpsProvider> provider(String name) {
        return providers().stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst();
    }

    /**
     * The ops of backend {@code name} on {@code device} (null = default).
     *
     * @throws IllegalArgumentException naming the problem when the backend is unknown, not on the class path
     *                                  or cannot run here
     */
    public static Ops ops(String name, String device) {
        String n = name == null ? "cpu" : name.trim().toLowerCase();
        Optional<OpsProvider> p = provider(n);
        if (p.isEmpty()) {
            if (n.equals("cpu")) return CpuOps.INSTANCE;
            if (n.equals("tornado"))
                throw new IllegalArgumentException("backend 'tornado' is not available: the TornadoVM module (msts-tornado)"
                        + " is not on the class path. Run through `./msts --backend tornado ...`, which builds it and"
                        + " launches under the TornadoVM SDK (needs TORNADOVM_HOME; see tornado-config/README.md)");
            throw new IllegalArgumentException("unknown backend '" + name + "' (known: cpu, tornado)");
        }
        String why = p.get().unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend '" + n + "' cannot run here: " + why);
        return p.get().create(device);
    }
}
