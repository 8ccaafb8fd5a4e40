#!/usr/bin/python3
"""Independent PyTorch reference for msts' SAE losses and gradients, and SAELens-layout fixtures.

Writes sae/src/test/resources/sae-ref/:
  <case>.safetensors  params (W_enc, b_enc, W_dec, b_dec, conv_w), x, dead mask, and autograd gradients
                      grad.<name>; <case>.json: cfg, batch layout, l1 and expected loss terms.
  jumprelu, temporal_jumprelu: JumpReLU training (SAELens JumpReLU / Step autograd Functions, rectangle
                      kernel, loss = MSE + λ·L0 over counted rows), params incl. log_threshold, and f.
  batchtopk, temporal_batchtopk: SAELens BatchTopK over the counted rows + AuxK; f and one
                      update_topk_threshold step (topk_threshold_in → topk_threshold_out in the .json).
  (Appended last so the earlier cases' random draws are unchanged. Re-running on another numpy/torch build
  changes the older files in the last bits; they are kept as committed.)
  saelens-standard/, saelens-jumprelu/: SAELens-layout dirs (cfg.json + sae_weights.safetensors) plus
                      expected.safetensors with x and f = encode(x), x̂ = decode(f) computed here.
Run with Debian's python3 (python3-torch): /usr/bin/python3 scripts/sae_reference.py
Formulas: docs/sae.md (sum over d_in, mean over counted tokens; SAELens AuxK with detached residual).
"""
import json, os, struct
import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "sae", "src", "test", "resources", "sae-ref")
torch.manual_seed(0)
rng = np.random.default_rng(0)


def write_st(path, tensors, metadata=None):
    h = {}
    if metadata:
        h["__metadata__"] = metadata
    off, blobs = 0, []
    for k, v in tensors.items():
        b = np.ascontiguousarray(v, dtype="<f4").tobytes()
        h[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    hb = json.dumps(h).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))


def shift(xc, off, T):
    """xc [nSeq, T, d] → y[:, t] = xc[:, t + off] (zero outside the sequence)."""
    y = torch.zeros_like(xc)
    if off >= 0:
        if off < T:
            y[:, : T - off] = xc[:, off:]
    else:
        if -off < T:
            y[:, -off:] = xc[:, : T + off]
    return y


def rectangle(u):
    return ((u > -0.5) & (u < 0.5)).to(u)


class JumpReLU(torch.autograd.Function):
    """f = x·1[x > θ]; dx = 1[x > θ]·g (no STE on x); dθ = Σ_rows −(θ/ε)·K((x − θ)/ε)·g (SAELens JumpReLU)."""

    @staticmethod
    def forward(ctx, x, threshold, bandwidth):
        ctx.save_for_backward(x, threshold)
        ctx.bandwidth = bandwidth
        return (x * (x > threshold)).to(x)

    @staticmethod
    def backward(ctx, g):
        x, threshold = ctx.saved_tensors
        bw = ctx.bandwidth
        x_grad = (x > threshold) * g
        threshold_grad = torch.sum(-(threshold / bw) * rectangle((x - threshold) / bw) * g, dim=0)
        return x_grad, threshold_grad, None


class Step(torch.autograd.Function):
    """H(x − θ); dx = 0; dθ = Σ_rows −(1/ε)·K((x − θ)/ε)·g (SAELens Step)."""

    @staticmethod
    def forward(ctx, x, threshold, bandwidth):
        ctx.save_for_backward(x, threshold)
        ctx.bandwidth = bandwidth
        return (x > threshold).to(x)

    @staticmethod
    def backward(ctx, g):
        x, threshold = ctx.saved_tensors
        bw = ctx.bandwidth
        return None, torch.sum(-(1.0 / bw) * rectangle((x - threshold) / bw) * g, dim=0), None


def topk_aux(c, P, pre, x, xhat, dead, counted):
    d = c["d_in"]
    n_dead = int(dead.sum())
    k_aux0 = c["k_aux"] if c["k_aux"] > 0 else d // 2
    scale = min(n_dead / k_aux0, 1.0)
    k_aux = min(k_aux0, n_dead)
    lat = torch.where(dead[None], pre, torch.tensor(-float("inf")))
    v, idx = lat.topk(k_aux, dim=-1)
    a = torch.zeros_like(pre).scatter(-1, idx, v)
    recons = a @ P["W_dec"] + P["b_dec"]
    resid = (x - xhat).detach()
    return c["aux_k_coefficient"] * scale * ((recons - resid) ** 2).sum(-1)[counted].mean()


