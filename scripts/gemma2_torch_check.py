#!/usr/bin/env python3
"""Independent end-to-end check of `msts forward` against a PyTorch Gemma-2 forward pass written from
Hugging Face transformers' modeling_gemma2 (eager attention), on random tiny checkpoints in the HF layout.

Usage (Debian's python3 with python3-torch):  /usr/bin/python3 scripts/gemma2_torch_check.py [--seeds 3]
Writes each checkpoint to a temp dir, runs ./msts forward --model DIR --tokens ... --out FILE, and prints
max |Δ| of logits and of every resid_post.<i>. Exits 1 when max |Δlogit| > 1e-3.
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np as st  # noqa: E402

def rms_norm(x, w, eps):
    x = x.float()
    out = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return out * (1.0 + w.float())

def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

def forward(cfg, W, tokens):
    H, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    T = len(tokens)
    t = lambda n: torch.from_numpy(W[n])
    x = t("model.embed_tokens.weight")[torch.tensor(tokens)]
    x = x * torch.tensor(H ** 0.5, dtype=x.dtype)
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.arange(T).float()[:, None] @ inv_freq[None, :]
    emb = torch.cat((freqs, freqs), -1); cos, sin = emb.cos(), emb.sin()
    neg = torch.finfo(torch.float32).min
    resid = []
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        h = rms_norm(x, t(p + "input_layernorm.weight"), cfg["rms_norm_eps"])
        q = (h @ t(p + "self_attn.q_proj.weight").T).view(T, nh, hd).transpose(0, 1)
        k = (h @ t(p + "self_attn.k_proj.weight").T).view(T, nkv, hd).transpose(0, 1)
        v = (h @ t(p + "self_attn.v_proj.weight").T).view(T, nkv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0); v = v.repeat_interleave(nh // nkv, dim=0)
        s = (q @ k.transpose(1, 2)) * cfg["query_pre_attn_scalar"] ** -0.5
        if cfg.get("attn_logit_softcapping"):
            c = cfg["attn_logit_softcapping"]; s = torch.tanh(s / c) * c
        mask = torch.triu(torch.full((T, T), neg), diagonal=1)
        if L % 2 == 0 and cfg.get("sliding_window"):
            sw = torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-cfg["sliding_window"])
            mask = torch.where(sw, torch.tensor(neg), mask)
        a = torch.softmax(s + mask, dim=-1, dtype=torch.float32) @ v
        a = a.transpose(0, 1).reshape(T, nh * hd) @ t(p + "self_attn.o_proj.weight").T
        x = x + rms_norm(a, t(p + "post_attention_layernorm.weight"), cfg["rms_norm_eps"])
        h = rms_norm(x, t(p + "pre_feedforward_layernorm.weight"), cfg["rms_norm_eps"])
        g = torch.nn.functional.gelu(h @ t(p + "mlp.gate_proj.weight").T, approximate="tanh")
        m = (g * (h @ t(p + "mlp.up_proj.weight").T)) @ t(p + "mlp.down_proj.weight").T
        x = x + rms_norm(m, t(p + "post_feedforward_layernorm.weight"), cfg["rms_norm_eps"])
        resid.append(x.clone())
    x = rms_norm(x, t("model.norm.weight"), cfg["rms_norm_eps"])
    logits = x @ t("model.embed_tokens.weight").T
    if cfg.get("final_logit_softcapping"):
        c = cfg["final_logit_softcapping"]; logits = torch.tanh(logits / c) * c
    return resid, logits

def make(seed, d):
    rng = np.random.default_rng(seed)
    cfg = {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "attention_bias": False,
           "attention_dropout": 0.0, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0,
           "cache_implementation": "hybrid", "hidden_act": "gelu_pytorch_tanh",
           "hidden_activation": "gelu_pytorch_tanh", "initializer_range": 0.02,
           "vocab_size": int(rng.integers(300, 700)), "hidden_size": 48, "intermediate_size": 96,
           "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
           "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "query_pre_attn_scalar": 24, "sliding_window": 5, "attn_logit_softcapping": 8.0,
           "final_logit_softcapping": 3.0, "tie_word_embeddings": True, "torch_dtype": "float32",
           "transformers_version": "4.44.0", "use_cache": True}
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    qd, kvd = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    W = {"model.embed_tokens.weight": rng.normal(0, 0.3, (V, H)), "model.norm.weight": rng.normal(0, 0.5, H)}
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        for n in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]:
            W[p + n + ".weight"] = rng.normal(0, 0.5, H)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.6, (qd, H))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.6, (kvd, H))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.3, (kvd, H))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.2, (H, qd))
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.3, (I, H))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 0.3, (I, H))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 0.2, (H, I))
    W = {k: v.astype(np.float32) for k, v in W.items()}
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(cfg, f, indent=2)
    st.write(os.path.join(d, "model.safetensors"), W)
    tokens = [2] + [int(t) for t in rng.integers(3, V, 18)]
    return cfg, W, tokens

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--seeds", type=int, default=3); args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    worst = 0.0
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as d:
            cfg, W, tokens = make(seed, os.path.join(d, "m"))
            resid, logits = forward(cfg, W, tokens)
            out = os.path.join(d, "out.safetensors")
            subprocess.run([os.path.join(root, "msts"), "forward", "--model", os.path.join(d, "m"),
                            "--tokens", ",".join(map(str, tokens)), "--out", out], check=True)
            got = st.read(out)
            dl = float(np.abs(got["logits"] - logits.numpy()).max())
            dr = max(float(np.abs(got[f"resid_post.{i}"] - r.numpy()).max()) for i, r in enumerate(resid))
            capped = float((np.abs(logits.numpy()) > 0.9 * cfg["final_logit_softcapping"]).mean())
            print(f"seed {seed}: T={len(tokens)} vocab={cfg['vocab_size']} max|Δlogit|={dl:.3e} "
                  f"max|Δresid|={dr:.3e} (|logit|>0.9·cap: {capped:.0%})")
            worst = max(worst, dl)
    print(f"worst max|Δlogit| = {worst:.3e} (limit 1e-3)")
    sys.exit(0 if worst <= 1e-3 else 1)

if __name__ == "__main__":
    main()
