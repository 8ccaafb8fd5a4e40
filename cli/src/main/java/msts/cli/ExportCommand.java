package msts.cli;

import picocli.CommandLine.Command;

/** {@code msts export <format>}: msts results in another tool's layout ({@link ExportSaeBenchCommand}). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Writes msts results in another tool's layout.",
        subcommands = {ExportSaeBenchCommand.class})
public final class ExportCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}