def encoder_input(c, P, xs, T):
    """xs [nSeq, T, d] → what W_enc multiplies: x − b_dec, plus for the temporal SAE the depth-wise dilated
    convolutions of it over the token axis (causal: taps t, t−δ, t−2δ; centred: t−δ, t, t+δ)."""
    xc = xs - P["b_dec"]
    z = xc.clone()
    if c["architecture"] == "temporal":
        for s, dil in enumerate(c["dilations"]):
            for j in range(3):
                off = (j - 1) * dil if c["conv_mode"] == "centred" else -j * dil
                z = z + P["conv_w"][s, :, j] * shift(xc, off, T)
    return z


def forward_loss(c, P, x, nSeq, T, lossStart, l1, dead):
    d = c["d_in"]
    xs = x.view(nSeq, T, d)
    z = encoder_input(c, P, xs, T)
    pre = z.reshape(nSeq * T, d) @ P["W_enc"] + P["b_enc"]
    act = c["activation"]
    counted = torch.tensor([(r % T) >= lossStart for r in range(nSeq * T)])
    if act == "topk":
        v, idx = pre.topk(c["k"], dim=-1)
        f = torch.zeros_like(pre).scatter(-1, idx, torch.relu(v))
    elif act == "jumprelu":
        f = JumpReLU.apply(pre, torch.exp(P["log_threshold"]), c["jumprelu_bandwidth"])
    elif act == "batchtopk":
        # SAELens BatchTopK over the counted rows: relu, flatten, top int(k·rows); other rows f = 0
        acts = torch.relu(pre[counted])
        flat = acts.flatten()
        v, idx = flat.topk(int(c["k"] * acts.shape[0]))
        fc = torch.zeros_like(flat).scatter(-1, idx, v).reshape(acts.shape)
        f = torch.zeros_like(pre).index_put((counted.nonzero()[:, 0],), fc)
    else:
        f = torch.relu(pre)
    xhat = f @ P["W_dec"] + P["b_dec"]
    mse = ((xhat - x) ** 2).sum(-1)[counted].mean()
    terms = {"mse": mse}
    if act == "relu" and l1 != 0:
        w = torch.ones(c["d_sae"]) if c["l1_mode"] == "unit_norm" else P["W_dec"].norm(dim=1)
        terms["l1"] = l1 * (f * w).sum(-1)[counted].mean()
    if act in ("topk", "batchtopk") and dead is not None and dead.sum() > 0:
        terms["aux"] = topk_aux(c, P, pre, x, xhat, dead, counted)
    if act == "jumprelu":
        # SAELens JumpReLUTrainingSAE, sparsity mode "step" (its default; pre-act loss off by default)
        l0 = torch.sum(Step.apply(pre[counted], torch.exp(P["log_threshold"]), c["jumprelu_bandwidth"]), dim=-1)
        terms["l0"] = (c["l0_coefficient"] * l0).mean()
    if c["sep_weight"] != 0:
        U = P["W_dec"] / P["W_dec"].norm(dim=1, keepdim=True)
        G = U @ U.T
        n = c["d_sae"]
        off = ~torch.eye(n, dtype=torch.bool)
        terms["sep"] = c["sep_weight"] * (torch.relu(G[off].abs() - c["sep_margin"]) ** 2).mean()
    return terms, f


def case(name, c, nSeq, T, lossStart, l1, dead=None):
    d, n = c["d_in"], c["d_sae"]
    P = {
        "W_enc": torch.tensor(rng.uniform(-0.6, 0.6, (d, n)), dtype=torch.float32),
        "b_enc": torch.tensor(rng.uniform(-0.3, 0.3, n), dtype=torch.float32),
        "W_dec": torch.tensor(rng.uniform(-0.6, 0.6, (n, d)), dtype=torch.float32),
        "b_dec": torch.tensor(rng.uniform(-0.3, 0.3, d), dtype=torch.float32),
    }
    if c["architecture"] == "temporal":
        P["conv_w"] = torch.tensor(rng.uniform(-0.5, 0.5, (len(c["dilations"]), d, 3)), dtype=torch.float32)
    if c["activation"] == "jumprelu":
        P["log_threshold"] = torch.tensor(np.log(rng.uniform(0.05, 0.5, n)), dtype=torch.float32)
    for v in P.values():
        v.requires_grad_(True)
    x = torch.tensor(rng.uniform(-1, 1, (nSeq * T, d)), dtype=torch.float32)
    deadt = None if dead is None else torch.tensor(dead)
    terms, f = forward_loss(c, P, x, nSeq, T, lossStart, l1, deadt)
    loss = sum(terms.values())
    loss.backward()
    tensors = {k: v.detach().numpy() for k, v in P.items()}
    tensors.update({"grad." + k: v.grad.numpy() for k, v in P.items()})
    tensors["x"] = x.numpy()
    if dead is not None:
        tensors["dead"] = np.array(dead, dtype=np.float32)
    if c["activation"] in ("jumprelu", "batchtopk"):
        tensors["f"] = f.detach().numpy()
    write_st(os.path.join(OUT, name + ".safetensors"), tensors)
    meta = {"cfg": c, "nSeq": nSeq, "T": T, "lossStart": lossStart, "l1": l1,
            "terms": {k: float(v) for k, v in terms.items()}, "loss": float(loss)}
    if c["activation"] == "batchtopk":
        # SAELens update_topk_threshold (double): θ ← (1 − lr)·θ + lr·min positive f over the batch
        th0, lr = 0.2, c["topk_threshold_lr"]
        fd = f.detach()
        th = torch.tensor(th0, dtype=torch.double)
        pos = fd > 0
        if pos.any():
            th = (1 - lr) * th + lr * fd[pos].min().to(torch.double)
        meta.update({"topk_threshold_in": th0, "topk_threshold_out": float(th), "active": int(pos.sum())})
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)


