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
    @Range(min = 1) @Option(names = "--seqs", defaultValue = "1024", description = "sequences") int seqs;
    @Range(min = 2) @Option(names = "--context", defaultValue = "128", description = "tokens per sequence") int ctx;
    @Range(min = 1) @Option(names = "--d", defaultValue = "32", description = "activation dimension") int d;
    @Range(min = 1) @Option(names = "--scales", split = ",", defaultValue = "1,4,16", description = "mean on-run lengths") int[] scales;
    @Range(min = 1) @Option(names = "--features-per-scale", defaultValue = "32", description = "") int perScale;
    @Range(min = 0, max = 1, minExclusive = true) @Option(names = "--on-fraction", defaultValue = "0.04", description = "stationary fraction of tokens a feature is on") double on;
    @Option(names = "--noise", defaultValue = "0.05", description = "Gaussian noise std per dimension (regime clean)") double noise;
    @Option(names = "--regime", defaultValue = "clean", description = {"clean: noise --noise; low-snr: noise set so that a feature's per-token SNR",
            "E[m²]/σ² is --token-snr (< 1) while its SNR over a run of the longest scale L·E[m²]/σ² is > 1 (docs/experiment.md)"}) String regime;
    @Range(min = 0, minExclusive = true, max = 1) @Option(names = "--token-snr", defaultValue = "0.5", description = "per-token SNR of the low-snr regime") double tokenSnr;
    @Range(min = Long.MIN_VALUE) @Option(names = "--seed", defaultValue = "0", description = "") long seed;
    @Option(names = "--force", description = "overwrite existing files in --out") boolean force;
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        Outputs.refuseOverwrite(out, force, SyntheticFiles.ACTIVATIONS, SyntheticFiles.GROUND_TRUTH);
        // the activations [seqs, ctx, d] (generated, then written) and the feature states [seqs, ctx, features]
        long feats = msts.engine.util.Memory.product(perScale, scales.length);
        long data = msts.engine.util.Memory.product(8, seqs, ctx, d + Math.max(0, feats)), dirs = msts.engine.util.Memory.product(8, feats, d);
        if (feats > Integer.MAX_VALUE || msts.engine.util.Memory.product(feats, d) > Integer.MAX_VALUE
                || msts.engine.util.Memory.product(seqs, ctx, d) > Integer.MAX_VALUE) data = -1; // beyond one Java array
        msts.engine.util.Memory.require(data < 0 || dirs < 0 ? -1 : data + dirs,
                "synthetic data of " + seqs + " × " + ctx + " × " + d + " with " + feats + " features", "use fewer --seqs or --features-per-scale, or a smaller --context / --d");
        var s = new SyntheticSequences.Spec(d, scales, perScale, on, 0.5, 1.5, noise, seqs, ctx, seed);
        switch (regime) {
            case "clean" -> {}
            case "low-snr" -> {
                if (tokenSnr >= 1) throw new IllegalArgumentException("--token-snr must be < 1 in the low-snr regime, got " + tokenSnr);
                s = s.withTokenSnr(tokenSnr);
                int longest = java.util.Arrays.stream(scales).max().orElse(1);
                if (s.runSnr(longest) <= 1)
                    throw new IllegalArgumentException("--regime low-snr: the longest time scale " + longest + " gives run SNR "
                            + String.format(java.util.Locale.ROOT, "%.2f", s.runSnr(longest)) + " <= 1 at --token-snr " + tokenSnr
                            + "; use a longer scale (--scales) or a higher --token-snr");
            }
            default -> throw new IllegalArgumentException("--regime must be clean or low-snr, got '" + regime + "'");
        }
        SyntheticFiles.write(out, SyntheticSequences.generate(s));
        spec.commandLine().getOut().printf(java.util.Locale.ROOT, "wrote %s and %s: %d sequences x %d tokens, d=%d, %d features (%d per scale %s); regime %s: noise %.4g, per-token SNR %.3g%n",
                out.resolve(SyntheticFiles.ACTIVATIONS), out.resolve(SyntheticFiles.GROUND_TRUTH), seqs, ctx, d, s.nFeatures(),
                perScale, java.util.Arrays.toString(scales), regime, s.noiseStd(), s.tokenSnr());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
