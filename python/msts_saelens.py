"""SAELens support for msts SAEs (msts: a Java engine for SAE research on Gemma-2).

msts writes SAEs in SAELens' on-disk layout (cfg.json + sae_weights.safetensors, W_enc [d_in, d_sae],
b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]). SAELens loads the architectures it knows unchanged:

    standard   (ReLU)                       -> sae_lens StandardSAE
    topk                                    -> sae_lens TopKSAE
    jumprelu   (also BatchTopK, saved as    -> sae_lens JumpReLUSAE (threshold [d_sae])
                JumpReLU as SAELens does)

Verified against the real SAELens 6.18.0 (and 5.11.0 for the three above; temporal needs SAELens >= 6.0,
which has register_sae_class): docs/interop.md.

This module adds msts' "temporal" architecture: a depth-wise dilated convolution over the positions of
the centred input before the encoder product (docs/sae.md), followed by the activation named in cfg.json
"activation" (relu, topk, or jumprelu -- a temporal BatchTopK SAE is saved with activation jumprelu).

    import msts_saelens                 # registers "temporal" with SAELens (once)
    from sae_lens import SAE
    sae = SAE.load_from_disk("runs/temporal-8k")     # msts train --out DIR (cfg.json + sae_weights.safetensors)
    f = sae.encode(resid)               # resid [batch, pos, d_in] (or [pos, d_in]: one sequence)
    x_hat = sae.decode(f)

The convolution runs along the position axis (dim -2) and never crosses a sequence boundary, so the input
must keep its positions: [..., pos, d_in]. A 1-D input [d_in] is a sequence of length 1 (the conv taps see
only zeros; it equals the non-temporal SAE on that row).

Formulas (the same as msts' SaeKernels.convForward / the activations; docs/sae.md):
    xc      = x - b_dec
    z[t, c] = xc[t, c] + sum_s sum_j conv_w[s, c, j] * xc[t + off(s, j), c]    (0 outside the sequence)
              off(s, j) = -j * d_s (causal: t, t-d, t-2d) or (j - 1) * d_s (centred: t-d, t, t+d)
    pre     = z @ W_enc + b_enc
    f       = relu(pre) | topk_k(pre) then relu | pre * (pre > threshold)
    x_hat   = f @ W_dec + b_dec
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, List

import torch
from torch import nn

ACTIVATIONS = ("relu", "topk", "jumprelu")


# ---- the maths, free of SAELens (tested against msts' own outputs) ----

def tap_offset(j: int, dilation: int, centred: bool) -> int:
    """Position offset of tap j (0..2) at this dilation (msts SaeKernels.tapOffset)."""
    return (j - 1) * dilation if centred else -j * dilation


def dilated_conv(xc: torch.Tensor, conv_w: torch.Tensor, dilations: List[int], centred: bool) -> torch.Tensor:
    """z = xc + sum over scales s and taps j of conv_w[s, :, j] * xc shifted by off(s, j) along dim -2."""
    z = xc.clone()
    T = xc.shape[-2]
    for s, d in enumerate(dilations):
        for j in range(3):
            off = tap_offset(j, int(d), centred)
            if abs(off) >= T:
                continue
            w = conv_w[s, :, j]
            if off == 0:
                z = z + w * xc
            elif off < 0:  # z[t] += w * xc[t + off] for t >= -off
                z[..., -off:, :] = z[..., -off:, :] + w * xc[..., : T + off, :]
            else:          # z[t] += w * xc[t + off] for t < T - off
                z[..., : T - off, :] = z[..., : T - off, :] + w * xc[..., off:, :]
    return z


def topk_relu(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keeps the k largest pre-activations of each row, zeroes the rest, then ReLU (msts SaeKernels.topk)."""
    values, idx = torch.topk(pre, k=k, dim=-1)
    return torch.zeros_like(pre).scatter(-1, idx, values.relu())


