#!/usr/bin/python3
"""PyTorch peer of `msts bench train`: the same SAE training step (forward, loss, backward, Adam), on the CPU
(default) or a CUDA GPU (--device cuda, or MSTS_PEER_DEVICE=cuda when `msts bench train` starts it: the
device kit's check runs it that way next to `--backend tornado`).

ReLU SAE: f = relu((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec,
loss = mean_tokens Σ_d (x̂ − x)² + λ·mean_tokens Σ_j f_j ‖W_dec,j‖ (docs/sae.md).
TopK (--arch topk --k 64): f keeps the k largest pre-activations (ReLU), no L1, as SAELens.
Temporal: the encoder input adds depth-wise causal dilated convolutions (kernel 3, dilations 1,2,4) of
x − b_dec over whole sequences of T tokens; position 0 of each sequence excluded from the loss.
Usage: /usr/bin/python3 scripts/bench_train_torch.py --d-in 2304 --d-sae 16384 --batch 1024 --arch relu
       [--ctx 128] [--steps 3] [--warmup 1] [--threads N]
       [--device cpu|cuda]
Prints one JSON line: tokens_per_s (counted tokens), seconds per step, torch version, threads, device.
"""
import argparse, json, os, time
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--d-in", type=int, default=2304)
ap.add_argument("--d-sae", type=int, default=2304)
ap.add_argument("--batch", type=int, default=4096)
ap.add_argument("--arch", default="relu", choices=["relu", "topk", "temporal"])
ap.add_argument("--k", type=int, default=64)
ap.add_argument("--b-enc-init", type=float, default=0.0)
ap.add_argument("--ctx", type=int, default=128)
ap.add_argument("--steps", type=int, default=3)
ap.add_argument("--warmup", type=int, default=1)
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--device", default=os.environ.get("MSTS_PEER_DEVICE", "cpu"), help="cpu or cuda")
a = ap.parse_args()
dev = torch.device(a.device)
torch.set_num_threads(a.threads)
torch.manual_seed(0)
d, n = a.d_in, a.d_sae
W_dec = torch.randn(n, d, device=dev)
W_dec = (W_dec / W_dec.norm(dim=1, keepdim=True) * 0.1)
P = {"W_enc": W_dec.t().clone(), "b_enc": torch.full((n,), a.b_enc_init, device=dev), "W_dec": W_dec,
     "b_dec": torch.zeros(d, device=dev)}
dil = [1, 2, 4]
if a.arch == "temporal":
    P["conv_w"] = torch.zeros(len(dil), d, 3, device=dev)
for v in P.values():
    v.requires_grad_(True)
opt = torch.optim.Adam(list(P.values()), lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
lam = 5.0
if a.arch == "temporal":
    nseq = max(1, round(a.batch / a.ctx))
    T = a.ctx
else:
    nseq, T = a.batch, 1
x = torch.rand(nseq * T, d, device=dev) * 2 - 1  # uniform in [-1, 1], as the msts bench
counted = torch.tensor([(r % T) >= (1 if T > 1 else 0) for r in range(nseq * T)], device=dev)


def step():
    opt.zero_grad(set_to_none=True)
    xc = x - P["b_dec"]
    z = xc
    if a.arch == "temporal":
        xs = xc.view(nseq, T, d).transpose(1, 2)  # [nseq, d, T]
        for s, dl in enumerate(dil):
            w = P["conv_w"][s].flip(-1).unsqueeze(1)  # [d, 1, 3]; tap j looks j·dl back
            z = z + F.conv1d(F.pad(xs, (2 * dl, 0)), w, dilation=dl, groups=d).transpose(1, 2).reshape(nseq * T, d)
    pre = z @ P["W_enc"] + P["b_enc"]
    if a.arch == "topk":  # SAELens TopK: keep the k largest, ReLU, dense decode
        v, idx = pre.topk(a.k, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, idx, torch.relu(v))
    else:
        f = torch.relu(pre)
    xhat = f @ P["W_dec"] + P["b_dec"]
    mse = ((xhat - x) ** 2).sum(-1)[counted].mean()
    loss = mse
    if a.arch != "topk":
        loss = loss + lam * (f * P["W_dec"].norm(dim=1)).sum(-1)[counted].mean()
    loss.backward()
    opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return float(loss)


for _ in range(a.warmup):
    step()
times = []
for _ in range(a.steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
tok = int(counted.sum())
sec = sum(times) / len(times)
print(json.dumps({"peer": "pytorch-" + dev.type, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "arch": a.arch, "d_in": d, "d_sae": n, "batch_tokens": tok, "seconds_per_step": sec,
                  "step_seconds": times, "tokens_per_s": tok / sec}))
