"""Independent numpy reference for msts core eval metrics (run: python3 core_reference.py).

Writes ../resources/msts/evals/core_reference.json: a tiny fake LM (2 layers: h0 = E[tok];
h1_t = h0_t + 0.5*h0_{t-1}; logits = h1 @ U.T), a ReLU SAE, token rows with BOS(2)/EOS(1)/PAD(0), and the
expected SAEBench core metrics with the SAE hooked at layer 0 (spliced only at non-special positions,
zero ablation everywhere), special tokens excluded.
"""
import json, os
import numpy as np

rng = np.random.default_rng(1234)
V, d, F, T, S = 12, 6, 10, 9, 4
E = rng.normal(size=(V, d)).astype(np.float32)
U = rng.normal(size=(V, d)).astype(np.float32)
W_enc = (rng.normal(size=(d, F)) * 0.6).astype(np.float32)
b_enc = (rng.normal(size=F) * 0.2).astype(np.float32)
W_dec = (rng.normal(size=(F, d)) * 0.5).astype(np.float32)
b_dec = (rng.normal(size=d) * 0.1).astype(np.float32)
rows = rng.integers(3, V, size=(S, T))
rows[:, 0] = 2
rows[1, 4] = 1
rows[2, 8] = 0
rows[3, 3] = 1

def layer0(tok):
    return E[tok].astype(np.float64)

def layer1(h):
    out = h.copy(); out[1:] += 0.5 * h[:-1]; return out

def encode(x):
    return np.maximum(x @ W_enc.astype(np.float64) + b_enc, 0)

def decode(f):
    return f @ W_dec.astype(np.float64) + b_dec

def logsoftmax(z):
    m = z.max(-1, keepdims=True); return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))

special = {0, 1, 2}
X, XH, FF = [], [], []
ce = {"clean": [], "sae": [], "zero": []}; kl = {"sae": [], "zero": []}
for s in range(S):
    tok = rows[s]; mask = np.array([t not in special for t in tok])
    h0 = layer0(tok); f = encode(h0); xh = decode(f)
    X.append(h0[mask]); XH.append(xh[mask]); FF.append(f[mask])
    spl = np.where(mask[:, None], xh, h0)
    lc = logsoftmax(layer1(h0) @ U.T.astype(np.float64))
    ls = logsoftmax(layer1(spl) @ U.T.astype(np.float64))
    lz = logsoftmax(layer1(np.zeros_like(h0)) @ U.T.astype(np.float64))
    for t in range(T):
        if not mask[t]: continue
        p = np.exp(lc[t])
        kl["sae"].append((p * (lc[t] - ls[t])).sum()); kl["zero"].append((p * (lc[t] - lz[t])).sum())
        if t + 1 < T:
            n = tok[t + 1]
            ce["clean"].append(-lc[t, n]); ce["sae"].append(-ls[t, n]); ce["zero"].append(-lz[t, n])
x = np.concatenate(X); xh = np.concatenate(XH); f = np.concatenate(FF)
N = x.shape[0]
resid = ((x - xh) ** 2).sum(1)
total_var = ((x - x.mean(0)) ** 2).sum(1).mean()
nx = np.linalg.norm(x, axis=1); nh = np.linalg.norm(xh, axis=1)
density = (f > 0).mean(0)
Wn = W_dec / np.linalg.norm(W_dec, axis=1, keepdims=True)
C = Wn @ Wn.T; np.fill_diagonal(C, -np.inf); maxcos = C.max(1)
# SAEBench get_featurewise_weight_based_metrics: W_enc columns are the latents' encoder directions
enc_norm = np.linalg.norm(W_enc, axis=0)
En = (W_enc / enc_norm).T
CE = En @ En.T; np.fill_diagonal(CE, -np.inf); maxenccos = CE.max(1)
encdeccos = (En * Wn).sum(1)
kS, kZ = np.mean(kl["sae"]), np.mean(kl["zero"])
cC, cS, cZ = np.mean(ce["clean"]), np.mean(ce["sae"]), np.mean(ce["zero"])
expected = {
    "explained_variance": 1 - resid.mean() / total_var,
    "mse": resid.mean() / d,
    "cossim": float(np.mean((x * xh).sum(1) / (nx * nh))),
    "l2_norm_in": nx.mean(), "l2_norm_out": nh.mean(), "l2_ratio": float(np.mean(nh / nx)),
    "relative_reconstruction_bias": (nh ** 2).mean() / (x * xh).sum(1).mean(),
    "l0": (f != 0).sum(1).mean(), "l1": f.sum(1).mean(),
    "frac_alive": (density > 0).mean(), "freq_over_1_percent": (density > 0.01).mean(),
    "freq_over_10_percent": (density > 0.1).mean(),
    "average_max_decoder_cosine_sim": maxcos.mean(),
    "average_max_encoder_cosine_sim": maxenccos.mean(),
    "kl_div_with_sae": kS, "kl_div_with_ablation": kZ, "kl_div_score": (kZ - kS) / kZ,
    "ce_loss_without_sae": cC, "ce_loss_with_sae": cS, "ce_loss_with_ablation": cZ,
    "ce_loss_score": (cZ - cS) / (cZ - cC),
    "total_tokens_eval_sparsity_variance": int(N),
}
out = {"V": V, "d": d, "F": F, "E": E.ravel().tolist(), "U": U.ravel().tolist(),
       "W_enc": W_enc.ravel().tolist(), "b_enc": b_enc.tolist(), "W_dec": W_dec.ravel().tolist(),
       "b_dec": b_dec.tolist(), "rows": rows.tolist(), "density": density.tolist(),
       "encoder_norm": enc_norm.tolist(), "encoder_decoder_cosine_sim": encdeccos.tolist(),
       "max_encoder_cosine_sim": maxenccos.tolist(),
       "expected": {k: float(v) for k, v in expected.items()}}
path = os.path.join(os.path.dirname(__file__), "..", "resources", "msts", "evals", "core_reference.json")
with open(path, "w") as fh:
    json.dump(out, fh)
print("wrote", path, out["expected"])
