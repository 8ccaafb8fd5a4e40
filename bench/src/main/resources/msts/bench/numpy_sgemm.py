#!/usr/bin/env python3
"""Peer benchmark for `msts bench matmul`: numpy/OpenBLAS sgemm GFLOP/s on the same cases as
msts.engine.bench.MatmulBench, same timing rule (warm-up, then the median and best of timed runs).

  python3 bench/src/main/resources/msts/bench/numpy_sgemm.py [--quick] [--cases name,name,...]   → JSON on stdout

matmul cases compute x @ w.T with x [rows, in] and w [out, in] float32 (numpy has no bf16 matmul; the
BF16 Java cases are compared against this F32 sgemm). gemm cases compute alpha·op(A)·op(B) + beta·C.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

MATMUL = [(2304, 9216), (9216, 2304), (2304, 2048)]
ROWS = [1, 128]
# name, transA, transB, m, n, k
GEMM = [
    ("gemm_NN_4096x2304x2304", False, False, 4096, 2304, 2304),
    ("gemm_NN_1024x16384x2304", False, False, 1024, 16384, 2304),
    ("gemm_TN_2304x16384x1024", True, False, 2304, 16384, 1024),
    ("gemm_NT_1024x2304x16384", False, True, 1024, 2304, 16384),
]


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
    ap.add_argument("--cases", default="")
    args = ap.parse_args()
    want = set(c for c in args.cases.split(",") if c)
    min_time, min_runs, warm = (0.3, 3, 1) if args.quick else (1.0, 5, 2)
    rng = np.random.default_rng(0)
    results = []
    for (din, dout) in MATMUL:
        w = rng.standard_normal((dout, din), dtype=np.float32)
        for rows in ROWS:
            name = f"matmul_{din}x{dout}_r{rows}_F32"
            if want and name not in want:
                continue
            x = rng.standard_normal((rows, din), dtype=np.float32)
            out = np.empty((rows, dout), dtype=np.float32)
            r = timeit(lambda: np.matmul(x, w.T, out=out), 2.0 * rows * din * dout, min_time, min_runs, warm)
            r.update(name=name, kind="matmul", rows=rows, input=din, output=dout, dtype="F32")
            results.append(r)
    for (name, ta, tb, m, n, k) in GEMM:
        if want and name not in want:
            continue
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        A = a.T if ta else a
        B = b.T if tb else b
        c = np.empty((m, n), dtype=np.float32)
        r = timeit(lambda: np.matmul(A, B, out=c), 2.0 * m * n * k, min_time, min_runs, warm)
        r.update(name=name, kind="gemm", transA=ta, transB=tb, m=m, n=n, k=k, dtype="F32")
        results.append(r)
    cfg = {}
    try:
        info = np.show_config(mode="dicts")
        blas = info.get("Build Dependencies", {}).get("blas", {})
        cfg = {"blas": blas.get("name"), "blas_version": blas.get("version")}
    except Exception:
        pass
    json.dump({"peer": "numpy", "numpy": np.__version__, "python": sys.version.split()[0],
               "threads_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
               **cfg, "results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
