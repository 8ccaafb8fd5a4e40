package msts.model.gemma;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a random tiny Gemma-2 checkpoint in the Hugging Face layout (config.json + model.safetensors),
 * for tests and the demo. Linear weights ~ N(0, gain²/fan_in), norm weights ~ N(0, 0.2²) (used as 1 + w),
 * embeddings ~ N(0, embedStd²): activations stay O(1), attention scores reach the soft-cap on some pairs
 * and the logits are spread (not degenerate).
 */
public final class TinyGemma2 {
    private TinyGemma2() {}

    public record Spec(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                       int numAttentionHeads, int numKeyValueHeads, int headDim, int slidingWindow,
                       float attnLogitSoftcapping, float finalLogitSoftcapping, float queryPreAttnScalar,
                       float ropeTheta, DType dtype, float embedStd, float qkGain) {

        /** Small and fast for unit tests: vocab 512, hidden 64, 2 layers, heads 4/2, head_dim 16, window 4. */
        public static Spec small() {
            return new Spec(512, 64, 128, 2, 4, 2, 16, 4, 10f, 8f, 16f, 10000f, DType.F32, 0.5f, 1.5f);
        }

        /** The demo model: the real tokenizer's vocabulary (256000), hidden 64, 4 layers. */
        public static Spec demo() {
            return new Spec(256000, 64, 128, 4, 4, 2, 16, 8, 10f, 15f, 16f, 10000f, DType.BF16, 0.5f, 1.5f);
        }

        public Spec withVocab(int v) { return new Spec(v, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, slidingWindow, attnLogitSoftcapping, finalLogitSoftcapping, queryPreAttnScalar, ropeTheta, dtype, embedStd, qkGain); }

        public Spec withLayers(int n) { return new Spec(vocabSize, hiddenSize, intermediateSize, n, numAttentionHeads, numKeyValueHeads, headDim, slidingWindow, attnLogitSoftcapping, finalLogitSoftcapping, queryPreAttnScalar, ropeTheta, dtype, embedStd, qkGain); }

        public Spec withHidden(int h, int intermediate) { return new Spec(vocabSize, h, intermediate, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, slidingWindow, attnLogitSoftcapping, finalLogitSoftcapping, queryPreAttnScalar, ropeTheta, dtype, embedStd, qkGain); }

        public Spec withDtype(DType d) { return new Spec(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, slidingWindow, attnLogitSoftcapping, finalLogitSoftcapping, queryPreAttnScalar, ropeTheta, d, embedStd, qkGain); }

        public Spec withWindow(int w) { return new Spec(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, w, attnLogitSoftcapping, finalLogitSoftcapping, queryPreAttnScalar, ropeTheta, dtype, embedStd, qkGain); }

        public Gemma2Config config() {
            return new Gemma2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                    numKeyValueHeads, headDim, 1e-6f, ropeTheta, queryPreAttnScalar, attnLogitSoftcapping,
                    finalLogitSoftcapping, slidingWindow, 2, 1, 0, true, false, "gelu_pytorch_tanh", null,
                    dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32");
        }
    }

    /** Writes config.json and model.safetensors into {@code dir} (created if needed); returns dir. */
    public static Path write(Path dir, Spec spec, long seed) {
        Gemma2Config c = spec.config();
        SplittableRandom rng = new SplittableRandom(seed);
        int H = c.hiddenSize(), I = c.intermediateSize();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", gaussian(rng, spec.embedStd(), spec.dtype(), c.vocabSize(), H));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", gaussian(rng, 0.2f, spec.dtype(), H));
            t.put(p + "self_attn.q_proj.weight", linear(rng, spec.qkGain(), spec.dtype(), c.qDim(), H));
            t.put(p + "self_attn.k_proj.weight", linear(rng, spec.qkGain(), spec.dtype(), c.kvDim(), H));
            t.put(p + "self_attn.v_proj.weight", linear(rng, 1f, spec.dtype(), c.kvDim(), H));
            t.put(p + "self_attn.o_proj.weight", linear(rng, 1f, spec.dtype(), H, c.qDim()));
            t.put(p + "post_attention_layernorm.weight", gaussian(rng, 0.2f, spec.dtype(), H));
            t.put(p + "pre_feedforward_layernorm.weight", gaussian(rng, 0.2f, spec.dtype(), H));
            t.put(p + "mlp.gate_proj.weight", linear(rng, 1.5f, spec.dtype(), I, H));
            t.put(p + "mlp.up_proj.weight", linear(rng, 1f, spec.dtype(), I, H));
            t.put(p + "mlp.down_proj.weight", linear(rng, 1f, spec.dtype(), H, I));
            t.put(p + "post_feedforward_layernorm.weight", gaussian(rng, 0.2f, spec.dtype(), H));
        }
        t.put("model.norm.weight", gaussian(rng, 0.2f, spec.dtype(), H));
        try {
            Files.createDirectories(dir);
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            msts.io.AtomicFiles.writeString(dir.resolve("config.json"), om.writeValueAsString(c.toJson()));
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        SafeTensors.write(dir.resolve("model.safetensors"), t,
                Map.of("format", "pt", "producer", "msts TinyGemma2", "seed", Long.toString(seed)));
        return dir;
    }

    private static Tensor linear(SplittableRandom rng, float gain, DType dt, int out, int in) {
        return gaussian(rng, (float) (gain / Math.sqrt(in)), dt, out, in);
    }

    private static Tensor gaussian(SplittableRandom rng, float std, DType dt, long... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        for (long i = 0, n = t.numel(); i < n; i++) t.set(i, (float) (rng.nextGaussian() * std));
        return t;
    }
}
