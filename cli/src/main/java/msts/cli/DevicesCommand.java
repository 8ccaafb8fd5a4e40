package msts.cli;

import java.util.concurrent.Callable;

import msts.engine.backend.BackendProvider;
import msts.engine.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code msts devices}: the backends and the devices of each device backend ({@code --backend tornado --device B:D}). */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the backends and their devices (for --backend tornado --device B:D), or say why a backend is not available.")
public final class DevicesCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** Accepted so that `./msts devices --backend tornado` relaunches under TornadoVM; the value is not used here. */
    @picocli.CommandLine.Mixin BackendOption backend;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.println("cpu        the CPU backend: Vector API on all cores (always available)");
        out.println("reference  the plain-loop reference kernels, the control (always available)");
        var providers = Backends.providers();
        if (providers.stream().noneMatch(p -> p.name().equalsIgnoreCase("tornado")))
            out.println("tornado  not available: the TornadoVM module is not on the class path"
                    + " (run `./msts --backend tornado devices` with TORNADOVM_HOME set; see tornado-config/README.md)");
        for (BackendProvider p : providers) {
            String why = p.unavailableReason();
            if (why != null) {
                out.println(p.name() + "  not available: " + why);
                continue;
            }
            out.println(p.name() + "  devices (use --backend " + p.name() + " --device B:D):");
            for (String d : p.devices()) out.println("  " + d);
        }
        return 0;
    }
}
