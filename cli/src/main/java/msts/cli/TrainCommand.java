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
import msts.data.StoreManifest;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** msts train: trains a ReLU, TopK, JumpReLU, BatchTopK or Multi-Scale Temporal SAE on stored activations (docs/sae.md). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an SAE (relu | topk | jumprelu | batchtopk | temporal) on stored activations; writes a SAELens-layout directory"
                + " (JumpReLU and BatchTopK are saved as SAELens 'jumprelu' with tensor 'threshold').")
public final class TrainCommand implements Callable<Integer> {
    static final class Input {
        @Option(names = "--store", paramLabel = "DIR", description = "activation store directory (msts harvest)") Path store;
        @Option(names = "--activations", paramLabel = "FILE", description = "safetensors file with tensor 'activations' [n_seq, ctx, d]") Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Input input;
    @Option(names = "--arch", defaultValue = "relu", description = "standard (alias relu) | topk | jumprelu | batchtopk | temporal") String arch;
    @Option(names = {"--act", "--activation"}, defaultValue = "relu", description = "activation of the temporal SAE: relu | topk | jumprelu | batchtopk") String act;
    @Range(min = 1) @Option(names = "--d-sae", required = true, showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER, description = "number of latents") int dSae;
    @Option(names = "--l1", defaultValue = "5", description = "L1 coefficient λ (ReLU)") float l1;
    @Option(names = "--l1-mode", defaultValue = "decoder_norm", description = "decoder_norm | unit_norm") String l1Mode;
    @Range(min = 1) @Option(names = "--k", defaultValue = "64", description = "TopK k; BatchTopK: mean active latents per token, top k·rows over the batch") int k;
    @Option(names = "--l0", defaultValue = "1.0", description = "JumpReLU L0 coefficient λ (SAELens l0_coefficient)") float l0;
    @Range(min = 0, minExclusive = true) @Option(names = "--bandwidth", defaultValue = "0.05", description = "JumpReLU STE bandwidth ε of the rectangle kernel") float bandwidth;
    @Range(min = 0, minExclusive = true) @Option(names = "--init-threshold", defaultValue = "0.01", description = "JumpReLU initial threshold θ_0") float initThreshold;
    @Range(min = 0, max = 1) @Option(names = "--threshold-lr", defaultValue = "0.01", description = "BatchTopK inference-threshold running-average rate (SAELens topk_threshold_lr)") float thresholdLr;
    @Option(names = "--k-aux", defaultValue = "0", description = "AuxK k_aux (0 = d_in/2)") int kAux;
    @Option(names = "--aux-coefficient", defaultValue = "0.03125", description = "AuxK coefficient (default 1/32)") float auxCoef;
    @Range(min = 1) @Option(names = "--dilations", defaultValue = "1,2,4", split = ",", description = "temporal dilations") int[] dilations;
    @Option(names = "--conv-mode", defaultValue = "causal", description = "causal | centred") String convMode;
    @Option(names = "--sep-weight", defaultValue = "0", description = "cosine separation loss weight") float sepWeight;
    @Option(names = "--sep-form", defaultValue = "all", description = "all (exact Gram) | sampled | coactive") String sepForm;
    @Range(min = 0, max = 1) @Option(names = "--sep-margin", defaultValue = "0", description = "margin m: penalise relu(|cos| − m)²") float sepMargin;
    @Range(min = 1) @Option(names = "--sep-pairs", defaultValue = "4096", description = "pairs per step (sampled / coactive)") int sepPairs;
    @Range(min = 1) @Option(names = "--tokens", defaultValue = "1000000", description = "training tokens") long tokens;
    @Range(min = 1) @Option(names = "--batch", defaultValue = "4096", description = "tokens per batch") int batch;
    @Range(min = 0, minExclusive = true) @Option(names = "--lr", defaultValue = "3e-4") float lr;
    @Option(names = "--lr-warmup", defaultValue = "-1", description = "LR warm-up steps (-1 = min(1000, steps/10))") int lrWarmup;
    @Range(min = 0, max = 1) @Option(names = "--lr-decay", defaultValue = "0.2", description = "fraction of steps with linear LR decay") float lrDecay;
    @Option(names = "--l1-warmup", defaultValue = "-1", description = "L1 (JumpReLU: L0) coefficient warm-up steps (-1 = steps/20; JumpReLU 0 as SAELens)") int l1Warmup;
    @Option(names = "--clip", defaultValue = "0", description = "gradient-norm clip (0 = off)") float clip;
    @Range(min = Long.MIN_VALUE) @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between checkpoints (0 = end only)") int checkpointEvery;
    @Option(names = "--max-steps", defaultValue = "0", description = "stop after this many steps of this run (checkpointed; continue with --resume)") long maxSteps;
    @Range(min = 1) @Option(names = "--dead-after", defaultValue = "10000000", description = "tokens without firing before a latent counts as dead") long deadAfter;
    @Option(names = "--sparse", defaultValue = "-1", paramLabel = "FRACTION",
            description = "sparse decoder/backward products when at most this fraction of latents is active (0 = always dense, >1 = always sparse; default: automatic)") double sparse;
    @Option(names = "--resume", description = "continue from OUT/checkpoint") boolean resume;
    @Option(names = "--force", description = "start a new run in an --out that already holds one (its checkpoint is replaced)") boolean force;
    @Option(names = "--include-bos", description = "count position 0 in losses and statistics") boolean includeBos;
    @Option(names = "--no-normalize", description = "do not scale activations to mean norm sqrt(d_in)") boolean noNormalize;
    @Option(names = "--hook-layer", paramLabel = "L",
            description = "layer the activations come from, written to cfg.json (default: the --store manifest's layer; 0 with --activations). A value differing from the manifest is ignored with a warning")
    Integer hookLayer;
    @Option(names = "--model-name", paramLabel = "NAME",
            description = "model name written to cfg.json (default: the name of the --store manifest's model directory; gemma-2-2b with --activations). A value differing from the manifest's wins, with a warning")
    String modelName;
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
        if (resume && force) throw new IllegalArgumentException("--resume and --force contradict each other: continue the run in " + out + " or start over");
        if (!resume && !force && Files.isDirectory(out) && (Files.exists(out.resolve("checkpoint")) || Files.exists(out.resolve("summary.json"))))
            throw new IllegalArgumentException(out + " already holds a training run; pass --resume to continue it, --force to start over, or choose another --out");
        if (resume) requireCheckpoint(out);
        if (batch <= 0 || tokens <= 0) throw new IllegalArgumentException("--batch and --tokens must be positive");
        Ops ops = b.ops();
        Path in = input.file != null ? input.file : input.store;
        if (!Files.exists(in)) throw new IllegalArgumentException((input.file != null ? "--activations " : "--store ") + in + ": no such file or directory");
        Hook hook = hook(input.store, hookLayer, modelName, System.err);
        try (ActivationSource src = ActivationSources.open(in)) {
            long dIn = src.dIn();
            // params, gradients, Adam moments and the exported copy (≈ 10·d_in·d_sae floats) + a batch of activations and latents
            msts.engine.util.Memory.require(msts.engine.util.Memory.product(4, 10, dIn, dSae) + msts.engine.util.Memory.product(4, batch, 4 * (dIn + dSae)),
                    "training a " + dIn + "→" + dSae + " SAE with --batch " + batch, "use a smaller --d-sae or --batch, or a larger heap (MSTS_JAVA_OPTS=-Xmx…)");
            Architecture architecture = Architecture.parse(arch); // "relu" = "standard"
            SaeConfig c = SaeConfig.builder()
                    .dIn(src.dIn()).dSae(dSae).architecture(architecture)
                    .activation(architecture == Architecture.TEMPORAL ? Activation.parse(act) : architecture.fixedActivation())
                    .k(k).kAux(kAux).auxKCoefficient(auxCoef).dilations(dilations).convMode(convMode)
                    .l1Coefficient(l1).l1Mode(l1Mode)
                    .l0Coefficient(l0).jumpReluBandwidth(bandwidth).jumpReluInitThreshold(initThreshold).topkThresholdLr(thresholdLr)
                    .sepWeight(sepWeight).sepForm(sepForm).sepMargin(sepMargin).sepPairs(sepPairs)
                    .contextSize(src.contextSize()).hookLayer(hook.layer()).hookName(hook.name())
                    .modelName(hook.model()).build();
            TrainConfig t = TrainConfig.builder()
                    .totalTokens(tokens).lr(lr).lrWarmupSteps(lrWarmup).lrDecayFraction(lrDecay).l1WarmupSteps(l1Warmup)
                    .clipNorm(clip).seed(seed).checkpointEvery(checkpointEvery).maxStepsThisRun(maxSteps)
                    .deadAfterTokens(deadAfter).normalize(!noNormalize).products(new SparsePolicy(sparse)).build();
            BatchSource batches = new StoreBatches(src, c.temporal(), batch, includeBos, seed);
            Files.createDirectories(out);
            TrainResult s;
            try (OutLock lock = OutLock.acquire(out, "training run")) {
                s = new SaeTrainer(c, t, b, out).quiet(quiet.quiet).train(batches, resume);
            }
            TrainResult.Final fin = s.fin();
            System.out.printf(Locale.ROOT, "%s %s: %d steps, %.0f tokens/s (%s ops, steps on %s); loss %.4g, mse %.4g, L0 %.1f, explained variance %.3f, dead %s%n",
                    s.complete() ? "trained" : "paused", arch, s.steps(), s.tokensPerSecond(), ops.name(), s.stepsOn(),
                    num(fin.loss()), num(fin.mse()), num(fin.l0()), num(fin.explainedVariance()), s.deadLatents());
            System.out.println((s.complete() ? "wrote " + out.resolve("cfg.json") + ", sae_weights.safetensors, summary.json"
                    : "checkpoint in " + out.resolve("checkpoint") + "; continue with --resume"));
        }
        return 0;
    }

