"""Independent numpy reference of the Gemma-2 forward pass (Hugging Face transformers' Gemma2 formulas),
used to produce the test fixtures under model/src/test/resources/gemma2-tiny*/.

For each variant it writes a random tiny checkpoint in the HF layout (config.json + model.safetensors,
or shards + model.safetensors.index.json; the safetensors bytes are written by hand, see safetensors_np.py)
and expected.safetensors with `seq<s>.resid_post.<i>` [T, hidden] and `seq<s>.logits` [T, vocab] for the
token sequences listed in expected.json. The math runs in float64 on the (f32 or bf16-rounded) weights, so
the fixture is the exact answer and the Java F32 forward is compared against it with a tolerance.

Formulas (docs/gemma2.md):
  h0 = E[tokens] * round_to_weight_dtype(sqrt(hidden))
  per layer l:  a = RMSNorm_in(h); q,k,v = a Wq^T, a Wk^T, a Wv^T; RoPE (half split) on q, k
                s_ij = (q_i . k_j) * query_pre_attn_scalar^-0.5; s = c_att * tanh(s / c_att)
                mask j > i; on sliding layers (even l, or layer_types) also mask i - j >= window
                o = softmax(s) v (GQA: head h uses kv head h // (H / KV)); h += RMSNorm_post_attn(o Wo^T)
                m = RMSNorm_pre_ffw(h); h += RMSNorm_post_ffw(Wdown (gelu_tanh(m Wg^T) * (m Wu^T)))
                (attention_bias: q, k, v, o get + b; hidden_activation "gelu": the exact erf GELU)
  logits = c_fin * tanh((RMSNorm_final(h) E^T) / c_fin)
  RMSNorm(x) = x / sqrt(mean(x^2) + eps) * (1 + w)

Run from the repo root:  python3 scripts/gemma2_reference.py [--only VARIANT]
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np as st  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
RES = os.path.join(ROOT, 'model', 'src', 'test', 'resources')


def tiny_config(**over):
    cfg = {
        "architectures": ["Gemma2ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "attn_logit_softcapping": 5.0,
        "bos_token_id": 2,
        "cache_implementation": "hybrid",
        "eos_token_id": 1,
        "final_logit_softcapping": 3.0,
        "head_dim": 16,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 48,
        "initializer_range": 0.02,
        "intermediate_size": 96,
        "max_position_embeddings": 8192,
        "model_type": "gemma2",
        "num_attention_heads": 4,
        "num_hidden_layers": 3,
        "num_key_value_heads": 2,
        "pad_token_id": 0,
        "query_pre_attn_scalar": 16,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "sliding_window": 4,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
        "use_cache": True,
        "vocab_size": 256,
    }
    cfg.update(over)
    return cfg


def random_weights(cfg, rng):
    """HF tensor names -> float32 arrays, scaled so activations stay O(1) and both soft-caps bite."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, kv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]

    def lin(o, i, gain=1.0):
        return (rng.standard_normal((o, i)) * gain / math.sqrt(i)).astype(np.float32)

    def norm(n):
        return (rng.standard_normal(n) * 0.2).astype(np.float32)

    w = {"model.embed_tokens.weight": (rng.standard_normal((V, H)) * 0.3).astype(np.float32)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(H)
        w[p + "self_attn.q_proj.weight"] = lin(nh * hd, H, 2.0)
        w[p + "self_attn.k_proj.weight"] = lin(kv * hd, H, 2.0)
        w[p + "self_attn.v_proj.weight"] = lin(kv * hd, H)
        w[p + "self_attn.o_proj.weight"] = lin(H, nh * hd)
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "pre_feedforward_layernorm.weight"] = norm(H)
        w[p + "mlp.gate_proj.weight"] = lin(I, H, 1.5)
        w[p + "mlp.up_proj.weight"] = lin(I, H)
        w[p + "mlp.down_proj.weight"] = lin(H, I)
        w[p + "post_feedforward_layernorm.weight"] = norm(H)
    w["model.norm.weight"] = norm(H)
    return w


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * (1.0 + w)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def rope(x, theta):
    """x [T, heads, hd]; rotate_half convention (first half with second half)."""
    T, _, hd = x.shape
    half = hd // 2
    inv = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]        # [T, half]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def layer_is_sliding(cfg, l):
    lt = cfg.get("layer_types")
    if lt:
        return lt[l] == "sliding_attention"
    return l % 2 == 0


