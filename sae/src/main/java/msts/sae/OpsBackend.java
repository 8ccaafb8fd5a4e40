package msts.sae;

import msts.engine.Ops;
import msts.engine.backend.Backend;

/**
 * A {@link Backend} that is just a set of ops (no extensions: SAE training runs {@link CpuTrainStep} on them).
 * For tests and callers that hold only an {@link Ops}; the CLI's backends come from the engine's resolver.
 */
public record OpsBackend(String name, Ops ops) implements Backend {
    /** The backend of ops, named after them ("cpu", "reference"). */
    public static Backend of(Ops ops) {
        return new OpsBackend(ops.name(), ops);
    }
}
