#!/usr/bin/env python3
"""Autograd fixture for msts' Gemma-2 backward pass (msts.model.train.Gemma2Backprop).

A PyTorch transcription of Hugging Face transformers' Gemma2ForCausalLM (eager attention: additive
min-float causal mask, tril(diagonal=-window) sliding mask on even layers, repeat_kv, rotate_half,
soft-caps) run in float64 on random float32 weights of a tiny config (T > sliding window, GQA, both
soft-caps active), with HF's causal-LM loss (labels = input ids, shift by one, mean over positions).
Writes into OUT_DIR: config.json + model.safetensors (the F32 weights, HF layout), fixture.json (tokens,
loss; loss weights and the weighted loss Σwℓ/Σw) and expected.safetensors (logits, grad.<param name> and
wgrad.<param name> (of the weighted loss) for every parameter, as F32).

Usage: /usr/bin/python3 scripts/gemma2_train_reference.py model/src/test/resources/gemma2-train-tiny
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np as st  # noqa: E402


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, W, tokens, stop_layer=None):
    """tokens [B, T] -> soft-capped logits [B, T, V]; with stop_layer, resid_post of that layer [B, T, H]."""
    H, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    Bn, T = tokens.shape
    eps = cfg["rms_norm_eps"]
    E = W["model.embed_tokens.weight"]
    dt = E.dtype  # float64 for the fixture, float32 in the bench peer (scripts/lm_train_torch.py)
    x = E[tokens] * torch.tensor(H ** 0.5, dtype=torch.float32).to(dt)
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.arange(T, dtype=torch.float32)[:, None] @ inv_freq[None, :]       # float32 angles, as HF
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos().to(dt), emb.sin().to(dt)
    neg = torch.finfo(dt).min
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(Bn, T, nh, hd).transpose(1, 2)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(Bn, T, nkv, hd).transpose(1, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(Bn, T, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        s = (q @ k.transpose(-1, -2)) * cfg["query_pre_attn_scalar"] ** -0.5
        if cfg.get("attn_logit_softcapping"):
            c = cfg["attn_logit_softcapping"]
            s = torch.tanh(s / c) * c
        mask = torch.triu(torch.full((T, T), neg, dtype=dt), diagonal=1)
        if cfg["layer_types"][L] == "sliding_attention":
            sw = torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-cfg["sliding_window"])
            mask = torch.where(sw, torch.tensor(neg, dtype=dt), mask)
        a = torch.softmax(s + mask, dim=-1) @ v
        a = a.transpose(1, 2).reshape(Bn, T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        x = x + rms_norm(a, W[p + "post_attention_layernorm.weight"], eps)
        h = rms_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps)
        g = torch.nn.functional.gelu(h @ W[p + "mlp.gate_proj.weight"].T, approximate="tanh")
        m = (g * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
        x = x + rms_norm(m, W[p + "post_feedforward_layernorm.weight"], eps)
        if stop_layer == L:
            return x
    x = rms_norm(x, W["model.norm.weight"], eps)
    logits = x @ E.T
    if cfg.get("final_logit_softcapping"):
        c = cfg["final_logit_softcapping"]
        logits = torch.tanh(logits / c) * c
    return logits


def causal_lm_loss(logits, tokens):
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))


def weighted_causal_lm_loss(logits, tokens, weights):
    """sum_t w_t * CE_t / sum_t w_t; weights[b, t] weighs position t predicting token t+1 (last column unused)."""
    V = logits.shape[-1]
    ce = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), reduction="none")
    w = weights[:, :-1].reshape(-1)
    return (w * ce).sum() / w.sum()


def main():
    torch.set_default_dtype(torch.float64)
    out = sys.argv[1] if len(sys.argv) > 1 else "model/src/test/resources/gemma2-train-tiny"
    rng = np.random.default_rng(20261202)
    nl = 3
    cfg = {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "attention_bias": False,
           "attention_dropout": 0.0, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0,
           "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
           "initializer_range": 0.02, "vocab_size": 61, "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": nl, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
           "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "query_pre_attn_scalar": 8, "sliding_window": 3, "attn_logit_softcapping": 2.0,
           "final_logit_softcapping": 3.0, "tie_word_embeddings": True, "torch_dtype": "float32",
           "layer_types": ["sliding_attention" if l % 2 == 0 else "full_attention" for l in range(nl)]}
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    qd, kvd = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    W = {"model.embed_tokens.weight": rng.normal(0, 0.5, (V, H))}
    for L in range(nl):
        p = f"model.layers.{L}."
        W[p + "input_layernorm.weight"] = rng.normal(0, 0.3, H)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.5, (qd, H))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.5, (kvd, H))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.3, (kvd, H))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.2, (H, qd))
        W[p + "post_attention_layernorm.weight"] = rng.normal(0, 0.3, H)
        W[p + "pre_feedforward_layernorm.weight"] = rng.normal(0, 0.3, H)
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.4, (I, H))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 0.3, (I, H))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 0.2, (H, I))
        W[p + "post_feedforward_layernorm.weight"] = rng.normal(0, 0.3, H)
    W["model.norm.weight"] = rng.normal(0, 0.3, H)
    W32 = {k: v.astype(np.float32) for k, v in W.items()}
    Bn, T = 2, 7
    tokens = rng.integers(0, V, (Bn, T))
    tokens[:, 0] = cfg["bos_token_id"]

    P = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in W32.items()}
    tok = torch.tensor(tokens)
    logits = forward(cfg, P, tok)
    loss = causal_lm_loss(logits, tok)
    loss.backward()
    # how much the caps matter (the test is only meaningful if they bind on some entries)
    capped = float((logits.detach().abs() > 0.5 * cfg["final_logit_softcapping"]).double().mean())

    # the weighted loss (supervised documents: prompt/completion loss weights), with its own random stream so
    # the unweighted fixture above stays the same bytes; some weights 0, last column unused (set to 0)
    wr = np.random.default_rng(20261203)
    weights = wr.choice(np.array([0.0, 0.25, 1.0, 4.0], dtype=np.float32), size=(Bn, T))
    weights[:, -1] = 0.0
    weights[0, 1] = 0.0
    weights[1, 2] = 4.0
    Pw = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in W32.items()}
    wloss = weighted_causal_lm_loss(forward(cfg, Pw, tok), tok, torch.tensor(weights.astype(np.float64)))
    wloss.backward()

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    st.write(os.path.join(out, "model.safetensors"), W32)
    exp = {"logits": logits.detach().numpy().astype(np.float32)}
    for k, t in P.items():
        exp["grad." + k] = t.grad.numpy().astype(np.float32)
    for k, t in Pw.items():
        exp["wgrad." + k] = t.grad.numpy().astype(np.float32)
    st.write(os.path.join(out, "expected.safetensors"), exp,
             {"producer": "scripts/gemma2_train_reference.py", "torch": torch.__version__})
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump({"tokens": tokens.tolist(), "loss": float(loss), "weights": weights.tolist(),
                   "weighted_loss": float(wloss), "torch": torch.__version__,
                   "dtype": "float64", "fraction_logits_above_half_cap": capped}, f, indent=2)
    print(f"wrote {out}: loss {float(loss):.6f}, |logit| > cap/2 on {capped:.0%}")


if __name__ == "__main__":
    main()
