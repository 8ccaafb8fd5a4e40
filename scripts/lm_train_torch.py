#!/usr/bin/env python3
"""PyTorch-CPU peer of msts' Gemma-2 LM training step (msts bench lm runs it right after msts).

Trains the model in MODEL_DIR (config.json + model.safetensors, F32, HF layout; the same initial weights
msts starts from) on the token rows of ROWS (JSON [steps][batch][context]) with the same settings:
HF causal-LM loss, torch.optim.AdamW (decay on 2-D weights incl. the tied embedding, not on norms),
clip_grad_norm_, linear warm-up then cosine to 0 (lr·(s+1)/warmup, then ½(1+cos(π·progress))).
The model is the Gemma-2 transcription of scripts/gemma2_train_reference.py, in float32.
Prints one JSON line: per-step seconds, their median over the timed steps, the process CPU seconds of the
timed steps, and the loss of every step.

Usage: /usr/bin/python3 scripts/lm_train_torch.py --model DIR --rows rows.json [--threads 2] ...
"""
import argparse, json, math, os, statistics, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np as st  # noqa: E402
from gemma2_train_reference import forward, causal_lm_loss  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--warmup-steps", type=int, default=3, help="untimed steps")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--lr-warmup", type=int, default=2)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_default_dtype(torch.float32)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    W = st.read(os.path.join(a.model, "model.safetensors"))
    P = {k: torch.nn.Parameter(torch.tensor(np.array(v, dtype=np.float32))) for k, v in W.items()}
    rows = json.load(open(a.rows))
    steps = len(rows)
    decay = [p for k, p in P.items() if p.dim() == 2]
    no_decay = [p for k, p in P.items() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)

    def lam(s):
        if s < a.lr_warmup:
            return (s + 1) / a.lr_warmup
        prog = (s - a.lr_warmup) / (steps - a.lr_warmup) if steps > a.lr_warmup else 1.0
        return 0.5 * (1 + math.cos(math.pi * min(1.0, prog)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
    secs, losses = [], []
    cpu0 = 0.0
    for s in range(steps):
        if s == a.warmup_steps:
            cpu0 = time.process_time()
        tok = torch.tensor(rows[s])
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = causal_lm_loss(forward(cfg, P, tok), tok)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), a.clip)
        opt.step()
        sched.step()
        secs.append(time.perf_counter() - t0)
        losses.append(float(loss))
    cpu = time.process_time() - cpu0
    timed = secs[a.warmup_steps:] or secs
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "step_seconds": secs,
                      "median_step_seconds": statistics.median(timed), "timed_cpu_seconds": cpu, "losses": losses}))


if __name__ == "__main__":
    main()
