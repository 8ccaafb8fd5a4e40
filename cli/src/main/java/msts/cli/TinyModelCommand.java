package msts.cli;

import msts.engine.DType;
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

    @Option(names = "--vocab", defaultValue = "256000", description = "vocabulary size (default ${DEFAULT-VALUE}, the Gemma tokenizer's)") int vocab;

    @Option(names = "--hidden", defaultValue = "64", description = "hidden size (default ${DEFAULT-VALUE}); intermediate = 2·hidden") int hidden;

    @Option(names = "--layers", defaultValue = "4", description = "layers (default ${DEFAULT-VALUE})") int layers;

    @Option(names = "--window", defaultValue = "8", description = "sliding window of the even layers (default ${DEFAULT-VALUE})") int window;

    @Option(names = "--dtype", defaultValue = "bf16", description = "f32 or bf16 (default ${DEFAULT-VALUE})") String dtype;

    @Option(names = "--seed", defaultValue = "0") long seed;

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
        TinyGemma2.Spec s = TinyGemma2.Spec.demo().withVocab(vocab).withHidden(hidden, 2 * hidden).withLayers(layers)
                .withWindow(window).withDtype(dt);
        TinyGemma2.write(out, s, seed);
        spec.commandLine().getOut().printf("wrote %s: %s, %s weights, seed %d%n", out, s.config(), dt, seed);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
