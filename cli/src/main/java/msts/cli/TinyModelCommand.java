package msts.cli;

import msts.engine.DType;
import msts.engine.util.Memory;
import msts.model.gemma.TinyGemma2;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code msts tiny-model}: writes a random tiny Gemma-2 checkpoint (HF layout) to try the pipeline on. */
@Command(name = "tiny-model", mixinStandardHelpOptions = true,
        description = "Writes a random tiny Gemma-2 checkpoint (config.json + model.safetensors, HF layout).")
public final class TinyModelCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory") Path out;

    @Range(min = 3) @Option(names = "--vocab", defaultValue = "256000", description = "vocabulary size (the Gemma tokenizer's)") int vocab;

    @Range(min = 1) @Option(names = "--hidden", defaultValue = "64", description = "hidden size; intermediate = 2·hidden") int hidden;

    @Range(min = 1) @Option(names = "--layers", defaultValue = "4", description = "layers") int layers;

    @Option(names = "--window", defaultValue = "8", description = "sliding window of the even layers") int window;

    @Option(names = "--dtype", defaultValue = "bf16", description = "f32 or bf16") String dtype;

    @Range(min = Long.MIN_VALUE) @Option(names = "--seed", defaultValue = "0") long seed;

    @Option(names = "--force", description = "overwrite an existing checkpoint in --out") boolean force;

    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() {
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype " + dtype + " (f32 or bf16)");
        };
        if (vocab < 3 || hidden < 1 || layers < 1 || window < 0)
            throw new IllegalArgumentException("--vocab >= 3, --hidden >= 1, --layers >= 1, --window >= 0");
        Outputs.refuseOverwrite(out, force, "config.json", "model.safetensors");
        long h = hidden, elems = Memory.product(vocab, h);
        long perLayer = Memory.product(16, h, h);
        elems = elems < 0 || perLayer < 0 ? -1 : Memory.product(1, elems + Memory.product(layers, perLayer));
        Memory.require(Memory.product(2 * Math.max(dt.bytes, 4), elems), "a tiny model with --vocab " + vocab + " --hidden " + hidden + " --layers " + layers,
                "use smaller --vocab, --hidden or --layers");
        TinyGemma2.Spec s = TinyGemma2.Spec.demo().withVocab(vocab).withHidden(hidden, 2 * hidden).withLayers(layers)
                .withWindow(window).withDtype(dt);
        TinyGemma2.write(out, s, seed);
        spec.commandLine().getOut().printf("wrote %s: %s, %s weights, seed %d%n", out, s.config(), dt, seed);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
