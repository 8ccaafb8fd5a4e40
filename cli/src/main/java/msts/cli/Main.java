package msts.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: one picocli class per subcommand, registered here. */
@Command(name = "msts", mixinStandardHelpOptions = true, version = "msts 0.1.0",
        description = "Multi-Scale Temporal SAEs on Gemma-2: forward, harvest, train, eval, report.",
        subcommands = {
                CommandLine.HelpCommand.class,
                InfoCommand.class,
                TokenizeCommand.class,
                ForwardCommand.class,
                TinyModelCommand.class,
                HarvestCommand.class,
                TrainCommand.class,
                LmCommand.class,
                EvalCommand.class,
                SyntheticCommand.class,
                FeaturesCommand.class,
                WorldCommand.class,
                ReportCommand.class,
                ExportCommand.class,
                DemoCommand.class,
                ExperimentCommand.class,
                BenchCommand.class,
                DevicesCommand.class,
        })
public final class Main implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Arguments and standard output/error are UTF-8 whatever the locale ({@link Utf8Args}). */
    public static void main(String[] args) {
        System.exit(run(Utf8Args.writer(java.io.FileDescriptor.out), Utf8Args.writer(java.io.FileDescriptor.err), Utf8Args.of(args)));
    }

    /**
     * Runs the CLI and returns its exit code (tests call this instead of main). Every failure of every
     * subcommand ends here as one line (see {@link Errors}): usage errors (unknown option, a value that does
     * not parse) exit 2, everything else 1 — an out-of-range value included —
     * JVM errors (out of memory, a fault in a mapped read) included. Numeric options are range-checked
     * ({@link OptionChecks}) before any command runs.
     */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** The command tree; every command's --help shows each option's default value. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        showDefaults(cl);
        return cl;
    }

    private static void showDefaults(CommandLine cl) {
        cl.getCommandSpec().usageMessage().showDefaultValues(true);
        cl.getSubcommands().values().forEach(Main::showDefaults);
    }

    static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        if (out != null) cl.setOut(out);
        if (err != null) cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, c, pr) -> Errors.handle(ex, c, pr));
        cl.setParameterExceptionHandler(Errors::usage);
        CommandLine.IExecutionStrategy runLast = new CommandLine.RunLast();
        cl.setExecutionStrategy(pr -> {
            boolean help = pr.asCommandLineList().stream().anyMatch(c -> c.isUsageHelpRequested() || c.isVersionHelpRequested());
            try {
                if (!help) OptionChecks.check(pr); // --help works whatever else is (or is not) on the line
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
            java.io.PrintWriter w = cl.getErr();
            w.println("msts: " + Errors.message(t));
            w.flush();
            return 1;
        }
    }
}
