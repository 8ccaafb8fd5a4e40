package msts.cli;

import msts.engine.Ops;
import msts.model.sae.SafetensorsActivations;
import msts.model.store.ActivationSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Shared helpers of the SAE subcommands: the compute ops and the activation input. */
final class SaeCli {
    private SaeCli() {}

    /** The fastest available ops: the engine's Vector API CpuOps when present, else the reference. */
    static Ops bestOps(String which) {
        if ("reference".equals(which)) return Ops.reference();
        try {
            return (Ops) Class.forName("msts.engine.CpuOps").getField("INSTANCE").get(null);
        } catch (ReflectiveOperationException | ClassCastException e) {
            if ("cpu".equals(which)) throw new IllegalArgumentException("the Vector API CPU ops are not available in this build");
            return Ops.reference();
        }
    }

    /** Opens --store DIR or --activations FILE. */
    static ActivationSource openActivations(Path store, Path file) throws IOException {
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IOException("--activations " + file + ": no such file");
            return new SafetensorsActivations(file);
        }
        if (store == null) throw new IllegalArgumentException("give --store DIR or --activations FILE");
        if (!Files.exists(store)) throw new IOException("--store " + store + ": no such directory or file");
        if (Files.isRegularFile(store)) return new SafetensorsActivations(store);
        try {
            Object src = Class.forName("msts.model.store.ActivationSources").getMethod("open", Path.class).invoke(null, store);
            return (ActivationSource) src;
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IOException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("activation store directories are not supported by this build; use --activations FILE");
        }
    }
}
