package msts.model.gemma;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class Gemma2ConfigTest {
    @TempDir Path dir;

    Gemma2Config load(String json) throws IOException {
        Path p = dir.resolve("config.json");
        Files.writeString(p, json);
        return Gemma2Config.load(p);
    }

    @Test
    void gemma2_2bConfigAsHfWritesIt() throws IOException {
        var c = load("""
                {"architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
                 "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid",
                 "eos_token_id": [1, 107], "final_logit_softcapping": 30.0, "head_dim": 256,
                 "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304,
                 "initializer_range": 0.02, "intermediate_size": 9216, "max_position_embeddings": 8192,
                 "model_type": "gemma2", "num_attention_heads": 8, "num_hidden_layers": 26, "num_key_value_heads": 4,
                 "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
                 "sliding_window": 4096, "torch_dtype": "float32", "transformers_version": "4.42.4",
                 "use_cache": true, "vocab_size": 256000}""");
        assertEquals(2304, c.hiddenSize());
        assertEquals(26, c.numHiddenLayers());
        assertEquals(1, c.eosTokenId());
        assertEquals(1f / 16, c.attnScale());
        assertEquals(4096, c.windowOf(0));
        assertEquals(0, c.windowOf(1));
        assertEquals(4096, c.windowOf(24));
        assertTrue(c.geluTanh());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(c, Gemma2Config.parse(c.toJson(), "roundtrip"));
    }

    @Test
    void defaultsNullsAndLayerTypes() throws IOException {
        var c = load("""
                {"model_type": "gemma2", "num_hidden_layers": 3, "attn_logit_softcapping": null,
                 "final_logit_softcapping": null, "sliding_window": null, "hidden_activation": null, "hidden_act": "gelu",
                 "layer_types": ["full_attention", "sliding_attention", "full_attention"],
                 "rope_parameters": {"rope_type": "default", "rope_theta": 500.0}}""");
        assertEquals(256000, c.vocabSize());
        assertEquals(256, c.headDim());
        assertEquals(0f, c.attnLogitSoftcapping());
        assertEquals(0f, c.finalLogitSoftcapping());
        assertEquals(0, c.slidingWindow());
        assertEquals(500f, c.ropeTheta());
        assertFalse(c.geluTanh());
        assertArrayEquals(new boolean[]{false, true, false}, c.slidingLayers());
        var d = load("{\"model_type\": \"gemma2\", \"num_hidden_layers\": 2}");
        assertEquals(50f, d.attnLogitSoftcapping());
        assertEquals(30f, d.finalLogitSoftcapping());
        assertEquals(4096, d.slidingWindow());
        assertEquals(4, d.numKeyValueHeads());
    }

    @Test
    void clearErrors() throws IOException {
        var e = assertThrows(IllegalArgumentException.class, () -> load("{\"model_type\": \"llama\"}"));
        assertTrue(e.getMessage().contains("'llama'") && e.getMessage().contains("gemma2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("{\"hidden_size\": 4}"));
        assertTrue(e.getMessage().contains("model_type is missing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("{\"model_type\": \"gemma2\", \"num_attention_heads\": 6, \"num_key_value_heads\": 4}"));
        assertTrue(e.getMessage().contains("multiple"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("not json"));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemma2Config.load(dir.resolve("nope.json")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("{\"model_type\": \"gemma2\", \"hidden_activation\": \"silu\"}"));
        assertTrue(e.getMessage().contains("silu"), e.getMessage());
    }
}
