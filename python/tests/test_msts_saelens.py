"""Checks that SAELens loads msts SAEs and reproduces msts' own outputs.

Usage: /usr/bin/python3 python/tests/test_msts_saelens.py FIXTURE_DIR [--saelens standin|real]
FIXTURE_DIR/<case>/sae is an SAE msts saved (cfg.json + sae_weights.safetensors) and FIXTURE_DIR/<case>/io.safetensors
holds x [n_seq, T, d_in], msts' f = encode(x) [n_seq, T, d_sae] and x_hat = decode(f) [n_seq, T, d_in]
(written by the Java test msts.sae.SaeLensInteropTest, which runs this script).

--saelens real (the check that matters): the real SAELens, installed or from the checkout $MSTS_SAELENS_SRC
(python/tests/real_saelens.py: which missing third-party imports it stubs and why that cannot change the
maths). Every case is loaded with SAE.load_from_disk: standard/topk/jumprelu (and batchtopk, which msts saves
as jumprelu) by SAELens' own StandardSAE/TopKSAE/JumpReLUSAE, temporal by msts_saelens.TemporalSAE after
registration.
--saelens standin (default): python/tests/saelens_standin.py, a minimal stand-in of SAELens' base classes,
for machines without a SAELens checkout; only the temporal cases are checked.
Exit status 0 = every check passed."""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import safetensors_np  # noqa: E402

TOL = 2e-5  # relative to the largest |value| of the compared tensor (F32 sums in a different order)

# the SAELens class each msts cfg.json architecture must load as (batchtopk is saved as jumprelu)
EXPECTED_CLASS = {"standard": "StandardSAE", "topk": "TopKSAE", "jumprelu": "JumpReLUSAE", "batchtopk": "JumpReLUSAE"}


def close(name, got, want):
    got, want = got.detach().numpy(), np.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max()) / scale
    print(f"  {name}: max |diff| / scale = {err:.2e}")
    if not err <= TOL:
        raise AssertionError(f"{name}: relative error {err} > {TOL}")
    return err


def major(sae_lens):
    return int(str(getattr(sae_lens, "__version__", "6")).split(".")[0])


def check_case(sae_lens, msts_saelens, fixtures, case, real):
    io = {k: torch.from_numpy(v.copy()) for k, v in safetensors_np.read(os.path.join(fixtures, case, "io.safetensors")).items()}
    x, f_want, xhat_want = io["x"], io["f"], io["x_hat"]
    path = os.path.join(fixtures, case, "sae")
    with open(os.path.join(path, "cfg.json")) as fh:
        cfg_json = json.load(fh)
    sae = sae_lens.SAE.load_from_disk(path)
    temporal = case.startswith("temporal")
    v5 = real and major(sae_lens) < 6
    if temporal:
        assert isinstance(sae, msts_saelens.TemporalSAE), type(sae)
    elif v5:  # SAELens 5.x: one SAE class, the architecture (and activation_fn_str for TopK) in its cfg
        assert type(sae) is sae_lens.SAE, type(sae)
        want = {"batchtopk": "jumprelu"}.get(case, case)
        assert sae.cfg.architecture == want, (sae.cfg.architecture, want)
        assert sae.cfg.activation_fn_str == ("topk" if case == "topk" else "relu"), sae.cfg.activation_fn_str
        assert sae.cfg.finetuning_scaling_factor is False
    else:
        assert type(sae).__name__ == EXPECTED_CLASS[case], f"{case}: loaded as {type(sae).__name__}"
        assert type(sae).__module__.startswith("sae_lens."), type(sae).__module__
    c = sae.cfg
    # what SAELens read from cfg.json
    assert (c.d_in, c.d_sae) == (cfg_json["d_in"], cfg_json["d_sae"]), (c.d_in, c.d_sae)
    assert c.dtype == "float32" and sae.dtype == torch.float32 and sae.W_enc.dtype == torch.float32, c.dtype
    assert c.apply_b_dec_to_input is True and c.normalize_activations == "none", c
    assert getattr(c, "reshape_activations", "none") == "none", c.reshape_activations
    assert getattr(sae, "hook_z_reshaping_mode", False) is False
    if v5 and case == "topk":
        assert c.activation_fn_kwargs.get("k") == cfg_json["k"], (c.activation_fn_kwargs, cfg_json["k"])
    elif case == "topk" or (temporal and c.activation == "topk"):
        assert c.k == cfg_json["k"], (c.k, cfg_json["k"])
    if case == "topk" and real and not v5:
        assert c.rescale_acts_by_decoder_norm is False
    if real:
        md = c if v5 else c.metadata
        assert md.hook_name == cfg_json["hook_name"], md.hook_name
        assert md.model_name == cfg_json["model_name"], md.model_name
        assert md.context_size == cfg_json["context_size"], md.context_size
        print(f"  {type(sae).__name__}; metadata: model_name {md.model_name}, hook_name {md.hook_name}, "
              f"context_size {md.context_size}, prepend_bos {md.prepend_bos}")
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
        if temporal:
            free = msts_saelens.temporal_encode(x, sae.W_enc, sae.b_enc, sae.b_dec, sae.conv_w, c.dilations,
                                                c.conv_mode, c.activation, c.k, getattr(sae, "threshold", None))
            close("temporal_encode (no SAELens)", free, f_want)
        else:  # position-wise: the rows flattened give the same
            d_in = x.shape[-1]
            close("encode rows [N, d_in]", sae.encode(x.reshape(-1, d_in)), f_want.reshape(-1, f_want.shape[-1]))
        if real:  # with the error term SAELens' forward returns x itself (hooks run, maths unchanged)
            sae.use_error_term = True
            close("forward with use_error_term = x", sae(x), x)
            sae.use_error_term = False


