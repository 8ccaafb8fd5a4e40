package msts.cli;

import msts.engine.backend.Backend;
import msts.engine.backend.Backends;
import picocli.CommandLine.Option;

/**
 * Shared picocli mixin of every command that computes: {@code --backend cpu|reference|tornado} and
 * {@code --device B:D}. The command resolves it ONCE ({@link #backend()}) and passes the {@link Backend} down
 * to everything that computes (model, SAE, training, evals); code below never branches on its name.
 * {@code ./msts --backend tornado ...} relaunches under the TornadoVM SDK (tornado-config/run-tornado.sh) so
 * that the tornado module and its runtime are present.
 */
public final class BackendOption {
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|reference|tornado",
            description = "Compute backend: cpu (Vector API, all cores), reference (plain loops, the control) or tornado"
                    + " (TornadoVM: OpenCL/PTX/SPIR-V devices).")
    String backend = "cpu";

    @Option(names = "--device", paramLabel = "B:D",
            description = "Device of a device backend (tornado) as BACKEND:DEVICE, e.g. 0:0 (see `msts devices`); default: its default device.")
    String device;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE", showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER,
            description = "Option of the backend, repeatable; tornado: maxPlans=N (forward plans cached, each holds the weights; default 1),"
                    + " matmul=auto|threads|groups (matmul kernel shape; auto: threads on CPU devices, groups on GPUs).")
    java.util.Map<String, String> options = new java.util.LinkedHashMap<>();

    private Backend resolved;

    public String name() { return backend; }

    public String device() { return device; }

    /** The backend of this command, resolved on the first call (one clear error when it cannot run); the same one after. */
    public Backend backend() {
        if (resolved == null) resolved = Backends.resolve(backend, device, options);
        return resolved;
    }
}
