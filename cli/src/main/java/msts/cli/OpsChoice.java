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

    static void checkBackend(String backend) {
        if (backend != null && !backend.equals("cpu"))
            throw new IllegalArgumentException("--backend " + backend + " is not available here (cpu; tornado runs through ./msts --backend tornado)");
    }
}
