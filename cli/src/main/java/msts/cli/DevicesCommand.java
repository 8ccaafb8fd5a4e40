package msts.cli;

import java.util.concurrent.Callable;

import msts.engine.Backends;
import msts.engine.spi.OpsProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code msts devices}: the TornadoVM devices usable with {@code --backend tornado --device B:D}. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the TornadoVM devices (for --backend tornado --device B:D), or say why TornadoVM is not available.")
public final class DevicesCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** Accepted so that `./msts devices --backend tornado` relaunches under TornadoVM; the value is not used here. */
    @picocli.CommandLine.Mixin BackendOption backend;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.println("cpu      the CPU backend (always available)");
        var p = Backends.provider("tornado");
        if (p.isEmpty()) {
            out.println("tornado  not available: the TornadoVM module is not on the class path"
                    + " (run `./msts --backend tornado devices` with TORNADOVM_HOME set; see tornado-config/README.md)");
            return 0;
        }
        OpsProvider t = p.get();
        String why = t.unavailableReason();
        if (why != null) {
            out.println("tornado  not available: " + why);
            return 0;
        }
        out.println("tornado  devices (use --device B:D):");
        for (String d : t.devices()) out.println("  " + d);
        return 0;
    }
}