def jump_relu(pre: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """pre where pre > threshold, else 0 (msts SaeKernels.jumpRelu)."""
    return pre * (pre > threshold).to(pre.dtype)


def temporal_encode(x: torch.Tensor, W_enc, b_enc, b_dec, conv_w, dilations, conv_mode: str,
                    activation: str, k: int = 0, threshold=None) -> torch.Tensor:
    """f for x [..., pos, d_in] (a 1-D x is one position)."""
    squeeze = x.dim() == 1
    if squeeze:
        x = x.unsqueeze(0)
    xc = x - b_dec
    z = dilated_conv(xc, conv_w, list(dilations), conv_mode == "centred")
    pre = z @ W_enc + b_enc
    f = activate(pre, activation, k, threshold)
    return f.squeeze(0) if squeeze else f


def activate(pre: torch.Tensor, activation: str, k: int = 0, threshold=None) -> torch.Tensor:
    if activation == "relu":
        return pre.relu()
    if activation == "topk":
        return topk_relu(pre, k)
    if activation in ("jumprelu", "batchtopk"):
        if threshold is None:
            raise ValueError("a jumprelu activation needs the threshold tensor")
        return jump_relu(pre, threshold)
    raise ValueError(f"unknown msts activation {activation!r} (expected one of {ACTIVATIONS})")


def decode(f: torch.Tensor, W_dec, b_dec) -> torch.Tensor:
    return f @ W_dec + b_dec


# ---- SAELens classes (defined when sae_lens is importable) ----

def _define(sae_lens_module) -> tuple:
    SAE = sae_lens_module.SAE
    SAEConfig = sae_lens_module.SAEConfig

    @dataclass
    class TemporalSAEConfig(SAEConfig):
        """msts' temporal SAE: cfg.json keys activation, k, dilations, conv_mode (others as SAELens)."""
        activation: str = "relu"
        k: int = 64
        dilations: List[int] = field(default_factory=lambda: [1, 4, 16])
        conv_mode: str = "causal"

        def __post_init__(self):
            super().__post_init__()
            if self.activation == "batchtopk":  # an msts training checkpoint: inference is JumpReLU
                self.activation = "jumprelu"
            if self.activation not in ACTIVATIONS:
                raise ValueError(f"temporal SAE activation must be one of {ACTIVATIONS}, got {self.activation!r}")
            if self.conv_mode not in ("causal", "centred"):
                raise ValueError(f"conv_mode must be causal or centred, got {self.conv_mode!r}")

        @classmethod
        def architecture(cls) -> str:
            return "temporal"

    class TemporalSAE(SAE):
        """Inference-only msts temporal SAE; encode needs the position axis ([..., pos, d_in])."""

        def __init__(self, cfg: TemporalSAEConfig, use_error_term: bool = False):
            super().__init__(cfg, use_error_term)

        def initialize_weights(self) -> None:
            super().initialize_weights()
            c = self.cfg
            self.b_enc = nn.Parameter(torch.zeros(c.d_sae, dtype=self.dtype, device=self.device))
            self.conv_w = nn.Parameter(torch.zeros(len(c.dilations), c.d_in, 3, dtype=self.dtype, device=self.device))
            if c.activation == "jumprelu":
                self.threshold = nn.Parameter(torch.zeros(c.d_sae, dtype=self.dtype, device=self.device))

        def get_activation_fn(self) -> Callable[[torch.Tensor], torch.Tensor]:
            c = self.cfg
            return lambda pre: activate(pre, c.activation, c.k, getattr(self, "threshold", None))

        def encode(self, x: torch.Tensor) -> torch.Tensor:
            squeeze = x.dim() == 1
            if squeeze:
                x = x.unsqueeze(0)
            sae_in = self.process_sae_in(x)  # x - b_dec (SAELens' casts, hooks, normalisation)
            z = dilated_conv(sae_in, self.conv_w, list(self.cfg.dilations), self.cfg.conv_mode == "centred")
            hidden_pre = self.hook_sae_acts_pre(z @ self.W_enc + self.b_enc)
            f = self.hook_sae_acts_post(self.activation_fn(hidden_pre))
            return f.squeeze(0) if squeeze else f

        def decode(self, feature_acts: torch.Tensor) -> torch.Tensor:
            sae_out_pre = self.hook_sae_recons(feature_acts @ self.W_dec + self.b_dec)
            sae_out_pre = self.run_time_activation_norm_fn_out(sae_out_pre)
            return self.reshape_fn_out(sae_out_pre, self.d_head)

        def fold_W_dec_norm(self):
            raise NotImplementedError("folding W_dec norms changes a temporal SAE's topk/threshold selection")

    return TemporalSAEConfig, TemporalSAE


TemporalSAEConfig: Any = None
TemporalSAE: Any = None


def register(sae_lens_module=None) -> None:
    """Registers "temporal" with SAELens' register_sae_class (idempotent). Called on import when sae_lens
    is installed; pass a module to register with another implementation of SAELens' API. SAELens 5.x has
    no architecture registry (one SAE class with a fixed list of architectures): a RuntimeError says so."""
    global TemporalSAEConfig, TemporalSAE
    if sae_lens_module is None:
        import sae_lens as sae_lens_module  # noqa: PLC0415
    if not hasattr(sae_lens_module, "register_sae_class"):
        raise RuntimeError(f"SAELens {getattr(sae_lens_module, '__version__', '?')} has no register_sae_class: msts' "
                           "temporal SAEs need SAELens >= 6.0 (standard, topk and jumprelu SAEs load without msts_saelens)")
    from_registry = getattr(sae_lens_module, "registry", None)
    registered = getattr(from_registry, "SAE_CLASS_REGISTRY", {}) if from_registry is not None else {}
    if "temporal" in registered:
        TemporalSAE, TemporalSAEConfig = registered["temporal"]
        return
    TemporalSAEConfig, TemporalSAE = _define(sae_lens_module)
    sae_lens_module.register_sae_class("temporal", TemporalSAE, TemporalSAEConfig)


try:  # register on import when SAELens is installed
    import sae_lens as _sae_lens  # noqa: F401
except ImportError:  # the maths above still work without it
    _sae_lens = None
if _sae_lens is not None:
    if hasattr(_sae_lens, "register_sae_class"):
        register(_sae_lens)
    else:
        import warnings

        warnings.warn(f"msts_saelens: SAELens {getattr(_sae_lens, '__version__', '?')} has no register_sae_class; "
                      "temporal SAEs need SAELens >= 6.0 (standard, topk and jumprelu SAEs load as they are)", stacklevel=2)
