package msts.cli;

import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.data.BatchSource;
import msts.sae.Activation;
import msts.sae.Architecture;
import msts.sae.SaeConfig;
import msts.sae.SaeTrainer;
import msts.sae.SparsePolicy;
import msts.sae.TrainResult;
import msts.data.StoreBatches;
import msts.data.ActivationSources;
import msts.sae.TrainConfig;
import msts.data.ActivationSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** msts train: trains a ReLU, TopK or Multi-Scale Temporal SAE on stored activations (docs/sae.md). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an SAE (relu | topk | temporal) on stored activations; writes a SAELens-layout directory.")
public final class TrainCommand implements Callable<Integer> {
    static final class Input {
        @Option(names = "--store", paramLabel = "DIR", description = "activation store directory (msts harvest)") Path store;
        @Option(names = "--activations", paramLabel = "FILE", description = "safetensors file with tensor 'activations' [n_seq, ctx, d]") Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Input input;
    @Option(names = "--arch", defaultValue = "relu", description = "standard (alias relu) | topk | temporal (default ${DEFAULT-VALUE})") String arch;
    @Option(names = "--act", defaultValue = "relu", description = "activation of the temporal SAE: relu | topk") String act;
    @Option(names = "--d-sae", required = true, description = "number of latents") int dSae;
    @Option(names = "--l1", defaultValue = "5", description = "L1 coefficient λ (ReLU; default ${DEFAULT-VALUE})") float l1;
    @Option(names = "--l1-mode", defaultValue = "decoder_norm", description = "decoder_norm | unit_norm") String l1Mode;
    @Option(names = "--k", defaultValue = "64", description = "TopK k") int k;
    @Option(names = "--k-aux", defaultValue = "0", description = "AuxK k_aux (0 = d_in/2)") int kAux;
    @Option(names = "--aux-coefficient", defaultValue = "0.03125", description = "AuxK coefficient (default 1/32)") float auxCoef;
    @Option(names = "--dilations", defaultValue = "1,2,4", split = ",", description = "temporal dilations") int[] dilations;
    @Option(names = "--conv-mode", defaultValue = "causal", description = "causal | centred") String convMode;
    @Option(names = "--sep-weight", defaultValue = "0", description = "cosine separation loss weight") float sepWeight;
    @Option(names = "--sep-form", defaultValue = "all", description = "all (exact Gram) | sampled | coactive") String sepForm;
    @Option(names = "--sep-margin", defaultValue = "0", description = "margin m: penalise relu(|cos| − m)²") float sepMargin;
    @Option(names = "--sep-pairs", defaultValue = "4096", description = "pairs per step (sampled / coactive)") int sepPairs;
    @Option(names = "--tokens", defaultValue = "1000000", description = "training tokens") long tokens;
    @Option(names = "--batch", defaultValue = "4096", description = "tokens per batch") int batch;
    @Option(names = "--lr", defaultValue = "3e-4") float lr;
    @Option(names = "--lr-warmup", defaultValue = "-1", description = "LR warm-up steps (-1 = min(1000, steps/10))") int lrWarmup;
    @Option(names = "--lr-decay", defaultValue = "0.2", description = "fraction of steps with linear LR decay") float lrDecay;
    @Option(names = "--l1-warmup", defaultValue = "-1", description = "L1 warm-up steps (-1 = steps/20)") int l1Warmup;
    @Option(names = "--clip", defaultValue = "0", description = "gradient-norm clip (0 = off)") float clip;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between checkpoints (0 = end only)") int checkpointEvery;
    @Option(names = "--max-steps", defaultValue = "0", description = "stop after this many steps of this run (checkpointed; continue with --resume)") long maxSteps;
    @Option(names = "--dead-after", defaultValue = "10000000", description = "tokens without firing before a latent counts as dead") long deadAfter;
    @Option(names = "--sparse", defaultValue = "-1", paramLabel = "FRACTION",
            description = "sparse decoder/backward products when at most this fraction of latents is active (0 = always dense, >1 = always sparse; default: automatic)") double sparse;
    @Option(names = "--resume", description = "continue from OUT/checkpoint") boolean resume;
    @Option(names = "--include-bos", description = "count position 0 in losses and statistics") boolean includeBos;
    @Option(names = "--no-normalize", description = "do not scale activations to mean norm sqrt(d_in)") boolean noNormalize;
    @Option(names = "--hook-layer", defaultValue = "0", description = "layer the activations come from (cfg.json)") int hookLayer;
    @Option(names = "--model-name", defaultValue = "gemma-2-2b") String modelName;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @picocli.CommandLine.Mixin BackendOption backend; // --backend cpu|reference|tornado, --device B:D
    @picocli.CommandLine.Mixin RunOptions run; // --threads N
    @picocli.CommandLine.Mixin QuietOption quiet;
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        run.apply();
        try (Backend b = backend.backend()) {
            return run(b);
        }
    }

