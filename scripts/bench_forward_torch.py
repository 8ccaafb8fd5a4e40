#!/usr/bin/env python3
"""PyTorch peer of the device kit's forward benchmark (msts.tornado.bench.ForwardBench): a Gemma-2 forward
pass with Gemma-2-2B shapes (hidden 2304, 8 query / 4 KV heads × 256, MLP 9216, soft-caps 50 / 30, sliding
window 4096 on even layers, query_pre_attn_scalar 256) and random weights, `--layers` layers, one sequence of
`--tokens` tokens, logits over `--vocab`. The layer math is scripts/gemma2_torch_check.py's (HF modeling_gemma2,
eager attention), here on a device and in a weight dtype.

Usage: python3 scripts/bench_forward_torch.py --layers 4 --tokens 128 --vocab 256000 --device cuda --dtype bf16
       [--warmup 2] [--runs 5]
Prints one JSON line: ms_median (wall time of one forward, synchronised), the settings, torch version.
"""
import argparse, json, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--tokens", type=int, default=128)
ap.add_argument("--vocab", type=int, default=256000)
ap.add_argument("--device", default="cuda")
ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--runs", type=int, default=5)
a = ap.parse_args()
dev = torch.device(a.device)
dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
H, I, nh, nkv, hd, win, eps = 2304, 9216, 8, 4, 256, 4096, 1e-6
torch.manual_seed(0)


def rnd(*shape, std=0.02):
    return (torch.randn(*shape, device=dev) * std).to(dt)


W = {"embed": rnd(a.vocab, H, std=0.5), "norm": rnd(H)}
for L in range(a.layers):
    W[L] = {"q": rnd(nh * hd, H), "k": rnd(nkv * hd, H), "v": rnd(nkv * hd, H), "o": rnd(H, nh * hd),
            "gate": rnd(I, H), "up": rnd(I, H), "down": rnd(H, I),
            "n_in": rnd(H), "n_post_attn": rnd(H), "n_pre_ff": rnd(H), "n_post_ff": rnd(H)}


def rms_norm(x, w):
    x32 = x.float()
    out = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return (out * (1.0 + w.float())).to(dt)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


T = a.tokens
tokens = torch.randint(0, a.vocab, (T,), device=dev)
inv_freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, device=dev).float() / hd))
freqs = torch.arange(T, device=dev).float()[:, None] @ inv_freq[None, :]
emb = torch.cat((freqs, freqs), -1)
cos, sin = emb.cos().to(dt), emb.sin().to(dt)
neg = torch.finfo(torch.float32).min
causal = torch.triu(torch.full((T, T), neg, device=dev), diagonal=1)
sliding = torch.where(torch.tril(torch.ones(T, T, dtype=torch.bool, device=dev), diagonal=-win),
                      torch.tensor(neg, device=dev), causal)


@torch.no_grad()
def forward():
    x = W["embed"][tokens] * torch.tensor(H ** 0.5, dtype=dt)
    for L in range(a.layers):
        w = W[L]
        h = rms_norm(x, w["n_in"])
        q = (h @ w["q"].T).view(T, nh, hd).transpose(0, 1)
        k = (h @ w["k"].T).view(T, nkv, hd).transpose(0, 1)
        v = (h @ w["v"].T).view(T, nkv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        s = (q.float() @ k.float().transpose(1, 2)) * 256 ** -0.5
        s = torch.tanh(s / 50.0) * 50.0
        s = s + (sliding if L % 2 == 0 else causal)
        att = (torch.softmax(s, dim=-1, dtype=torch.float32).to(dt) @ v)
        att = att.transpose(0, 1).reshape(T, nh * hd) @ w["o"].T
        x = x + rms_norm(att, w["n_post_attn"])
        h = rms_norm(x, w["n_pre_ff"])
        g = torch.nn.functional.gelu(h @ w["gate"].T, approximate="tanh")
        x = x + rms_norm((g * (h @ w["up"].T)) @ w["down"].T, w["n_post_ff"])
    x = rms_norm(x, W["norm"])
    logits = (x @ W["embed"].T).float()
    logits = torch.tanh(logits / 30.0) * 30.0
    return logits


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


for _ in range(a.warmup):
    forward()
sync()
times = []
for _ in range(a.runs):
    t0 = time.perf_counter()
    out = forward()
    sync()
    times.append((time.perf_counter() - t0) * 1e3)
assert torch.isfinite(out).all(), "non-finite logits"
times.sort()
print(json.dumps({"peer": "pytorch-" + dev.type, "torch": torch.__version__, "dtype": a.dtype, "layers": a.layers,
                  "tokens": T, "vocab": a.vocab, "ms_median": times[len(times) // 2], "ms": times,
                  "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else None}))