    /** --resume needs OUT/checkpoint/trainer_state.json (or checkpoint.old); says which part is missing. */
    static void requireCheckpoint(Path out) {
        if (!Files.isDirectory(out))
            throw new IllegalArgumentException("--resume: " + out + " does not exist; nothing to resume (check --out, or drop --resume to start a new run)");
        for (String d : new String[]{"checkpoint", "checkpoint.old"})
            if (Files.isRegularFile(out.resolve(d).resolve("trainer_state.json"))) return;
        String what = Files.isDirectory(out.resolve("checkpoint")) ? out.resolve("checkpoint").resolve("trainer_state.json") + " is missing"
                : "no " + out.resolve("checkpoint") + " directory";
        throw new IllegalArgumentException("--resume: nothing to resume in " + out + " (" + what
                + "); check --out, or drop --resume to start a new run");
    }

    /** The hook (layer and name) and model name the SAE is written with. */
    record Hook(int layer, String name, String model) {}

    /**
     * From the store's manifest when training on a store: its layer and hook name (a differing --hook-layer is
     * ignored with a warning) and its model directory's name (a differing --model-name wins, with a warning).
     * For a single activations file: the flags, else layer 0 and gemma-2-2b.
     */
    static Hook hook(Path store, Integer layerFlag, String modelFlag, java.io.PrintStream warn) {
        if (store == null || !Files.isRegularFile(store.resolve(StoreManifest.FILE))) {
            int l = layerFlag == null ? 0 : layerFlag;
            return new Hook(l, StoreManifest.hookName(l), modelFlag == null ? "gemma-2-2b" : modelFlag);
        }
        StoreManifest m = StoreManifest.read(store);
        if (layerFlag != null && layerFlag != m.layer())
            warn.printf("msts: warning: --hook-layer %d ignored: the store's activations are %s (layer %d, manifest.json)%n",
                    layerFlag, m.hookName(), m.layer());
        Path modelPath = m.model() == null || m.model().isBlank() ? null : Path.of(m.model()).getFileName();
        String fromManifest = modelPath == null ? null : modelPath.toString();
        String model = modelFlag != null ? modelFlag : fromManifest != null ? fromManifest : "gemma-2-2b";
        if (modelFlag != null && fromManifest != null && !modelFlag.equals(fromManifest))
            warn.printf("msts: warning: --model-name %s differs from the store's model %s (manifest.json); writing %s%n",
                    modelFlag, m.model(), modelFlag);
        return new Hook(m.layer(), m.hookName(), model);
    }

    private static double num(Double v) {
        return v == null ? Double.NaN : v;
    }
}
