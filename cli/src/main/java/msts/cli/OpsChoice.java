package msts.cli;

import msts.engine.CpuOps;
import msts.engine.Ops;

/** Resolves --ops names: "reference" (plain loops, the control) or "cpu" (Vector API backend). */
final class OpsChoice {
    private OpsChoice() {}

    static Ops byName(String name) {
        return switch (name == null ? "cpu" : name) {
            case "reference" -> Ops.reference();
            case "cpu" -> cpu();
            default -> throw new IllegalArgumentException("unknown --ops '" + name + "' (reference or cpu)");
        };
    }

    /** The Vector API CPU backend (all cores). */
    static Ops cpu() { return CpuOps.INSTANCE; }

    /**
     * The ops of --backend/--device and --ops: cpu → {@link #byName}; tornado → the TornadoVM ops (found via
     * {@link msts.engine.Backends}; a clear error when the module is not on the class path).
     */
    static Ops resolve(BackendOption backend, String opsName) {
        if (backend != null && backend.isTornado()) return backend.ops();
        if (backend != null && backend.device() != null)
            throw new IllegalArgumentException("--device selects a TornadoVM device; it needs --backend tornado");
        if (backend != null && !"cpu".equalsIgnoreCase(backend.name()))
            throw new IllegalArgumentException("unknown --backend '" + backend.name() + "' (cpu or tornado)");
        return byName(opsName);
    }

    /**
     * The forward engine for a loaded model: the model itself on the CPU backend; with --backend tornado the
     * registered whole-pass engine (TornadoVM task graphs per layer, {@link msts.model.gemma.ForwardEngines}).
     */
    static msts.model.gemma.ForwardEngine engine(msts.model.gemma.Gemma2 m, BackendOption backend) {
        if (backend == null || !backend.isTornado()) return m;
        return msts.model.gemma.ForwardEngines.create(m, "tornado", backend.device());
    }
}
