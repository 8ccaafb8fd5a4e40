"""Checks python/msts_saelens.py against msts' own outputs.

Usage: /usr/bin/python3 python/tests/test_msts_saelens.py FIXTURE_DIR
FIXTURE_DIR/<case>/sae is an SAE msts saved (cfg.json + sae_weights.safetensors) and FIXTURE_DIR/<case>/io.safetensors
holds x [n_seq, T, d_in], msts' f = encode(x) [n_seq, T, d_sae] and x_hat = decode(f) [n_seq, T, d_in]
(written by the Java test msts.sae.SaeLensInteropTest, which runs this script). SAELens is not installable
here, so its base classes are the stand-in of saelens_standin.py. Exit status 0 = every check passed."""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import saelens_standin  # noqa: E402

TOL = 2e-5  # relative to the largest |value| of the compared tensor (F32 sums in a different order)


def close(name, got, want):
    got, want = got.detach().numpy(), np.asarray(want)
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max()) / scale
    print(f"  {name}: max |diff| / scale = {err:.2e}")
    if not err <= TOL:
        raise AssertionError(f"{name}: relative error {err} > {TOL}")


def main(fixtures):
    sae_lens = saelens_standin.install()
    cases = sorted(c for c in os.listdir(fixtures) if os.path.isdir(os.path.join(fixtures, c)))
    if not cases:
        raise AssertionError("no fixtures in " + fixtures)
    # before registration SAELens cannot load a temporal SAE (the reported bare KeyError: 'temporal')
    temporal = [c for c in cases if c.startswith("temporal")]
    try:
        sae_lens.SAE.load_from_disk(os.path.join(fixtures, temporal[0], "sae"))
        raise AssertionError("the stand-in loaded a temporal SAE without msts_saelens")
    except KeyError as e:
        assert e.args == ("temporal",), e
    import msts_saelens  # registers "temporal" on import
    msts_saelens.register(sae_lens)  # idempotent
    assert sae_lens.registry.SAE_CLASS_REGISTRY["temporal"] == (msts_saelens.TemporalSAE, msts_saelens.TemporalSAEConfig)
    for case in cases:
        print(case)
        io = {k: torch.from_numpy(v.copy()) for k, v in msts_saelens_read(os.path.join(fixtures, case, "io.safetensors")).items()}
        x, f_want, xhat_want = io["x"], io["f"], io["x_hat"]
        if not case.startswith("temporal"):
            continue  # standard/topk/jumprelu load in SAELens' own classes; the fixture is for the docs' claim
        sae = sae_lens.SAE.load_from_disk(os.path.join(fixtures, case, "sae"))
        assert isinstance(sae, msts_saelens.TemporalSAE)
        with torch.no_grad():
            f = sae.encode(x)
            close("encode (batch [n_seq, T, d_in])", f, f_want)
            # the active sets agree exactly except where a pre-activation sits within rounding of the cut
            mismatch = ((f != 0) != (f_want != 0)).float().mean().item()
            print(f"  active-set mismatch fraction: {mismatch:.1e}")
            assert mismatch <= 1e-3, mismatch
            close("decode(msts f)", sae.decode(f_want), xhat_want)
            close("forward = decode(encode(x))", sae(x), xhat_want)
            for s in range(x.shape[0]):  # one sequence as [T, d_in]: the same as in the batch
                close(f"encode sequence {s} alone", sae.encode(x[s]), f_want[s])
            c = sae.cfg
            free = msts_saelens.temporal_encode(x, sae.W_enc, sae.b_enc, sae.b_dec, sae.conv_w, c.dilations,
                                                c.conv_mode, c.activation, c.k, getattr(sae, "threshold", None))
            close("temporal_encode (no SAELens)", free, f_want)
    print("OK", len(cases), "cases")


def msts_saelens_read(path):
    return saelens_standin.safetensors_np.read(path)


if __name__ == "__main__":
    main(sys.argv[1])
