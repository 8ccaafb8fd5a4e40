package msts.cli;

import picocli.CommandLine.Option;

/** {@code --verbose}: stack traces on errors (read by {@link Errors}). Mixed into every command. */
public final class VerboseOption {
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;
}
