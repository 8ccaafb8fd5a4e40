package msts.cli;

import msts.bench.TrainBench;
import msts.engine.backend.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code msts bench train}: the options of {@link TrainBench} (SAE training steps next to PyTorch-CPU). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Benchmark SAE training steps (tokens/s, effective GFLOP/s) next to PyTorch-CPU.")
public final class BenchTrainCommand implements Callable<Integer> {
    @Range(min = 1) @Option(names = "--d-in", defaultValue = "2304") int dIn;
    @Option(names = "--configs", defaultValue = "2304:4096,16384:1024", split = ",",
            description = "d_sae:batch_tokens pairs") List<String> configs;
    @Option(names = "--arch", defaultValue = "relu,temporal", split = ",", description = "relu, temporal, topk, jumprelu and/or batchtopk (no PyTorch peer for the last two: compare with relu / topk of the same run)") List<String> archs;
    @Range(min = 1) @Option(names = "--k", defaultValue = "64", description = "k of the topk arch") int k;
    @Option(names = "--sparse", defaultValue = "-1", paramLabel = "FRACTION",
            description = "sparse products when at most this fraction of latents is active (0 = always dense, >1 = always sparse; default: automatic)") double sparse;
    @Option(names = "--l0", defaultValue = "64", description = "relu-sparse: expected active latents per token at the start") int l0;
    @Option(names = "--ctx", defaultValue = "128", description = "sequence length of temporal batches") int ctx;
    @Range(min = 1) @Option(names = "--steps", defaultValue = "3", description = "timed steps") int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first") int warmup;
    @picocli.CommandLine.Mixin BackendOption backend; // --backend cpu|reference|tornado, --device B:D
    @picocli.CommandLine.Mixin RunOptions run; // --threads N
    @Option(names = "--no-peer", description = "skip the PyTorch peer") boolean noPeer;
    @Option(names = "--python", defaultValue = "/usr/bin/python3") String python;
    @Option(names = "--peer-script", defaultValue = "scripts/bench_train_torch.py") Path peerScript;

    @Override
    public Integer call() throws Exception {
        run.apply();
        try (Backend b = backend.backend()) {
            new TrainBench(new TrainBench.Options(dIn, configs, archs, k, l0, ctx, steps, warmup, !noPeer, python, peerScript, sparse))
                    .run(b);
        }
        return 0;
    }
}
