#!/usr/bin/env python3
"""Reads an msts activation store with plain numpy (no msts code): checks the manifest against the shards,
prints shapes, the first row's tokens and SAELens's norm scaling factor sqrt(d_in) / mean ||x|| over all
non-BOS positions (compare with ActivationBatcher.estimateNormScale(Long.MAX_VALUE)).
Usage: python3 scripts/store_numpy.py STORE_DIR"""
import json, struct, sys
import numpy as np


def load(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
    out = {}
    for name, v in header.items():
        if name == '__metadata__':
            continue
        s, e = v['data_offsets']
        raw = np.memmap(path, dtype=np.uint8, mode='r', offset=8 + n + s, shape=(e - s,))
        if v['dtype'] == 'BF16':
            a = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif v['dtype'] == 'F32':
            a = raw.view(np.float32)
        else:
            raise SystemExit(f"{path}: unexpected dtype {v['dtype']}")
        out[name] = a.reshape(v['shape'])
    return out, header.get('__metadata__', {})


def main(d):
    m = json.load(open(f"{d}/manifest.json"))
    assert m['format'] == 'msts-activation-store', m['format']
    ctx, din = m['context_size'], m['d_in']
    total, norm_sum, count, first = 0, 0.0, 0, None
    for sh in m['shards']:
        t, meta = load(f"{d}/{sh['file']}")
        a, tok = t['activations'], t['tokens']
        assert a.shape == (sh['n_sequences'], ctx, din), (sh, a.shape)
        assert tok.shape == (sh['n_sequences'], ctx)
        assert int(meta['first_sequence']) == sh['first_sequence'] == total
        x = a[:, 1:, :].astype(np.float64)
        norm_sum += np.sqrt((x * x).sum(-1)).sum()
        count += x.shape[0] * x.shape[1]
        if first is None:
            first = tok[0].astype(np.int64)
        total += sh['n_sequences']
    assert total == m['n_sequences']
    print(f"{d}: {total} sequences x {ctx} x {din} {m['dtype']} ({m['hook_name']}), complete={m['complete']}")
    print("first row tokens:", first[:16].tolist(), "...")
    print(f"norm scale sqrt(d_in)/mean||x|| over {count} non-BOS tokens: {np.sqrt(din) / (norm_sum / count):.6f}")


if __name__ == '__main__':
    main(sys.argv[1])
