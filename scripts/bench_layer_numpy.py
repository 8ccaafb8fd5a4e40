"""numpy/OpenBLAS peer of `msts bench layer`: one full-size Gemma-2-2B decoder layer (hidden 2304, 8 heads,
4 KV heads, head_dim 256, intermediate 9216, sliding window 4096, attention soft-cap 50) on T tokens with
random float32 weights (numpy has no bfloat16 matmul), same math as msts.model.gemma.Gemma2 (docs/gemma2.md).
Prints one JSON line: {"tokens": T, "runs": [...seconds...], "median_s": ..., "tokens_per_s": ..., "blas": ...}.

  python3 scripts/bench_layer_numpy.py [--tokens 128] [--runs 5] [--warmup 2]
"""
import argparse
import json
import math
import time

import numpy as np

H, NH, KV, HD, I = 2304, 8, 4, 256, 9216
EPS, THETA, SCALE, CAP, WIN = 1e-6, 10000.0, 256 ** -0.5, 50.0, 4096


def rms(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * (1.0 + w)


def rope(x, cos, sin):
    half = HD // 2
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer(h, w, cos, sin, mask):
    T = h.shape[0]
    a = rms(h, w['ln1'])
    q = (a @ w['q'].T).reshape(T, NH, HD)
    k = (a @ w['k'].T).reshape(T, KV, HD)
    v = (a @ w['v'].T).reshape(T, KV, HD)
    q, k = rope(q, cos, sin), rope(k, cos, sin)
    qh = q.transpose(1, 0, 2)                                   # [NH, T, HD]
    kh = np.repeat(k.transpose(1, 0, 2), NH // KV, axis=0)     # [NH, T, HD]
    vh = np.repeat(v.transpose(1, 0, 2), NH // KV, axis=0)
    s = (qh @ kh.transpose(0, 2, 1)) * np.float32(SCALE)
    s = np.float32(CAP) * np.tanh(s / np.float32(CAP))
    s = np.where(mask, np.float32(-np.inf), s)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    p = s / s.sum(axis=-1, keepdims=True)
    o = (p @ vh).transpose(1, 0, 2).reshape(T, NH * HD)
    h = h + rms(o @ w['o'].T, w['ln2'])
    m = rms(h, w['ln3'])
    f = (gelu_tanh(m @ w['g'].T) * (m @ w['u'].T)) @ w['d'].T
    return h + rms(f, w['ln4'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tokens', type=int, default=128)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    a = ap.parse_args()
    rng = np.random.default_rng(0)

    def lin(o, i):
        return (rng.standard_normal((o, i), dtype=np.float32) / np.float32(math.sqrt(i)))

    w = {'q': lin(NH * HD, H), 'k': lin(KV * HD, H), 'v': lin(KV * HD, H), 'o': lin(H, NH * HD),
         'g': lin(I, H), 'u': lin(I, H), 'd': lin(H, I)}
    for n in ('ln1', 'ln2', 'ln3', 'ln4'):
        w[n] = (rng.standard_normal(H, dtype=np.float32) * np.float32(0.1))
    T = a.tokens
    h = rng.standard_normal((T, H), dtype=np.float32)
    inv = (1.0 / (THETA ** (np.arange(0, HD, 2, dtype=np.float32) / HD))).astype(np.float32)
    ang = np.arange(T, dtype=np.float32)[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    i_idx, j_idx = np.arange(T)[:, None], np.arange(T)[None, :]
    mask = (j_idx > i_idx) | (i_idx - j_idx >= WIN)
    for _ in range(a.warmup):
        layer(h, w, cos, sin, mask)
    runs = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        out = layer(h, w, cos, sin, mask)
        runs.append(time.perf_counter() - t0)
    assert np.isfinite(out).all()
    med = float(np.median(runs))
    try:
        cfg = np.show_config(mode='dicts')
        blas = cfg['Build Dependencies']['blas']['name']
    except Exception:  # noqa: BLE001
        blas = 'unknown'
    print(json.dumps({'tokens': T, 'runs': runs, 'median_s': med, 'best_s': min(runs),
                      'tokens_per_s': T / med, 'numpy': np.__version__, 'blas': blas, 'dtype': 'float32'}))


if __name__ == '__main__':
    main()
