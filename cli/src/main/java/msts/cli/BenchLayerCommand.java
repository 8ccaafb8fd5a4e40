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

    @Option(names = "--tokens", defaultValue = "128", description = "sequence length")
    int tokens;

    @Option(names = "--dtype", defaultValue = "bf16,f32", split = ",", description = "weight dtypes: bf16, f32")
    List<String> dtypes;

    @picocli.CommandLine.Mixin
    BackendOption backend; // --backend cpu|reference|tornado, --device B:D

    @picocli.CommandLine.Mixin
    RunOptions run; // --threads N

    @Option(names = "--warmup", defaultValue = "2") int warmup;

    @Range(min = 1) @Option(names = "--runs", defaultValue = "5") int runs;

    @Option(names = "--no-peer", description = "skip the numpy peer") boolean noPeer;

    @Option(names = "--python", defaultValue = "python3", description = "python with numpy for the peer") String python;

    @Option(names = "--peer-script", description = "path of bench_layer_numpy.py (default: scripts/ next to the jar or in the working directory)")
    Path peerScript;

    @Option(names = "--peer-threads", defaultValue = "default,1", split = ",",
            description = "OPENBLAS_NUM_THREADS settings for the numpy peer, each run separately (oversubscribed machines often favour 1)")
    List<String> peerThreads;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Option(names = "--compute", defaultValue = "f32", paramLabel = "f32|bf16",
            description = {"f32 (default): the layer per --dtype next to numpy. bf16: BF16 weights, F32 compute and --compute bf16",
                    "(native and Vector API kernels) interleaved run by run, the error of bf16 against f32, and the PyTorch-CPU",
                    "BF16 peer scripts/bench_layer_torch.py (the layer in torch.bfloat16, same thread count)."})
    String compute;

    @Option(names = "--torch-python", defaultValue = "/usr/bin/python3", description = "python with torch for the bf16 peer")
    String torchPython;

    @Override
    public Integer call() {
        run.apply();
        try (Backend b = backend.backend()) {
            if (msts.engine.Compute.parse(compute) == msts.engine.Compute.BF16) {
                msts.bench.Bf16LayerBench.run(tokens, warmup, runs, !noPeer, torchPython, b.ops(), spec.commandLine().getOut());
                return 0;
            }
            LayerBench.run(new LayerBench.Options(tokens, dtypes, warmup, runs, !noPeer, python, peerScript, peerThreads),
                    b.ops(), spec.commandLine().getOut());
        }
        return 0;
    }
}
