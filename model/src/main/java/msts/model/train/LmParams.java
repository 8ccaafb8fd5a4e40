package msts.model.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;
import msts.model.gemma.Gemma2Config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * All trainable parameters of a Gemma-2 model (tied embeddings, no biases) in one flat F32 array, each
 * tensor a named slice in the Hugging Face layout (names and [out, in] shapes of docs/gemma2.md). One flat
 * array makes the optimizer, gradient clipping and checkpointing plain loops over one index range.
 */
public final class LmParams {

    /** One named tensor: data[offset .. offset + size), row-major {@code shape}; {@code decay}: AdamW decays it. */
    public record Slot(String name, int offset, int[] shape, boolean decay) {
        public int size() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    /** Offsets of one layer's tensors in {@link #data}. */
    public record LayerOffsets(int inputNorm, int q, int k, int v, int o, int postAttnNorm, int preFfNorm,
                               int gate, int up, int down, int postFfNorm) {}

    private final Gemma2Config config;
    private final float[] data;
    private final List<Slot> slots;
    private final Map<String, Slot> byName;
    private final int embed, finalNorm;
    private final LayerOffsets[] layers;

    private LmParams(Gemma2Config c) {
        if (!c.tieWordEmbeddings()) throw new IllegalArgumentException("training needs tie_word_embeddings=true");
        if (c.attentionBias()) throw new IllegalArgumentException("training does not support attention_bias=true");
        if (!c.geluTanh()) throw new IllegalArgumentException("training supports hidden_activation gelu_pytorch_tanh only");
        this.config = c;
        int H = c.hiddenSize(), I = c.intermediateSize(), Q = c.qDim(), KV = c.kvDim();
        List<Slot> s = new ArrayList<>();
        long[] off = {0};
        java.util.function.BiFunction<String, int[], Integer> add = (name, shape) -> {
            boolean decay = shape.length == 2; // matrices and the (tied) embedding, as HF Trainer; not the norms
            Slot slot = new Slot(name, Math.toIntExact(off[0]), shape, decay);
            s.add(slot);
            off[0] += slot.size();
            return slot.offset();
        };
        embed = add.apply("model.embed_tokens.weight", new int[]{c.vocabSize(), H});
        layers = new LayerOffsets[c.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new LayerOffsets(
                    add.apply(p + "input_layernorm.weight", new int[]{H}),
                    add.apply(p + "self_attn.q_proj.weight", new int[]{Q, H}),
                    add.apply(p + "self_attn.k_proj.weight", new int[]{KV, H}),
                    add.apply(p + "self_attn.v_proj.weight", new int[]{KV, H}),
                    add.apply(p + "self_attn.o_proj.weight", new int[]{H, Q}),
                    add.apply(p + "post_attention_layernorm.weight", new int[]{H}),
                    add.apply(p + "pre_feedforward_layernorm.weight", new int[]{H}),
                    add.apply(p + "mlp.gate_proj.weight", new int[]{I, H}),
                    add.apply(p + "mlp.up_proj.weight", new int[]{I, H}),
                    add.apply(p + "mlp.down_proj.weight", new int[]{H, I}),
                    add.apply(p + "post_feedforward_layernorm.weight", new int[]{H}));
        }
        finalNorm = add.apply("model.norm.weight", new int[]{H});
        if (off[0] > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("model too large for one array: " + off[0] + " parameters");
        this.data = new float[(int) off[0]];
        this.slots = Collections.unmodifiableList(s);
        Map<String, Slot> m = new LinkedHashMap<>();
        for (Slot sl : s) m.put(sl.name(), sl);
        this.byName = Collections.unmodifiableMap(m);
    }

    /** All zeros (norm weights 0 mean scale 1 + 0 = 1). */
    public static LmParams zeros(Gemma2Config c) { return new LmParams(c); }

    /**
     * Hugging Face's Gemma2PreTrainedModel._init_weights: every linear weight and the embedding ~ N(0, std²)
     * (initializer_range, 0.02), RMSNorm weights 0 (scale 1 + 0). Drawn in slot order from one
     * SplittableRandom(seed), so the same seed gives the same bits.
     */
    public static LmParams initialize(Gemma2Config c, long seed, float std) {
        LmParams p = new LmParams(c);
        SplittableRandom rng = new SplittableRandom(seed);
        for (Slot s : p.slots) {
            if (s.shape().length != 2) continue;
            for (int i = s.offset(), e = s.offset() + s.size(); i < e; i++) p.data[i] = (float) (rng.nextGaussian() * std);
        }
        return p;
    }

    /**
     * Warm start from a trained model {@code from} whose tokenizer may differ from this run's: the seeded
     * {@link #initialize} draw, then every non-embedding parameter copied from {@code from} and every embedding
     * row whose token (the vocabulary entry, compared as a string) exists in {@code fromPieces} copied from that
     * token's row; tokens new to this vocabulary keep their fresh draw. The architecture (everything but the
     * vocabulary size and the special-token ids) must be the same. Returns the number of embedding rows copied
     * in {@code copied[0]}.
     */
    public static LmParams warmStart(Gemma2Config c, long seed, float std, LmParams from, String[] fromPieces,
                                     String[] toPieces, int[] copied) {
        Gemma2Config f = from.config();
        if (f.hiddenSize() != c.hiddenSize() || f.intermediateSize() != c.intermediateSize()
                || f.numHiddenLayers() != c.numHiddenLayers() || f.numAttentionHeads() != c.numAttentionHeads()
                || f.numKeyValueHeads() != c.numKeyValueHeads() || f.headDim() != c.headDim()
                || f.rmsNormEps() != c.rmsNormEps() || f.ropeTheta() != c.ropeTheta()
                || f.queryPreAttnScalar() != c.queryPreAttnScalar() || f.attnLogitSoftcapping() != c.attnLogitSoftcapping()
                || f.finalLogitSoftcapping() != c.finalLogitSoftcapping() || f.slidingWindow() != c.slidingWindow()
                || !f.hiddenActivation().equals(c.hiddenActivation()))
            throw new IllegalArgumentException("the --init model's architecture (" + f + ") differs from the one to train (" + c + ")");
        if (fromPieces.length < f.vocabSize() || toPieces.length < c.vocabSize())
            throw new IllegalArgumentException("a tokenizer has fewer entries than its model's vocabulary");
        LmParams p = initialize(c, seed, std);
        for (Slot s : p.slots) {
            if (s.offset() == p.embed) continue;
            Slot o = from.slot(s.name());
            if (!java.util.Arrays.equals(o.shape(), s.shape()))
                throw new IllegalArgumentException("parameter " + s.name() + " has shape " + java.util.Arrays.toString(o.shape())
                        + " in the --init model, " + java.util.Arrays.toString(s.shape()) + " here");
            System.arraycopy(from.data, o.offset(), p.data, s.offset(), s.size());
        }
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < f.vocabSize(); i++) if (fromPieces[i] != null) index.putIfAbsent(fromPieces[i], i);
        int H = c.hiddenSize(), n = 0;
        for (int i = 0; i < c.vocabSize(); i++) {
            Integer j = toPieces[i] == null ? null : index.get(toPieces[i]);
            if (j == null) continue;
            System.arraycopy(from.data, from.embed + j * H, p.data, p.embed + i * H, H);
            n++;
        }
        if (copied != null) copied[0] = n;
        return p;
    }

