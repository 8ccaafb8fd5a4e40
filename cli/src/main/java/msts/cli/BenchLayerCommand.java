package msts.cli;

import msts.bench.LayerBench;
import msts.engine.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code msts bench layer}: the options of {@link LayerBench} (one Gemma-2-2B layer next to its numpy peer).
 */
@Command(name = "layer", mixinStandardHelpOptions = true,
        description = {"Tokens/s of one Gemma-2-2B layer (hidden 2304, 8/4 heads × 256, intermediate 9216) with random weights,",
                "next to the numpy peer scripts/bench_layer_numpy.py on the same machine."})
public final class BenchLayerCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--tokens", defaultValue = "128", description = "sequence length (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--dtype", defaultValue = "bf16,f32", split = ",", description = "weight dtypes: bf16, f32 (default ${DEFAULT-VALUE})")
    List<String> dtypes;

    @picocli.CommandLine.Mixin
    BackendOption backend; // --backend cpu|reference|tornado, --device B:D

    @picocli.CommandLine.Mixin
    RunOptions run; // --threads N

    @Option(names = "--warmup", defaultValue = "2") int warmup;

    @Option(names = "--runs", defaultValue = "5") int runs;

    @Option(names = "--no-peer", description = "skip the numpy peer") boolean noPeer;

    @Option(names = "--python", defaultValue = "python3", description = "python with numpy for the peer") String python;

    @Option(names = "--peer-script", description = "path of bench_layer_numpy.py (default: scripts/ next to the jar or in the working directory)")
    Path peerScript;

    @Option(names = "--peer-threads", defaultValue = "default,1", split = ",",
            description = "OPENBLAS_NUM_THREADS settings for the numpy peer, each run separately (default ${DEFAULT-VALUE}; oversubscribed machines often favour 1)")
    List<String> peerThreads;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() {
        run.apply();
        try (Backend b = backend.backend()) {
            LayerBench.run(new LayerBench.Options(tokens, dtypes, warmup, runs, !noPeer, python, peerScript, peerThreads),
                    b.ops(), spec.commandLine().getOut());
        }
        return 0;
    }
}
