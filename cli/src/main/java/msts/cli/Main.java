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

    /**
     * Runs the CLI and returns its exit code (tests call this instead of main). Every failure of every
     * subcommand ends here as one line (see {@link Errors}): usage errors (unknown option, a value that does
     * not parse) exit 2, everything else 1 — an out-of-range value included —
     * JVM errors (out of memory, a fault in a mapped read) included. Numeric options are range-checked
     * ({@link OptionChecks}) before any command runs.
     */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, c, pr) -> Errors.handle(ex, c, pr));
        cl.setParameterExceptionHandler(Errors::usage);
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(pr -> {
            try {
                OptionChecks.check(pr);
            } catch (OptionChecks.OutOfRange e) { // a value that parsed but is out of range: bad input, exit 1
                return Errors.handle(e, e.commandLine(), pr);
            }
            try {
                return runLast.execute(pr);
            } catch (CommandLine.ParameterException | CommandLine.ExecutionException e) {
                throw e;
            } catch (Throwable t) { // errors picocli does not catch: OutOfMemoryError, InternalError, ...
                CommandLine last = pr.asCommandLineList().getLast();
                return Errors.handle(t, last, pr);
            }
        });
        try {
            return cl.execute(args);
        } catch (Throwable t) { // a failure inside a handler itself: still one line
            System.err.println("msts: " + Errors.message(t));
            return 1;
        }
    }
}
