"""Cross-check of the numpy reference fixtures against a PyTorch transcription of transformers'
modeling_gemma2 (eager path: Gemma2RMSNorm, Gemma2RotaryEmbedding + rotate_half, repeat_kv, eager attention
with the soft-cap before the additive min-float mask, sliding-window mask tril(diagonal=-window), GeGLU with
gelu(approximate='tanh'), normalizer tensor in the weights' dtype, final soft-cap), all in float32.

  /usr/bin/python3 scripts/gemma2_torch_fixture_check.py      (Debian python3 with python3-torch)
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np as st  # noqa: E402

RES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'model', 'src', 'test', 'resources')


def rms_norm(x, w, eps):
    out = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps)
    return (out * (1.0 + w.float())).type_as(x)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(h, n_rep):
    b, kvh, s, d = h.shape
    if n_rep == 1:
        return h
    return h[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


def forward(cfg, W, tokens, dtype):
    H, nh, kv, hd = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    eps = cfg['rms_norm_eps']
    theta = cfg.get('rope_theta') or cfg['rope_parameters']['rope_theta']
    scaling = cfg['query_pre_attn_scalar'] ** -0.5
    cap_a, cap_f = cfg.get('attn_logit_softcapping'), cfg.get('final_logit_softcapping')
    L = cfg['num_hidden_layers']
    lt = cfg.get('layer_types') or ['sliding_attention' if (i + 1) % 2 else 'full_attention' for i in range(L)]
    ids = torch.tensor([tokens])
    T = len(tokens)
    # normalizer: a tensor of the weights' dtype (HF); msts computes in f32 on bf16 weights (HF in bf16 mode
    # would also round every activation to bf16 — that is not what msts or this check computes)
    E = W['model.embed_tokens.weight']
    x = E[ids].float() * torch.tensor(H ** 0.5, dtype=E.dtype).float()
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    pos = torch.arange(T)[None, :].float()
    freqs = (inv_freq[None, :, None].float() @ pos[:, None, :]).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    minf = torch.finfo(torch.float32).min
    causal = torch.triu(torch.full((T, T), minf), diagonal=1)
    resid = []
    F = {k: v.float() for k, v in W.items()}
    for l in range(L):
        p = f'model.layers.{l}.'
        mask = causal.clone()
        if lt[l] == 'sliding_attention' and cfg.get('sliding_window') is not None:
            sw = torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-cfg['sliding_window'])
            mask = torch.where(sw, torch.tensor(minf), mask)
        h = rms_norm(x, F[p + 'input_layernorm.weight'], eps)
        q = (h @ F[p + 'self_attn.q_proj.weight'].T).view(1, T, nh, hd).transpose(1, 2)
        k = (h @ F[p + 'self_attn.k_proj.weight'].T).view(1, T, kv, hd).transpose(1, 2)
        v = (h @ F[p + 'self_attn.v_proj.weight'].T).view(1, T, kv, hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, nh // kv), repeat_kv(v, nh // kv)
        a = torch.matmul(q, k.transpose(2, 3)) * scaling
        if cap_a is not None:
            a = torch.tanh(a / cap_a) * cap_a
        a = torch.softmax(a + mask, dim=-1, dtype=torch.float32)
        o = torch.matmul(a, v).transpose(1, 2).reshape(1, T, nh * hd) @ F[p + 'self_attn.o_proj.weight'].T
        x = x + rms_norm(o, F[p + 'post_attention_layernorm.weight'], eps)
        h = rms_norm(x, F[p + 'pre_feedforward_layernorm.weight'], eps)
        g = torch.nn.functional.gelu(h @ F[p + 'mlp.gate_proj.weight'].T, approximate='tanh')
        f = (g * (h @ F[p + 'mlp.up_proj.weight'].T)) @ F[p + 'mlp.down_proj.weight'].T
        x = x + rms_norm(f, F[p + 'post_feedforward_layernorm.weight'], eps)
        resid.append(x[0])
    x = rms_norm(x, F['model.norm.weight'], eps)
    head = F.get('lm_head.weight', F['model.embed_tokens.weight'])
    logits = x @ head.T
    if cap_f is not None:
        logits = torch.tanh(logits / cap_f) * cap_f
    return resid, logits[0]


def load_weights(d):
    W = {}
    idx = os.path.join(d, 'model.safetensors.index.json')
    files = sorted(set(json.load(open(idx))['weight_map'].values())) if os.path.exists(idx) else ['model.safetensors']
    for f in files:
        raw = st.read(os.path.join(d, f))
        W.update(raw)
    return W


def main():
    worst = 0.0
    for name in ('gemma2-tiny', 'gemma2-tiny-bf16', 'gemma2-tiny-untied'):
        d = os.path.join(RES, name)
        cfg = json.load(open(os.path.join(d, 'config.json')))
        bf16 = cfg.get('torch_dtype') == 'bfloat16'
        W = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in load_weights(d).items()}
        if bf16:
            W = {k: v.to(torch.bfloat16) for k, v in W.items()}   # exact: values are bf16-representable
        exp = st.read(os.path.join(d, 'expected.safetensors'))
        seqs = json.load(open(os.path.join(d, 'expected.json')))['sequences']
        for s, toks in enumerate(seqs):
            with torch.no_grad():
                resid, logits = forward(cfg, W, toks, torch.bfloat16 if bf16 else torch.float32)
            dl = float(np.abs(logits.numpy() - exp[f'seq{s}.logits']).max())
            dr = max(float(np.abs(r.numpy() - exp[f'seq{s}.resid_post.{l}']).max()) for l, r in enumerate(resid))
            print(f'{name:20s} seq{s}: max|Δlogit| {dl:.3g}  max|Δresid| {dr:.3g}')
            worst = max(worst, dl)
    print('torch', torch.__version__, 'worst max|Δlogit|', worst)
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == '__main__':
    main()