def main(fixtures, mode):
    if mode == "real":
        import real_saelens
        sae_lens, desc = real_saelens.load()
        print("real SAELens " + desc)
    else:
        import saelens_standin
        sae_lens = saelens_standin.install()
        print("SAELens stand-in (python/tests/saelens_standin.py), not SAELens")
    cases = sorted(c for c in os.listdir(fixtures) if os.path.isdir(os.path.join(fixtures, c)))
    if not cases:
        raise AssertionError("no fixtures in " + fixtures)
    # before registration SAELens cannot load a temporal SAE (the reported bare KeyError: 'temporal')
    temporal = [c for c in cases if c.startswith("temporal")]
    v5 = mode == "real" and major(sae_lens) < 6
    try:
        sae_lens.SAE.load_from_disk(os.path.join(fixtures, temporal[0], "sae"))
        raise AssertionError("SAELens loaded a temporal SAE without msts_saelens")
    except KeyError as e:
        assert not v5 and e.args == ("temporal",), e
    except ValueError as e:  # SAELens 5.x: "Invalid architecture: temporal"
        assert v5 and "temporal" in str(e), e
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import msts_saelens  # registers "temporal" on import (SAELens >= 6)
    if v5:  # no registry in 5.x: the import warns, register() says why
        assert any("SAELens >= 6.0" in str(w.message) for w in caught), [str(w.message) for w in caught]
        try:
            msts_saelens.register(sae_lens)
            raise AssertionError("registered with SAELens 5.x")
        except RuntimeError as e:
            print("  SAELens 5.x:", e)
    else:
        msts_saelens.register(sae_lens)  # idempotent
        assert sae_lens.registry.SAE_CLASS_REGISTRY["temporal"] == (msts_saelens.TemporalSAE, msts_saelens.TemporalSAEConfig)
    checked = 0
    for case in cases:
        print(case)
        if mode != "real" and not case.startswith("temporal"):
            print("  (not checked with the stand-in: SAELens' own class)")
            continue
        if v5 and case.startswith("temporal"):
            print("  (SAELens 5.x cannot load temporal SAEs: no register_sae_class)")
            continue
        check_case(sae_lens, msts_saelens, fixtures, case, mode == "real")
        checked += 1
    if mode == "real":
        import real_saelens
        assert not real_saelens.used_stubs, f"a stubbed module was used while loading/encoding: {real_saelens.used_stubs}"
        assert checked == (len(cases) - len(temporal) if v5 else len(cases)), checked
        if not v5:
            check_roundtrip(sae_lens, fixtures, temporal)
    print("OK", len(cases), "cases", f"({checked} checked)")


def check_roundtrip(sae_lens, fixtures, temporal):
    """SAELens' own config round trip of a temporal SAE: cfg.to_dict() (6.x format, with metadata) -> SAE.from_dict
    -> the same parameters give the same outputs; load_from_disk(dtype=...) casts."""
    for case in temporal:
        path = os.path.join(fixtures, case, "sae")
        sae = sae_lens.SAE.load_from_disk(path)
        d = json.loads(json.dumps(sae.cfg.to_dict()))
        assert d["architecture"] == "temporal" and d["metadata"]["hook_name"] == sae.cfg.metadata.hook_name, d
        again = sae_lens.SAE.from_dict(d)
        assert type(again) is type(sae) and again.cfg.dilations == sae.cfg.dilations, again.cfg
        assert again.cfg.conv_mode == sae.cfg.conv_mode and again.cfg.activation == sae.cfg.activation
        again.load_state_dict(sae.state_dict())
        x = torch.randn(2, 9, sae.cfg.d_in)
        with torch.no_grad():
            close(f"{case}: SAE.from_dict(cfg.to_dict()) encode", again.encode(x), sae.encode(x))
        sae64 = sae_lens.SAE.load_from_disk(path, dtype="float64")
        assert sae64.conv_w.dtype == torch.float64 and sae64.W_enc.dtype == torch.float64
        with torch.no_grad():
            close(f"{case}: load_from_disk(dtype=float64) encode", sae64.encode(x.double()).float(), sae.encode(x))
        seen = {}
        h = sae.hook_sae_acts_post.register_forward_hook(lambda m, i, o: seen.setdefault("acts", o))
        with torch.no_grad():
            f = sae.encode(x)
        h.remove()
        assert torch.equal(seen["acts"], f), "hook_sae_acts_post sees the feature activations"


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = "standin"
    if "--saelens" in args:
        i = args.index("--saelens")
        mode = args[i + 1]
        del args[i:i + 2]
    if mode not in ("standin", "real") or len(args) != 1:
        sys.exit("usage: test_msts_saelens.py FIXTURE_DIR [--saelens standin|real]")
    main(args[0], mode)
