package msts.model.gemma;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Gemma-2 hyper-parameters from a Hugging Face {@code config.json} ({@code model_type: gemma2}).
 * Absent keys take transformers' Gemma2Config defaults (the Gemma-2-2B values, head_dim 256).
 * {@code attnLogitSoftcapping}/{@code finalLogitSoftcapping} are 0 when null (no cap); {@code slidingWindow}
 * is 0 when null (no window). {@code slidingLayers[l]} tells whether layer l uses the sliding window:
 * from {@code layer_types} when present, else the even layers (transformers' default).
 */
public record Gemma2Config(
        int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
        int numAttentionHeads, int numKeyValueHeads, int headDim, float rmsNormEps, float ropeTheta,
        float queryPreAttnScalar, float attnLogitSoftcapping, float finalLogitSoftcapping, int slidingWindow,
        int bosTokenId, int eosTokenId, int padTokenId,
        boolean tieWordEmbeddings, boolean attentionBias, String hiddenActivation, boolean[] slidingLayers,
        String torchDtype) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Gemma2Config {
        if (slidingLayers == null) {
            slidingLayers = new boolean[numHiddenLayers];
            for (int l = 0; l < numHiddenLayers; l++) slidingLayers[l] = l % 2 == 0;
        }
    }

    /** The attention scale query_pre_attn_scalar^-0.5. */
    public float attnScale() { return (float) Math.pow(queryPreAttnScalar, -0.5); }

    /** Sliding window of layer l (0 = global attention). */
    public int windowOf(int layer) { return slidingLayers[layer] ? slidingWindow : 0; }

    public int qDim() { return numAttentionHeads * headDim; }

    public int kvDim() { return numKeyValueHeads * headDim; }

    /** True for the tanh-approximated GELU (gelu_pytorch_tanh and its aliases); false for exact erf GELU. */
    public boolean geluTanh() {
        return switch (hiddenActivation) {
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh" -> true;
            default -> false;
        };
    }

    public static Gemma2Config load(Path configJson) {
        Path p = Files.isDirectory(configJson) ? configJson.resolve("config.json") : configJson;
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(p));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(p + ": no such file (expected a Hugging Face config.json)");
        } catch (IOException e) {
            throw new IllegalArgumentException(p + ": not a readable JSON config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(p + ": not a JSON object");
        return parse(root, p.toString());
    }

    public static Gemma2Config parse(JsonNode root, String where) {
        JsonNode c = root;
        String type = c.path("model_type").asText("");
        if (!type.equals("gemma2") && c.path("text_config").isObject()
                && "gemma2".equals(c.path("text_config").path("model_type").asText())) {
            c = c.get("text_config");
            type = "gemma2";
        }
        if (!type.equals("gemma2"))
            throw new IllegalArgumentException(where + ": model_type is "
                    + (type.isEmpty() ? "missing" : "'" + type + "'") + ", msts supports only 'gemma2' (Gemma-2)");
        if (c.path("use_bidirectional_attention").asBoolean(false))
            throw new IllegalArgumentException(where + ": use_bidirectional_attention=true is not supported");
        JsonNode rs = c.get("rope_scaling");
        if (rs != null && !rs.isNull() && !"default".equals(rs.path("rope_type").asText(rs.path("type").asText("default"))))
            throw new IllegalArgumentException(where + ": rope_scaling " + rs + " is not supported");

        int layers = integer(c, "num_hidden_layers", 26, where);
        int heads = integer(c, "num_attention_heads", 8, where);
        int kv = integer(c, "num_key_value_heads", 4, where);
        if (layers > MAX_LAYERS)
            throw new IllegalArgumentException(where + ": num_hidden_layers " + layers + " is beyond any Gemma-2 (at most " + MAX_LAYERS + ")");
        float theta = 10000f;
        if (c.hasNonNull("rope_theta")) theta = (float) number(c, "rope_theta", 10000, where);
        else if (c.path("rope_parameters").hasNonNull("rope_theta"))
            theta = (float) number(c.get("rope_parameters"), "rope_theta", 10000, where + ": rope_parameters");
        if (!(theta > 0) || Float.isInfinite(theta)) throw new IllegalArgumentException(where + ": rope_theta must be a positive number, got " + theta);
        JsonNode rp = c.get("rope_parameters");
        if (rp != null && rp.isObject() && rp.has("rope_type") && !"default".equals(rp.get("rope_type").asText()))
            throw new IllegalArgumentException(where + ": rope_parameters.rope_type " + rp.get("rope_type") + " is not supported");
        String act = "gelu_pytorch_tanh";
        if (c.hasNonNull("hidden_activation")) act = text(c, "hidden_activation", where);
        else if (c.hasNonNull("hidden_act")) act = text(c, "hidden_act", where);
        if (!Arrays.asList("gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh", "gelu").contains(act))
            throw new IllegalArgumentException(where + ": hidden_activation '" + act + "' is not supported (gelu_pytorch_tanh or gelu)");
        boolean[] sliding = null;
        JsonNode lt = c.get("layer_types");
        if (lt != null && !lt.isNull()) {
            if (!lt.isArray() || lt.size() != layers)
                throw new IllegalArgumentException(where + ": layer_types must list one type per layer (" + layers + ")");
            sliding = new boolean[layers];
            for (int l = 0; l < layers; l++) {
                if (!lt.get(l).isTextual())
                    throw new IllegalArgumentException(where + ": layer_types[" + l + "] must be a string, got " + lt.get(l));
                String t = lt.get(l).asText();
                if (!t.equals("sliding_attention") && !t.equals("full_attention"))
                    throw new IllegalArgumentException(where + ": layer_types[" + l + "] '" + t + "' is not supported");
                sliding[l] = t.equals("sliding_attention");
            }
        }
        int eos = 1;
        JsonNode e = c.get("eos_token_id");
        if (e != null && e.isArray() && !e.isEmpty()) {
            for (int i = 0; i < e.size(); i++)
                if (!e.get(i).isIntegralNumber() || !e.get(i).canConvertToInt())
                    throw new IllegalArgumentException(where + ": eos_token_id[" + i + "] must be an integer, got " + e.get(i));
            eos = e.get(0).asInt();
        } else if (e != null && !e.isNull()) eos = integer(c, "eos_token_id", 1, where);
        Gemma2Config cfg = new Gemma2Config(
                integer(c, "vocab_size", 256000, where),
                integer(c, "hidden_size", 2304, where),
                integer(c, "intermediate_size", 9216, where),
                layers, heads, kv,
                integer(c, "head_dim", 256, where),
                (float) number(c, "rms_norm_eps", 1e-6, where),
                theta,
                (float) number(c, "query_pre_attn_scalar", 256, where),
                (float) nullableNumber(c, "attn_logit_softcapping", 50.0, where),
                (float) nullableNumber(c, "final_logit_softcapping", 30.0, where),
                slidingWindow(c, where),
                integer(c, "bos_token_id", 2, where),
                eos,
                integer(c, "pad_token_id", 0, where),
                bool(c, "tie_word_embeddings", true, where),
                bool(c, "attention_bias", false, where),
                act, sliding,
                c.hasNonNull("torch_dtype") ? text(c, "torch_dtype", where)
                        : c.hasNonNull("dtype") ? text(c, "dtype", where) : "float32");
        cfg.validate(where);
        return cfg;
    }

    private void validate(String where) {
        if (vocabSize <= 0 || hiddenSize <= 0 || intermediateSize <= 0 || numHiddenLayers <= 0 || headDim <= 0
                || numAttentionHeads <= 0 || numKeyValueHeads <= 0)
            throw new IllegalArgumentException(where + ": sizes must be positive: " + this);
        if (numAttentionHeads % numKeyValueHeads != 0)
            throw new IllegalArgumentException(where + ": num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        if (headDim % 2 != 0) throw new IllegalArgumentException(where + ": head_dim must be even for RoPE");
        if (slidingWindow < 0) throw new IllegalArgumentException(where + ": sliding_window < 0");
    }

    /** The most layers a config may declare (Gemma-2-27B has 46); checked before anything is sized by it. */
    static final int MAX_LAYERS = 4096;

    /** An integer field: a JSON integer within int range, else an error naming the field (never coerced or wrapped). */
    private static int integer(JsonNode c, String key, int dflt, String where) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber()) throw new IllegalArgumentException(where + ": " + key + " must be an integer, got " + v);
        if (!v.canConvertToInt()) throw new IllegalArgumentException(where + ": " + key + " " + v + " is out of range (a 32-bit integer)");
        return v.asInt();
    }

    private static double number(JsonNode c, String key, double dflt, String where) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException(where + ": " + key + " must be a number, got " + v);
        double d = v.asDouble();
        if (!Double.isFinite(d) || Math.abs(d) > Float.MAX_VALUE)
            throw new IllegalArgumentException(where + ": " + key + " " + v + " is out of range (a 32-bit float)");
        return d;
    }

    private static boolean bool(JsonNode c, String key, boolean dflt, String where) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new IllegalArgumentException(where + ": " + key + " must be true or false, got " + v);
        return v.booleanValue();
    }

    private static String text(JsonNode c, String key, String where) {
        JsonNode v = c.get(key);
        if (!v.isTextual()) throw new IllegalArgumentException(where + ": " + key + " must be a string, got " + v);
        return v.textValue();
    }

    private static int slidingWindow(JsonNode c, String where) {
        JsonNode v = c.get("sliding_window");
        if (v == null) return 4096;
        if (v.isNull()) return 0;
        return integer(c, "sliding_window", 4096, where);
    }

    /** Absent → default; explicit null → 0 (feature off). */
    private static double nullableNumber(JsonNode c, String key, double dflt, String where) {
        JsonNode v = c.get(key);
        if (v == null) return dflt;
        if (v.isNull()) return 0;
        if (!v.isNumber()) throw new IllegalArgumentException(where + ": " + key + " must be a number or null, got " + v);
        return number(c, key, dflt, where);
    }

    /** A config.json for this configuration, with the keys transformers writes. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("Gemma2ForCausalLM");
        o.put("model_type", "gemma2");
        o.put("attention_bias", attentionBias);
        o.put("attention_dropout", 0.0);
        if (attnLogitSoftcapping > 0) o.put("attn_logit_softcapping", attnLogitSoftcapping); else o.putNull("attn_logit_softcapping");
        if (finalLogitSoftcapping > 0) o.put("final_logit_softcapping", finalLogitSoftcapping); else o.putNull("final_logit_softcapping");
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        o.put("pad_token_id", padTokenId);
        o.put("cache_implementation", "hybrid");
        o.put("head_dim", headDim);
        o.put("hidden_act", hiddenActivation);
        o.put("hidden_activation", hiddenActivation);
        o.put("hidden_size", hiddenSize);
        o.put("initializer_range", 0.02);
        o.put("intermediate_size", intermediateSize);
        o.put("max_position_embeddings", 8192);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("query_pre_attn_scalar", queryPreAttnScalar);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (slidingWindow > 0) o.put("sliding_window", slidingWindow); else o.putNull("sliding_window");
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("torch_dtype", torchDtype);
        o.put("use_cache", true);
        o.put("vocab_size", vocabSize);
        var lt = o.putArray("layer_types");
        for (boolean s : slidingLayers) lt.add(s ? "sliding_attention" : "full_attention");
        return o;
    }

    @Override
    public String toString() {
        return "Gemma2Config[vocab=" + vocabSize + ", hidden=" + hiddenSize + ", intermediate=" + intermediateSize
                + ", layers=" + numHiddenLayers + ", heads=" + numAttentionHeads + "/" + numKeyValueHeads
                + ", headDim=" + headDim + ", window=" + slidingWindow + ", softcaps=" + attnLogitSoftcapping
                + "/" + finalLogitSoftcapping + ", queryPreAttnScalar=" + queryPreAttnScalar + ", ropeTheta=" + ropeTheta + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Gemma2Config g && toJson().equals(g.toJson());
    }

    @Override
    public int hashCode() { return toJson().hashCode(); }
}
