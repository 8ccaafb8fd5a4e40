package msts.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: one picocli class per subcommand, registered here. */
@Command(name = "msts", mixinStandardHelpOptions = true, version = "msts 0.1.0",
        description = "Multi-Scale Temporal SAEs on Gemma-2: forward, harvest, train, eval, report.",
        subcommands = {
                CommandLine.HelpCommand.class,
                InfoCommand.class,
                ForwardCommand.class,
                TinyModelCommand.class,
                HarvestCommand.class,
                TrainCommand.class,
                EvalCommand.class,
                SyntheticCommand.class,
                FeaturesCommand.class,
                ReportCommand.class,
                DemoCommand.class,
                BenchCommand.class,
                DevicesCommand.class,
        })
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Errors::handle);
        return cl.execute(args);
    }
}
