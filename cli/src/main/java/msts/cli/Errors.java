package msts.cli;

import picocli.CommandLine;

/**
 * One-line errors: an exception from a subcommand prints "msts: <message>" and exits 1; the stack trace
 * only with --verbose (or MSTS_VERBOSE=1).
 */
final class Errors {
    private Errors() {}

    static boolean verbose(CommandLine.ParseResult pr) {
        if ("1".equals(System.getenv("MSTS_VERBOSE"))) return true;
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    static int handle(Exception ex, CommandLine cmd, CommandLine.ParseResult pr) {
        String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        cmd.getErr().println("msts: " + msg);
        if (verbose(pr)) ex.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return 1;
    }
}
