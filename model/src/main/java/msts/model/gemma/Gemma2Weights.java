package msts.model.gemma;

import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;

/**
 * The Gemma-2 weights as memory-mapped tensors (HF tensor names, docs/gemma2.md). Linear weights are
 * [out, in] (y = x·Wᵀ). {@code lmHead} is the embedding table when the embeddings are tied.
 */
public record Gemma2Weights(Tensor embedTokens, Layer[] layers, Tensor norm, Tensor lmHead) {

    /** One decoder layer. Biases are null unless config.attention_bias. */
    public record Layer(Tensor inputLayernorm, Tensor qProj, Tensor kProj, Tensor vProj, Tensor oProj,
                        Tensor postAttentionLayernorm, Tensor preFeedforwardLayernorm,
                        Tensor gateProj, Tensor upProj, Tensor downProj, Tensor postFeedforwardLayernorm,
                        Tensor qBias, Tensor kBias, Tensor vBias, Tensor oBias) {}

    public static Gemma2Weights load(SafeTensors st, Gemma2Config c) {
        int H = c.hiddenSize(), I = c.intermediateSize(), Q = c.qDim(), KV = c.kvDim();
        Tensor embed = st.tensor("model.embed_tokens.weight", c.vocabSize(), H);
        Layer[] layers = new Layer[c.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            boolean b = c.attentionBias();
            layers[l] = new Layer(
                    st.tensor(p + "input_layernorm.weight", H),
                    st.tensor(p + "self_attn.q_proj.weight", Q, H),
                    st.tensor(p + "self_attn.k_proj.weight", KV, H),
                    st.tensor(p + "self_attn.v_proj.weight", KV, H),
                    st.tensor(p + "self_attn.o_proj.weight", H, Q),
                    st.tensor(p + "post_attention_layernorm.weight", H),
                    st.tensor(p + "pre_feedforward_layernorm.weight", H),
                    st.tensor(p + "mlp.gate_proj.weight", I, H),
                    st.tensor(p + "mlp.up_proj.weight", I, H),
                    st.tensor(p + "mlp.down_proj.weight", H, I),
                    st.tensor(p + "post_feedforward_layernorm.weight", H),
                    b ? st.tensor(p + "self_attn.q_proj.bias", Q) : null,
                    b ? st.tensor(p + "self_attn.k_proj.bias", KV) : null,
                    b ? st.tensor(p + "self_attn.v_proj.bias", KV) : null,
                    b ? st.tensor(p + "self_attn.o_proj.bias", H) : null);
        }
        Tensor norm = st.tensor("model.norm.weight", H);
        Tensor head = embed;
        if (!c.tieWordEmbeddings() || st.has("lm_head.weight")) {
            if (st.has("lm_head.weight")) head = st.tensor("lm_head.weight", c.vocabSize(), H);
            else if (!c.tieWordEmbeddings()) head = st.tensor("lm_head.weight"); // clear missing-tensor error
        }
        return new Gemma2Weights(embed, layers, norm, head);
    }

    /** Parameter count (the tied head counted once). */
    public long parameterCount() {
        long n = embedTokens.numel() + norm.numel() + (lmHead == embedTokens ? 0 : lmHead.numel());
        for (Layer l : layers)
            for (Tensor t : new Tensor[]{l.inputLayernorm, l.qProj, l.kProj, l.vProj, l.oProj, l.postAttentionLayernorm,
                    l.preFeedforwardLayernorm, l.gateProj, l.upProj, l.downProj, l.postFeedforwardLayernorm,
                    l.qBias, l.kBias, l.vBias, l.oBias})
                if (t != null) n += t.numel();
        return n;
    }

    /** The storage dtype of the embedding table (the "weight dtype" of the checkpoint). */
    public DType dtype() { return embedTokens.dtype(); }
}
