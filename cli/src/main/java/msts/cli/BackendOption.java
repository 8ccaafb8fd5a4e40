package msts.cli;

import msts.engine.Backends;
import msts.engine.Ops;
import picocli.CommandLine.Option;

/**
 * Shared picocli mixin for commands that compute: {@code --backend cpu|tornado} and {@code --device B:D}.
 * Use as {@code @Mixin BackendOption backend;} then {@code backend.ops()}. The backend is chosen here,
 * once; model code only receives the {@link Ops}. {@code ./msts --backend tornado ...} relaunches under the
 * TornadoVM SDK (tornado-config/run-tornado.sh) so that the tornado module and its runtime are present.
 */
public final class BackendOption {
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|tornado",
            description = "Compute backend: cpu (default) or tornado (TornadoVM: OpenCL/PTX/SPIR-V devices). Default: ${DEFAULT-VALUE}.")
    String backend = "cpu";

    @Option(names = "--device", paramLabel = "B:D",
            description = "TornadoVM device as BACKEND:DEVICE, e.g. 0:0 (see `msts devices`); default: TornadoVM's default device.")
    String device;

    public String name() { return backend; }

    public String device() { return device; }

    public boolean isTornado() { return "tornado".equalsIgnoreCase(backend); }

    /** The ops of the chosen backend; a clear error when it is unknown or cannot run here. */
    public Ops ops() {
        if (device != null && !isTornado())
            throw new IllegalArgumentException("--device selects a TornadoVM device; it needs --backend tornado");
        return Backends.ops(backend, device);
    }
}
