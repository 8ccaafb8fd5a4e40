package msts.cli;

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

    /** The fast CPU backend when present on the classpath, else the reference implementation. */
    static Ops cpu() {
        try {
            Class<?> c = Class.forName("msts.engine.CpuOps");
            try {
                return (Ops) c.getField("INSTANCE").get(null);
            } catch (NoSuchFieldException e) {
                return (Ops) c.getConstructor().newInstance();
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            return Ops.reference();
        }
    }

    static void checkBackend(String backend) {
        if (backend != null && !backend.equals("cpu"))
            throw new IllegalArgumentException("--backend " + backend + " is not available here (cpu; tornado runs through ./msts --backend tornado)");
    }
}