    private Integer run(Backend b) throws Exception {
        if (!resume && Files.isDirectory(out) && (Files.exists(out.resolve("checkpoint")) || Files.exists(out.resolve("summary.json"))))
            throw new IllegalArgumentException(out + " already holds a training run; pass --resume to continue it or choose another --out");
        if (batch <= 0 || tokens <= 0) throw new IllegalArgumentException("--batch and --tokens must be positive");
        Ops ops = b.ops();
        Path in = input.file != null ? input.file : input.store;
        if (!Files.exists(in)) throw new IllegalArgumentException((input.file != null ? "--activations " : "--store ") + in + ": no such file or directory");
        try (ActivationSource src = ActivationSources.open(in)) {
            Architecture architecture = Architecture.parse(arch); // "relu" = "standard"
            SaeConfig c = SaeConfig.builder()
                    .dIn(src.dIn()).dSae(dSae).architecture(architecture)
                    .activation(architecture == Architecture.TEMPORAL ? Activation.parse(act) : architecture.fixedActivation())
                    .k(k).kAux(kAux).auxKCoefficient(auxCoef).dilations(dilations).convMode(convMode)
                    .l1Coefficient(l1).l1Mode(l1Mode)
                    .sepWeight(sepWeight).sepForm(sepForm).sepMargin(sepMargin).sepPairs(sepPairs)
                    .contextSize(src.contextSize()).hookLayer(hookLayer).hookName("blocks." + hookLayer + ".hook_resid_post")
                    .modelName(modelName).build();
            TrainConfig t = TrainConfig.builder()
                    .totalTokens(tokens).lr(lr).lrWarmupSteps(lrWarmup).lrDecayFraction(lrDecay).l1WarmupSteps(l1Warmup)
                    .clipNorm(clip).seed(seed).checkpointEvery(checkpointEvery).maxStepsThisRun(maxSteps)
                    .deadAfterTokens(deadAfter).normalize(!noNormalize).products(new SparsePolicy(sparse)).build();
            BatchSource batches = new StoreBatches(src, c.temporal(), batch, includeBos, seed);
            Files.createDirectories(out);
            TrainResult s = new SaeTrainer(c, t, b, out).quiet(quiet.quiet).train(batches, resume);
            TrainResult.Final fin = s.fin();
            System.out.printf(Locale.ROOT, "%s %s: %d steps, %.0f tokens/s (%s ops, steps on %s); loss %.4g, mse %.4g, L0 %.1f, explained variance %.3f, dead %s%n",
                    s.complete() ? "trained" : "paused", arch, s.steps(), s.tokensPerSecond(), ops.name(), s.stepsOn(),
                    num(fin.loss()), num(fin.mse()), num(fin.l0()), num(fin.explainedVariance()), s.deadLatents());
            System.out.println((s.complete() ? "wrote " + out.resolve("cfg.json") + ", sae_weights.safetensors, summary.json"
                    : "checkpoint in " + out.resolve("checkpoint") + "; continue with --resume"));
        }
        return 0;
    }

    private static double num(Double v) {
        return v == null ? Double.NaN : v;
    }
}
