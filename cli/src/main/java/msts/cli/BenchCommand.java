package msts.cli;

import picocli.CommandLine.Command;

/**
 * {@code msts bench <what>}: benchmarks run next to a peer on the same machine in the same run.
 * Each benchmark is its own subcommand class: {@link BenchMatmulCommand}, {@link BenchLayerCommand},
 * {@link BenchTrainCommand}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks next to a peer (numpy/OpenBLAS, PyTorch) run back to back on this machine.",
        subcommands = {
                BenchMatmulCommand.class,
                BenchLayerCommand.class,
                BenchTrainCommand.class,
                BenchLmCommand.class,
        })
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}
