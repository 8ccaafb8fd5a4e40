#!/usr/bin/env python3
"""Independent end-to-end check of `msts harvest` (Debian's python3 with python3-torch):
a random tiny Gemma-2 checkpoint (HF layout) and a JSONL corpus over a small word-level tokenizer.json are
made here; `./msts harvest` writes an F32 store; this script then
  1. re-cuts the corpus itself (documents tokenized without BOS, joined with EOS, rows = [BOS] + ctx-1 stream
     tokens, last partial row dropped) and compares with the store's `tokens`;
  2. runs the PyTorch Gemma-2 forward of scripts/gemma2_torch_check.py on every stored row and compares
     resid_post of the hook layer with the store's `activations`.
Usage: /usr/bin/python3 scripts/harvest_torch_check.py [--layer 2] [--context 16]. Exits 1 on a mismatch.
"""
import argparse, json, os, re, subprocess, sys, tempfile
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gemma2_torch_check import make, forward  # noqa: E402
import safetensors_np as st  # noqa: E402

WORDS = ("the of and to in is that for it as with was on be by this are from at an have not or which one "
         "all were they can more has been would other its their some time will these two may than first "
         "sparse feature latent residual stream layer token model protein virus cell gene").split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layer", type=int, default=2); ap.add_argument("--context", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rng = np.random.default_rng(a.seed + 100)
    with tempfile.TemporaryDirectory() as d:
        cfg, W, _ = make(a.seed, os.path.join(d, "m"))
        V = cfg["vocab_size"]
        vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
        for w in WORDS + ["."]: vocab.setdefault(w, len(vocab))
        assert len(vocab) < V
        tok = {"version": "1.0", "truncation": None, "padding": None,
               "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                                 "normalized": False, "special": True} for c, i in list(vocab.items())[:4]],
               "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
               "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}
        with open(os.path.join(d, "tokenizer.json"), "w") as f: json.dump(tok, f)
        docs = [" ".join(rng.choice(WORDS, rng.integers(1, 25))) + "." for _ in range(40)]
        with open(os.path.join(d, "corpus.jsonl"), "w") as f:
            for t in docs: f.write(json.dumps({"text": t}) + "\n")
        ctx, L = a.context, a.layer
        store = os.path.join(d, "store")
        subprocess.run([os.path.join(root, "msts"), "harvest", "--model", os.path.join(d, "m"), "--layer", str(L),
                        "--corpus", os.path.join(d, "corpus.jsonl"), "--tokenizer", os.path.join(d, "tokenizer.json"),
                        "--context", str(ctx), "--tokens", "1000000", "--dtype", "f32", "--shard-seqs", "7",
                        "--batch-seqs", "3", "--quiet", "--out", store], check=True)
        # 1. the cutting rule, independently
        stream = []
        for i, t in enumerate(docs):
            if i > 0: stream.append(1)
            stream += [vocab.get(w, 3) for w in re.findall(r"\w+|[^\w\s]+", t)]
        rows = [[2] + stream[r * (ctx - 1):(r + 1) * (ctx - 1)] for r in range(len(stream) // (ctx - 1))]
        m = json.load(open(os.path.join(store, "manifest.json")))
        toks = np.concatenate([st.read(os.path.join(store, s["file"]))["tokens"] for s in m["shards"]])
        acts = np.concatenate([st.read(os.path.join(store, s["file"]))["activations"] for s in m["shards"]])
        ok_tokens = toks.shape == (len(rows), ctx) and np.array_equal(toks.astype(np.int64), np.array(rows))
        print(f"rows: store {toks.shape[0]}, independent cut {len(rows)}; tokens identical: {ok_tokens}")
        # 2. resid_post of layer L by the PyTorch forward
        worst = 0.0
        for s, row in enumerate(rows[:toks.shape[0]]):
            resid, _ = forward(cfg, W, row)
            worst = max(worst, float(np.abs(acts[s] - resid[L].numpy()).max()))
        scale = float(np.abs(acts).max())
        print(f"{m['hook_name']}: {acts.shape}, max|Δ| vs PyTorch = {worst:.3e} (max|x| = {scale:.2f})")
        sys.exit(0 if ok_tokens and worst <= 1e-3 * max(1.0, scale) else 1)


if __name__ == "__main__":
    main()
