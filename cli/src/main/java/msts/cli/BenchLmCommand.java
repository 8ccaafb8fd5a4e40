package msts.cli;

import msts.bench.LmTrainBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code msts bench lm}: the options of {@link LmTrainBench} (Gemma-2 LM training steps next to PyTorch-CPU). */
@Command(name = "lm", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Benchmark Gemma-2 LM training steps (tokens/s) next to PyTorch-CPU on the same model and rows.")
public final class BenchLmCommand implements Callable<Integer> {
    @Option(names = "--vocab", defaultValue = "785", description = "vocabulary (785: the default world's)") int vocab;
    @Option(names = "--hidden", defaultValue = "128") int hidden;
    @Option(names = "--layers", defaultValue = "4") int layers;
    @Option(names = "--heads", defaultValue = "4") int heads;
    @Option(names = "--kv-heads", defaultValue = "2") int kvHeads;
    @Option(names = "--intermediate", defaultValue = "512") int intermediate;
    @Option(names = "--context", defaultValue = "128") int context;
    @Option(names = "--sliding-window", defaultValue = "32") int window;
    @Option(names = "--batch", defaultValue = "16") int batch;
    @Option(names = "--steps", defaultValue = "5", description = "timed steps") int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first") int warmup;
    @Option(names = "--lr", defaultValue = "3e-3") float lr;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--peer-threads", defaultValue = "2", description = "torch.set_num_threads of the peer") int threads;
    @picocli.CommandLine.Mixin BackendOption backend; // --backend cpu|reference
    @picocli.CommandLine.Mixin RunOptions run; // --threads N (msts)
    @Option(names = "--no-peer", description = "skip the PyTorch peer") boolean noPeer;
    @Option(names = "--python", defaultValue = "/usr/bin/python3") String python;
    @Option(names = "--peer-script", defaultValue = "scripts/lm_train_torch.py") Path peerScript;

    @Override
    public Integer call() throws Exception {
        run.apply();
        try (msts.engine.backend.Backend b = backend.backend()) {
            new LmTrainBench(new LmTrainBench.Options(vocab, hidden, layers, heads, kvHeads, intermediate, context, window, batch,
                    steps, warmup, lr, seed, threads, !noPeer, python, peerScript)).run(b.ops());
        }
        return 0;
    }
}
