package msts.cli;

import msts.engine.Parallel;
import picocli.CommandLine.Option;

/**
 * {@code --threads N}: the thread count of the CPU kernels, typed and resolved at the top: {@link #apply()}
 * fixes it ({@link Parallel#configure}) before any work.
 */
public final class RunOptions {
    @Range(min = 1) @Option(names = "--threads", paramLabel = "N", description = "threads of the CPU kernels (default: all cores)")
    Integer threads;

    /** Applies --threads (when given); call first thing in the command. Returns this. */
    RunOptions apply() {
        if (threads != null) Parallel.configure(threads);
        return this;
    }
}