def cfg(arch, act, **kw):
    c = {"d_in": 8, "d_sae": 12, "architecture": arch, "activation": act, "k": 4, "dilations": [1, 2, 4],
         "conv_mode": "causal", "l1_mode": "decoder_norm", "sep_weight": 0.0, "sep_margin": 0.0,
         "sep_form": "all", "aux_k_coefficient": 1 / 32, "k_aux": 0}
    c.update(kw)
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    case("relu", cfg("relu", "relu"), 4, 1, 0, 0.7)
    case("relu_unitnorm_sep", cfg("relu", "relu", l1_mode="unit_norm", sep_weight=0.5, sep_margin=0.1), 4, 1, 0, 0.3)
    case("topk_aux", cfg("topk", "topk", aux_k_coefficient=0.25), 6, 1, 0, 0.0, dead=[j % 3 == 0 for j in range(12)])
    case("temporal_causal_sep", cfg("temporal", "relu", sep_weight=0.4), 3, 9, 1, 0.2)
    case("temporal_centred_topk", cfg("temporal", "topk", conv_mode="centred", k_aux=3), 3, 9, 1, 0.0,
         dead=[j % 2 == 1 for j in range(12)])

    # SAELens-layout directories (as Gemma Scope converted to SAELens): standard and jumprelu
    for arch in ["standard", "jumprelu"]:
        d, n = 8, 12
        W_enc = rng.normal(0, 0.5, (d, n)).astype(np.float32)
        W_dec = rng.normal(0, 0.5, (n, d)).astype(np.float32)
        b_enc = rng.normal(0, 0.2, n).astype(np.float32)
        b_dec = rng.normal(0, 0.2, d).astype(np.float32)
        thr = rng.uniform(0.0, 0.5, n).astype(np.float32)
        x = rng.normal(0, 1, (10, d)).astype(np.float32)
        pre = (x - b_dec) @ W_enc + b_enc
        f = np.where(pre > thr, pre, 0) if arch == "jumprelu" else np.maximum(pre, 0)
        xhat = f @ W_dec + b_dec
        dd = os.path.join(OUT, "saelens-" + arch)
        os.makedirs(dd, exist_ok=True)
        t = {"W_enc": W_enc, "W_dec": W_dec, "b_enc": b_enc, "b_dec": b_dec}
        if arch == "jumprelu":
            t["threshold"] = thr
        write_st(os.path.join(dd, "sae_weights.safetensors"), t, {"format": "pt"})
        with open(os.path.join(dd, "cfg.json"), "w") as fh:
            json.dump({"architecture": arch, "d_in": d, "d_sae": n, "dtype": "float32", "model_name": "gemma-2-2b",
                       "hook_name": "blocks.12.hook_resid_post", "hook_layer": 12, "context_size": 1024,
                       "normalize_activations": "none", "apply_b_dec_to_input": True, "device": "cpu"}, fh, indent=1)
        write_st(os.path.join(OUT, "saelens-" + arch + "-expected.safetensors"),
                 {"x": x, "f": f.astype(np.float32), "xhat": xhat.astype(np.float32)})
    # Threshold SAEs (appended after the fixtures above so their random draws, and files, stay unchanged)
    case("jumprelu", cfg("jumprelu", "jumprelu", jumprelu_bandwidth=0.2, l0_coefficient=0.3), 6, 1, 0, 0.0)
    case("temporal_jumprelu", cfg("temporal", "jumprelu", jumprelu_bandwidth=0.1, l0_coefficient=0.5), 3, 9, 1, 0.0)
    case("batchtopk", cfg("batchtopk", "batchtopk", k=3, topk_threshold_lr=0.01, aux_k_coefficient=0.25), 6, 1, 0, 0.0,
         dead=[j % 3 == 1 for j in range(12)])
    case("temporal_batchtopk", cfg("temporal", "batchtopk", k=2, conv_mode="centred", topk_threshold_lr=0.05, k_aux=3),
         3, 9, 1, 0.0, dead=[j % 4 == 0 for j in range(12)])
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