    /** Reads an HF checkpoint directory (config.json + safetensors, any float dtype, widened to F32). */
    public static LmParams load(Path dir) {
        Gemma2Config c = Gemma2Config.load(dir.resolve("config.json"));
        LmParams p = new LmParams(c);
        try (SafeTensors st = SafeTensors.open(dir)) {
            for (Slot s : p.slots) {
                long[] shape = new long[s.shape().length];
                for (int i = 0; i < shape.length; i++) shape[i] = s.shape()[i];
                Tensor t = st.tensor(s.name(), shape);
                for (int i = 0; i < s.size(); i++) p.data[s.offset() + i] = t.get(i);
            }
        }
        return p;
    }

    public Gemma2Config config() { return config; }

    public float[] data() { return data; }

    public List<Slot> slots() { return slots; }

    public Slot slot(String name) {
        Slot s = byName.get(name);
        if (s == null) throw new IllegalArgumentException("no parameter " + name);
        return s;
    }

    public int embedOffset() { return embed; }

    public int finalNormOffset() { return finalNorm; }

    public LayerOffsets layer(int l) { return layers[l]; }

    public int size() { return data.length; }

    /** Tensors (F32 copies) of {@code values} laid out like these parameters, by HF name. */
    public Map<String, Tensor> tensors(float[] values) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Slot s : slots) {
            long[] shape = new long[s.shape().length];
            for (int i = 0; i < shape.length; i++) shape[i] = s.shape()[i];
            Tensor x = Tensor.allocate(DType.F32, shape);
            for (int i = 0; i < s.size(); i++) x.set(i, values[s.offset() + i]);
            t.put(s.name(), x);
        }
        return t;
    }

    /** Writes config.json and model.safetensors (F32) into {@code dir} (created if needed). Not atomic; see {@link Checkpoints}. */
    public void writeModel(Path dir, Map<String, String> metadata) {
        try {
            Files.createDirectories(dir);
            var cfg = config.toJson();
            cfg.put("torch_dtype", "float32");
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Files.writeString(dir.resolve("config.json"), om.writeValueAsString(cfg));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("config.json"), e);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.putAll(metadata);
        SafeTensors.write(dir.resolve("model.safetensors"), tensors(data), meta);
    }
}
