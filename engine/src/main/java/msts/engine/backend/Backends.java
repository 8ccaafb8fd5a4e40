package msts.engine.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

import msts.engine.CpuOps;
import msts.engine.Ops;

/**
 * Resolves a backend name ({@code --backend cpu|reference|tornado}, {@code --device B:D}) to the one
 * {@link Backend} of a run. Built in: "cpu" ({@link CpuOps}, Vector API on all cores) and "reference"
 * ({@link msts.engine.ReferenceOps}, the plain loops: the control). Other names are {@link BackendProvider}s
 * on the class path (the TornadoVM module registers "tornado").
 */
public final class Backends {
    private Backends() {}

    /** The built-in backend names. */
    public static final List<String> BUILT_IN = List.of("cpu", "reference");

    /** The backend on the CPU (Vector API) ops. */
    public static Backend cpu() { return Backend.of("cpu", CpuOps.INSTANCE); }

    /** The backend on the plain-loop reference ops (the control). */
    public static Backend reference() { return Backend.of("reference", Ops.reference()); }

    /** The registered providers. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(out::add);
        return out;
    }

    public static Optional<BackendProvider> provider(String name) {
        return providers().stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst();
    }

    /**
     * The backend {@code name} (null = "cpu") on {@code device} ("B:D"; null = the backend's default).
     *
     * @throws IllegalArgumentException with one line naming the problem: unknown backend, backend not on the
     *                                  class path, cannot run here, or a device given to a backend without devices
     */
    public static Backend resolve(String name, String device) {
        return resolve(name, device, Map.of());
    }

    /** {@link #resolve(String, String)} with backend options ({@code --backend-option KEY=VALUE}); the built-ins take none. */
    public static Backend resolve(String name, String device, Map<String, String> options) {
        String n = name == null ? "cpu" : name.trim().toLowerCase(Locale.ROOT);
        Map<String, String> opts = options == null ? Map.of() : options;
        if (BUILT_IN.contains(n)) {
            if (!opts.isEmpty())
                throw new IllegalArgumentException("backend '" + n + "' takes no --backend-option (got " + String.join(", ", opts.keySet()) + ")");
            if (device != null)
                throw new IllegalArgumentException("--device " + device + " selects a device of a device backend (--backend tornado);"
                        + " backend '" + n + "' runs on the CPU and has none");
            return n.equals("cpu") ? cpu() : reference();
        }
        Optional<BackendProvider> p = provider(n);
        if (p.isEmpty()) {
            if (n.equals("tornado"))
                throw new IllegalArgumentException("backend 'tornado' is not available: the TornadoVM module (msts-tornado)"
                        + " is not on the class path. Run through `./msts --backend tornado ...`, which builds it and"
                        + " launches under the TornadoVM SDK (needs TORNADOVM_HOME; see tornado-config/README.md)");
            List<String> known = new ArrayList<>(BUILT_IN);
            providers().forEach(q -> { if (!known.contains(q.name())) known.add(q.name()); });
            if (!known.contains("tornado")) known.add("tornado");
            throw new IllegalArgumentException("unknown backend '" + name + "' (known: " + String.join(", ", known) + ")");
        }
        String why = p.get().unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend '" + n + "' cannot run here: " + why);
        return p.get().create(device, opts);
    }
}
