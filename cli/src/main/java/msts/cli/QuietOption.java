package msts.cli;

import picocli.CommandLine.Option;

/** {@code --quiet}: no progress bar (commands pass it to what draws one). */
public final class QuietOption {
    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;
}
