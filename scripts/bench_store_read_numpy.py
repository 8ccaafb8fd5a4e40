#!/usr/bin/env python3
# Usage: python3 scripts/bench_store_read_numpy.py STORE_DIR  (peer of scripts/bench_store_read.java)
# numpy peer of ActivationBatcher.nextTokens: shuffled (seq, pos>=1) gathers from a memory-mapped BF16 shard, widened to F32
import json, struct, time, numpy as np, sys
f = sys.argv[1] + "/shard_00000.safetensors"
b = open(f, 'rb'); n = struct.unpack('<Q', b.read(8))[0]; h = json.loads(b.read(n)); b.close()
v = h['activations']; s, e = v['data_offsets']; N, T, D = v['shape']
mm = np.memmap(f, dtype=np.uint16, mode='r', offset=8 + n + s, shape=(N, T, D))
rng = np.random.default_rng(1)
for rep in range(3):
    t0 = time.perf_counter(); tot = 0
    for i in range(20):
        si = rng.integers(0, N, 4096); pi = rng.integers(1, T, 4096)
        x = (mm[si, pi].astype(np.uint32) << 16).view(np.float32)
        tot += 4096
    dt = time.perf_counter() - t0
    print(f"numpy rep {rep}: gather {tot/dt:.0f} tok/s ({tot*D*4/dt/1e9:.2f} GB/s F32 out)")