def forward(cfg, w, tokens, embed_scale):
    """Returns ([resid_post_l for every layer], logits), float64."""
    H = cfg["hidden_size"]
    nh, kv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    scale = cfg["query_pre_attn_scalar"] ** -0.5
    cap_a, cap_f = cfg["attn_logit_softcapping"], cfg["final_logit_softcapping"]
    win = cfg["sliding_window"]
    W = {k: v.astype(np.float64) for k, v in w.items()}
    T = len(tokens)
    h = W["model.embed_tokens.weight"][np.array(tokens)] * embed_scale
    resid = []
    stats = {"att_sat": 0, "att_n": 0}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms_norm(h, W[p + "input_layernorm.weight"], eps)
        q = a @ W[p + "self_attn.q_proj.weight"].T
        k = a @ W[p + "self_attn.k_proj.weight"].T
        v = a @ W[p + "self_attn.v_proj.weight"].T
        if cfg.get("attention_bias"):
            q = q + W[p + "self_attn.q_proj.bias"]
            k = k + W[p + "self_attn.k_proj.bias"]
            v = v + W[p + "self_attn.v_proj.bias"]
        q, k, v = q.reshape(T, nh, hd), k.reshape(T, kv, hd), v.reshape(T, kv, hd)
        q, k = rope(q, theta), rope(k, theta)
        o = np.zeros((T, nh, hd))
        i_idx, j_idx = np.arange(T)[:, None], np.arange(T)[None, :]
        masked = j_idx > i_idx
        if win is not None and layer_is_sliding(cfg, l):
            masked = masked | (i_idx - j_idx >= win)
        for hh in range(nh):
            g = hh // (nh // kv)
            s = (q[:, hh, :] @ k[:, g, :].T) * scale
            if cap_a is not None:
                stats["att_sat"] += int(np.sum(np.abs(s[~masked]) > cap_a))
                stats["att_n"] += int(np.sum(~masked))
                s = cap_a * np.tanh(s / cap_a)
            s = np.where(masked, -np.inf, s)
            s = s - s.max(axis=1, keepdims=True)
            e = np.exp(s)
            pr = e / e.sum(axis=1, keepdims=True)
            o[:, hh, :] = pr @ v[:, g, :]
        att = o.reshape(T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        if cfg.get("attention_bias"):
            att = att + W[p + "self_attn.o_proj.bias"]
        h = h + rms_norm(att, W[p + "post_attention_layernorm.weight"], eps)
        m = rms_norm(h, W[p + "pre_feedforward_layernorm.weight"], eps)
        act = gelu_erf if cfg.get("hidden_activation") == "gelu" else gelu_tanh
        f = act(m @ W[p + "mlp.gate_proj.weight"].T) * (m @ W[p + "mlp.up_proj.weight"].T)
        f = f @ W[p + "mlp.down_proj.weight"].T
        h = h + rms_norm(f, W[p + "post_feedforward_layernorm.weight"], eps)
        resid.append(h.copy())
    x = rms_norm(h, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    logits = x @ head.T
    raw_max = float(np.abs(logits).max())
    if cap_f is not None:
        stats["fin_sat"] = float(np.mean(np.abs(logits) > cap_f))
        logits = cap_f * np.tanh(logits / cap_f)
    stats["raw_logit_max"] = raw_max
    stats["resid_max"] = float(np.abs(h).max())
    return resid, logits, stats


def bf16_round(a):
    return st.bf16_bits_to_f32(st.f32_to_bf16_bits(a))


def write_variant(name, cfg, w, seqs, dtype="F32", shards=1):
    d = os.path.join(RES, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    cfg = dict(cfg)
    cfg["torch_dtype"] = "bfloat16" if dtype == "BF16" else "float32"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if dtype == "BF16":
        stored = {k: st.BF16(st.f32_to_bf16_bits(v)) for k, v in w.items()}
        wf = {k: bf16_round(v) for k, v in w.items()}
        embed_scale = float(bf16_round(np.array([math.sqrt(cfg["hidden_size"])], np.float32))[0])
    else:
        stored = dict(w)
        wf = w
        embed_scale = float(np.float32(math.sqrt(cfg["hidden_size"])))
    names = list(stored)
    if shards == 1:
        st.write(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
    else:
        per = math.ceil(len(names) / shards)
        wmap = {}
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: stored[k] for k in names[s * per:(s + 1) * per]}
            st.write(os.path.join(d, fname), part, {"format": "pt"})
            wmap.update({k: fname for k in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": wmap}, f, indent=2)
    expected = {}
    for si, toks in enumerate(seqs):
        resid, logits, stats = forward(cfg, wf, toks, embed_scale)
        for l, r in enumerate(resid):
            expected[f"seq{si}.resid_post.{l}"] = r.astype(np.float32)
        expected[f"seq{si}.logits"] = logits.astype(np.float32)
        print(name, "seq", si, "T", len(toks), {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items()})
    st.write(os.path.join(d, "expected.safetensors"), expected, {"producer": "scripts/gemma2_reference.py"})
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"sequences": seqs, "embed_scale": embed_scale}, f)


def bias_erf_variant():
    """Attention biases on q, k, v, o and the exact erf GELU (hidden_activation "gelu"), its own seed."""
    cfg = tiny_config(attention_bias=True, hidden_act="gelu", hidden_activation="gelu", num_hidden_layers=2)
    rng = np.random.default_rng(11)
    w = random_weights(cfg, rng)
    H, nh, kv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}.self_attn."
        w[p + "q_proj.bias"] = (rng.standard_normal(nh * hd) * 0.5).astype(np.float32)
        w[p + "k_proj.bias"] = (rng.standard_normal(kv * hd) * 0.5).astype(np.float32)
        w[p + "v_proj.bias"] = (rng.standard_normal(kv * hd) * 0.5).astype(np.float32)
        w[p + "o_proj.bias"] = (rng.standard_normal(H) * 0.5).astype(np.float32)
    write_variant("gemma2-tiny-bias-erf", cfg, w, [[2, 17, 200, 5, 99, 31, 31, 7, 250], [2, 45, 3, 180, 77]], "F32")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        {"gemma2-tiny-bias-erf": bias_erf_variant}[sys.argv[2]]()
        return
    rng = np.random.default_rng(20240624)
    cfg = tiny_config()
    w = random_weights(cfg, rng)
    seqs = [[2, 17, 200, 5, 99, 31, 31, 7, 250, 64, 128],   # T = 11 > sliding_window = 4
            [2, 45, 3, 180, 77, 12, 255]]                  # T = 7 (batch with unequal lengths)
    write_variant("gemma2-tiny", cfg, w, seqs, "F32")
    write_variant("gemma2-tiny-bf16", cfg, w, seqs, "BF16", shards=2)
    # variant: explicit layer_types (global first), untied lm_head, no attention soft-cap, rope_parameters
    cfg2 = tiny_config(num_hidden_layers=2, tie_word_embeddings=False, attn_logit_softcapping=None,
                       layer_types=["full_attention", "sliding_attention"], rope_theta=None,
                       rope_parameters={"rope_type": "default", "rope_theta": 500.0}, vocab_size=128)
    del cfg2["rope_theta"]
    rng2 = np.random.default_rng(7)
    w2 = random_weights(cfg2, rng2)
    w2 = {k: v for k, v in w2.items() if not k.startswith("model.layers.2.")}
    w2["lm_head.weight"] = (rng2.standard_normal((128, 48)) * 0.5).astype(np.float32)
    cfg2_math = dict(cfg2, rope_theta=500.0)
    write_variant_cfg2("gemma2-tiny-untied", cfg2, cfg2_math, w2, [[2, 9, 100, 3, 77, 5, 6, 120, 1]])
    bias_erf_variant()


def write_variant_cfg2(name, cfg_file, cfg_math, w, seqs):
    """Like write_variant (F32, single file) but the config written differs from the one the math reads."""
    d = os.path.join(RES, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg_file, f, indent=2)
    st.write(os.path.join(d, "model.safetensors"), w, {"format": "pt"})
    embed_scale = float(np.float32(math.sqrt(cfg_math["hidden_size"])))
    expected = {}
    for si, toks in enumerate(seqs):
        resid, logits, stats = forward(cfg_math, w, toks, embed_scale)
        for l, r in enumerate(resid):
            expected[f"seq{si}.resid_post.{l}"] = r.astype(np.float32)
        expected[f"seq{si}.logits"] = logits.astype(np.float32)
        print(name, "seq", si, "T", len(toks), stats)
    st.write(os.path.join(d, "expected.safetensors"), expected, {"producer": "scripts/gemma2_reference.py"})
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"sequences": seqs, "embed_scale": embed_scale}, f)


if __name__ == "__main__":
    main()
