#!/usr/bin/env python3
"""Autograd fixture for msts' RMU loss gradient (msts.model.train.Rmu, docs/experiment.md "RMU").

On the tiny Gemma-2 of gemma2-train-tiny (scripts/gemma2_train_reference.py's forward, float64): the MLP weights
(gate, up, down) of layers FIRST..L are perturbed (so the retain term is not 0), the frozen model's retain
activations are taken from the unperturbed weights, and

    loss = (1/(n·H)) Σ_{t≥1} ‖h_f,t − c·u‖² + α (1/(n·H)) Σ_{t≥1} ‖h_r,t − h_r,t^frozen‖²

(h = resid_post of layer L, BOS position 0 excluded, n = B·(T−1)) is differentiated by autograd w.r.t. every
parameter. Forget rows: the fixture's tokens; retain rows: the same rows in reverse order. Writes OUT_DIR/
expected.safetensors (cu [H], perturbed.<name> for the perturbed weights, grad.<name> for every parameter of
layers FIRST..L, as F32) and OUT_DIR/fixture.json (loss, layer, first, alpha).

Usage: /usr/bin/python3 scripts/rmu_reference.py model/src/test/resources/gemma2-train-tiny model/src/test/resources/rmu-tiny
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np as st  # noqa: E402
from gemma2_train_reference import forward  # noqa: E402


def main():
    torch.set_default_dtype(torch.float64)
    src = sys.argv[1] if len(sys.argv) > 1 else "model/src/test/resources/gemma2-train-tiny"
    out = sys.argv[2] if len(sys.argv) > 2 else "model/src/test/resources/rmu-tiny"
    cfg = json.load(open(os.path.join(src, "config.json")))
    tokens = np.array(json.load(open(os.path.join(src, "fixture.json")))["tokens"])
    W32 = st.read(os.path.join(src, "model.safetensors"))
    if isinstance(W32, tuple):
        W32 = W32[0]
    layer, first, alpha, c = 2, 0, 5.0, 3.0
    H = cfg["hidden_size"]
    rng = np.random.default_rng(20261203)
    updated = [f"model.layers.{l}.mlp.{m}_proj.weight" for l in range(first, layer + 1) for m in ("gate", "up", "down")]
    perturbed = {k: (W32[k] + rng.normal(0, 0.05, W32[k].shape)).astype(np.float32) for k in updated}
    u = rng.random(H)
    u = u / np.linalg.norm(u)
    cu = (c * u).astype(np.float32)

    forget = torch.tensor(tokens)
    retain = torch.tensor(tokens[::-1].copy())
    Wf = {k: torch.tensor(v.astype(np.float64)) for k, v in W32.items()}
    with torch.no_grad():
        frozen = forward(cfg, Wf, retain, stop_layer=layer)
    P = {k: torch.tensor((perturbed.get(k, v)).astype(np.float64), requires_grad=True) for k, v in W32.items()}
    hf = forward(cfg, P, forget, stop_layer=layer)[:, 1:]
    hr = forward(cfg, P, retain, stop_layer=layer)[:, 1:]
    cut = torch.tensor(cu.astype(np.float64))
    loss = ((hf - cut) ** 2).mean() + alpha * ((hr - frozen[:, 1:]) ** 2).mean()
    loss.backward()

    os.makedirs(out, exist_ok=True)
    exp = {"cu": cu}
    for k, v in perturbed.items():
        exp["perturbed." + k] = v
    for k, t in P.items():
        if any(k.startswith(f"model.layers.{l}.") for l in range(first, layer + 1)):
            exp["grad." + k] = t.grad.numpy().astype(np.float32)
    st.write(os.path.join(out, "expected.safetensors"), exp, {"producer": "scripts/rmu_reference.py", "torch": torch.__version__})
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump({"loss": float(loss), "layer": layer, "first_layer": first, "alpha": alpha, "steering": c,
                   "forget": "gemma2-train-tiny tokens", "retain": "the same rows reversed", "torch": torch.__version__,
                   "dtype": "float64"}, f, indent=2)
    print(f"wrote {out}: loss {float(loss):.6f}")


if __name__ == "__main__":
    main()
