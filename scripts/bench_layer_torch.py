#!/usr/bin/env python3
"""PyTorch-CPU BF16 peer of `msts bench layer --compute bf16`: one full-size Gemma-2-2B decoder layer (hidden
2304, 8 heads, 4 KV heads, head_dim 256, intermediate 9216, sliding window 4096, attention soft-cap 50) on T
tokens with random bfloat16 weights, run the way a PyTorch BF16 model runs it (HF Gemma2 in torch.bfloat16:
bf16 activations and weights, matmuls on oneDNN's BF16 path, RMSNorm computed in float32 and cast back),
same math as scripts/bench_layer_numpy.py / msts.model.gemma.Gemma2. Threads: torch.set_num_threads(--threads).
Prints one JSON line: {"tokens": T, "runs": [...], "median_s": ..., "best_s": ..., "tokens_per_s": ..., "torch": ...}.

  /usr/bin/python3 scripts/bench_layer_torch.py [--tokens 128] [--runs 5] [--warmup 2] [--threads 2]
"""
import argparse
import json
import math
import time

import torch

H, NH, KV, HD, I = 2304, 8, 4, 256, 9216
EPS, THETA, SCALE, CAP, WIN = 1e-6, 10000.0, 256 ** -0.5, 50.0, 4096
BF = torch.bfloat16


def rms(x, w):  # HF Gemma2RMSNorm: in float32, (1 + w), cast back
    xf = x.float()
    y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + EPS) * (1.0 + w.float())
    return y.type_as(x)


def rope(x, cos, sin):
    half = HD // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def layer(h, w, cos, sin, mask):
    T = h.shape[0]
    a = rms(h, w['ln1'])
    q = (a @ w['q'].t()).view(T, NH, HD)
    k = (a @ w['k'].t()).view(T, KV, HD)
    v = (a @ w['v'].t()).view(T, KV, HD)
    q, k = rope(q, cos, sin), rope(k, cos, sin)
    qh = q.transpose(0, 1)
    kh = k.transpose(0, 1).repeat_interleave(NH // KV, dim=0)
    vh = v.transpose(0, 1).repeat_interleave(NH // KV, dim=0)
    s = (qh @ kh.transpose(1, 2)) * SCALE
    s = CAP * torch.tanh(s / CAP)
    s = s.masked_fill(mask, float('-inf'))
    p = torch.softmax(s.float(), dim=-1).to(BF)
    o = (p @ vh).transpose(0, 1).reshape(T, NH * HD)
    h = h + rms(o @ w['o'].t(), w['ln2'])
    m = rms(h, w['ln3'])
    f = (torch.nn.functional.gelu(m @ w['g'].t(), approximate='tanh') * (m @ w['u'].t())) @ w['d'].t()
    return h + rms(f, w['ln4'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tokens', type=int, default=128)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)

    def lin(o, i):
        return (torch.randn(o, i, generator=g) / math.sqrt(i)).to(BF)

    w = {'q': lin(NH * HD, H), 'k': lin(KV * HD, H), 'v': lin(KV * HD, H), 'o': lin(H, NH * HD),
         'g': lin(I, H), 'u': lin(I, H), 'd': lin(H, I)}
    for n in ('ln1', 'ln2', 'ln3', 'ln4'):
        w[n] = (torch.randn(H, generator=g) * 0.1).to(BF)
    T = a.tokens
    h = torch.randn(T, H, generator=g).to(BF)
    inv = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang)[:, None, :].to(BF), torch.sin(ang)[:, None, :].to(BF)
    i_idx, j_idx = torch.arange(T)[:, None], torch.arange(T)[None, :]
    mask = (j_idx > i_idx) | (i_idx - j_idx >= WIN)
    runs = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            layer(h, w, cos, sin, mask)
        for _ in range(a.runs):
            t0 = time.perf_counter()
            out = layer(h, w, cos, sin, mask)
            runs.append(time.perf_counter() - t0)
    assert torch.isfinite(out.float()).all()
    runs_sorted = sorted(runs)
    med = runs_sorted[len(runs) // 2]
    print(json.dumps({'tokens': T, 'runs': runs, 'median_s': med, 'best_s': min(runs), 'tokens_per_s': T / med,
                      'torch': torch.__version__, 'threads': torch.get_num_threads(), 'dtype': 'bfloat16'}))


if __name__ == '__main__':
    main()
