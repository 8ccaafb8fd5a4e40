package msts.evals;

import java.nio.file.Files;
import java.nio.file.Path;
import msts.engine.backend.Backend;
import msts.model.gemma.Gemma2;
import msts.model.tokenizer.GemmaTokenizer;

/** Gemma-2 as the evals' {@link LanguageModel}, loaded with its tokenizer ({@link #tokenizer()}, the evals' Tokenizer). */
public final class GemmaModel implements LanguageModel, AutoCloseable {
    private final Gemma2 model;
    private final GemmaTokenizer tok;

    public GemmaModel(Gemma2 model, GemmaTokenizer tok) {
        this.model = model;
        this.tok = tok;
    }

    /**
     * Loads an HF checkpoint directory onto {@code backend}'s ops (the evals run op by op: their hooks need the
     * residual on the host); tokenizer: the given file, else DIR/tokenizer.json, else the default Gemma one.
     */
    public static GemmaModel load(Path modelDir, Path tokenizerJson, Backend backend) {
        Path tj = tokenizerJson != null ? tokenizerJson
                : Files.isRegularFile(modelDir.resolve("tokenizer.json")) ? modelDir.resolve("tokenizer.json")
                : GemmaTokenizer.defaultTokenizerJson();
        GemmaTokenizer t = GemmaTokenizer.load(tj);
        try {
            return new GemmaModel(Gemma2.load(modelDir, backend.ops()), t);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    public Gemma2 model() { return model; }

    public GemmaTokenizer tokenizer() { return tok; }

    private static Gemma2.ResidHook adapt(ResidHook h) {
        if (h instanceof Gemma2.ResidHook g) return g; // a SpliceHook keeps its splice for the engine
        return h == null ? null : h::apply;
    }

    @Override public int vocabSize() { return model.config().vocabSize(); }
    @Override public int hiddenSize() { return model.config().hiddenSize(); }
    @Override public int numLayers() { return model.config().numHiddenLayers(); }

    @Override
    public float[][] logits(int[][] batch, ResidHook hook) {
        return model.forward(batch, Gemma2.Options.logitsAll().withHook(adapt(hook))).logits();
    }

    @Override
    public float[][] lastLogits(int[][] batch, ResidHook hook) {
        return model.forward(batch, Gemma2.Options.logitsLast().withHook(adapt(hook))).logits();
    }

    @Override
    public float[][] residAt(int layer, int[][] batch) {
        return model.forward(batch, Gemma2.Options.residAt(layer)).resid()[0];
    }

    @Override
    public void close() {
        model.close();
        tok.close();
    }
}
