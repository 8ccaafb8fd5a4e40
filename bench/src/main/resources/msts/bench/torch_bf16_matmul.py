#!/usr/bin/env python3
"""PyTorch-CPU BF16 peer for `msts bench matmul --compute bf16` (msts.engine.bench.Bf16MatmulBench):
torch.matmul(x, w.t()) with x [rows, in] and w [out, in] both torch.bfloat16 (oneDNN's BF16 path: BF16
products, F32 accumulation, BF16 result), same timing rule as the Java side (warm-up, then the median and
best of timed runs). Threads: torch.set_num_threads(--threads).

  /usr/bin/python3 bench/src/main/resources/msts/bench/torch_bf16_matmul.py --threads 2 [--quick] --cases matmul_2304x9216_r128  → JSON
"""
import argparse
import json
import sys
import time

import torch

MATMUL = [(2304, 9216), (9216, 2304), (2304, 2048)]
ROWS = [1, 128]


def timeit(fn, flops, min_time, min_runs, warm):
    w0 = time.perf_counter()
    i = 0
    while i < warm or time.perf_counter() - w0 < max(1.0, min_time):
        fn()
        i += 1
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    times.sort()
    med = times[len(times) // 2]
    return {"runs": len(times), "ms_median": med * 1e3, "ms_best": times[0] * 1e3,
            "gflops_median": flops / med / 1e9, "gflops_best": flops / times[0] / 1e9}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--cases", default="")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    want = set(c for c in args.cases.split(",") if c)
    min_time, min_runs, warm = (0.3, 3, 1) if args.quick else (1.0, 5, 2)
    g = torch.Generator().manual_seed(0)
    results = []
    for (din, dout) in MATMUL:
        for rows in ROWS:
            name = f"matmul_{din}x{dout}_r{rows}"
            if want and name not in want:
                continue
            w = torch.randn(dout, din, generator=g).to(torch.bfloat16)
            x = torch.randn(rows, din, generator=g).to(torch.bfloat16)
            wt = w.t()
            r = timeit(lambda: torch.matmul(x, wt), 2.0 * rows * din * dout, min_time, min_runs, warm)
            r.update(name=name, kind="matmul", rows=rows, input=din, output=dout, dtype="BF16")
            results.append(r)
    json.dump({"peer": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
               "mkldnn": torch.backends.mkldnn.is_available(), "python": sys.version.split()[0],
               "results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
