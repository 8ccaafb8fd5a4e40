package msts.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import msts.evals.SyntheticFiles;
import msts.evals.SyntheticSequences;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code msts synthetic}: the ground-truth benchmark's activation sequences and planted directions. */
@Command(name = "synthetic", mixinStandardHelpOptions = true,
        description = {"Writes synthetic activation sequences with planted features at several time scales (Markov on/off,",
                "mean run lengths --scales), in superposition, plus noise: DIR/activations.safetensors (train on it with",
                "msts train --activations) and DIR/ground_truth.safetensors (for msts eval disentangle --ground-truth)."})
public final class SyntheticCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--seqs", defaultValue = "1024", description = "sequences (default ${DEFAULT-VALUE})") int seqs;
    @Option(names = "--context", defaultValue = "128", description = "tokens per sequence (default ${DEFAULT-VALUE})") int ctx;
    @Option(names = "--d", defaultValue = "32", description = "activation dimension (default ${DEFAULT-VALUE})") int d;
    @Option(names = "--scales", split = ",", defaultValue = "1,4,16", description = "mean on-run lengths (default ${DEFAULT-VALUE})") int[] scales;
    @Option(names = "--features-per-scale", defaultValue = "32", description = "default ${DEFAULT-VALUE}") int perScale;
    @Option(names = "--on-fraction", defaultValue = "0.04", description = "stationary fraction of tokens a feature is on (default ${DEFAULT-VALUE})") double on;
    @Option(names = "--noise", defaultValue = "0.05", description = "Gaussian noise std per dimension (default ${DEFAULT-VALUE})") double noise;
    @Option(names = "--seed", defaultValue = "0", description = "default ${DEFAULT-VALUE}") long seed;
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        var s = new SyntheticSequences.Spec(d, scales, perScale, on, 0.5, 1.5, noise, seqs, ctx, seed);
        SyntheticFiles.write(out, SyntheticSequences.generate(s));
        spec.commandLine().getOut().printf("wrote %s and %s: %d sequences x %d tokens, d=%d, %d features (%d per scale %s)%n",
                out.resolve(SyntheticFiles.ACTIVATIONS), out.resolve(SyntheticFiles.GROUND_TRUTH), seqs, ctx, d, s.nFeatures(),
                perScale, java.util.Arrays.toString(scales));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
