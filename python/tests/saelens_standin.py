"""A minimal stand-in for the parts of SAELens' API that msts_saelens uses (SAELens 6.x, sae_lens/saes/sae.py
and sae_lens/registry.py): SAEConfig (dataclass; from_dict keeps the class's fields, as SAELens'
filter_valid_dataclass_fields), SAE (nn.Module: activation_fn from get_activation_fn, initialize_weights
with W_enc/W_dec/b_dec, identity hook points, process_sae_in = x - b_dec, identity normalisation and
reshape), register_sae_class / registry.SAE_CLASS_REGISTRY, and load_from_disk (cfg.json +
sae_weights.safetensors, strict load_state_dict). SAELens itself cannot be installed here (no PyPI); this
stand-in only lets the module's encode/decode maths be checked against msts' outputs."""
import json
import os
import sys
import types
from dataclasses import dataclass, field, fields

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import safetensors_np  # noqa: E402

SAE_CLASS_REGISTRY = {}


def register_sae_class(architecture, sae_class, sae_config_class):
    if architecture in SAE_CLASS_REGISTRY:
        raise ValueError(f"SAE class for architecture {architecture} already registered.")
    SAE_CLASS_REGISTRY[architecture] = (sae_class, sae_config_class)


@dataclass
class SAEConfig:
    d_in: int
    d_sae: int
    dtype: str = "float32"
    device: str = "cpu"
    apply_b_dec_to_input: bool = True
    normalize_activations: str = "none"
    reshape_activations: str = "none"
    metadata: dict = field(default_factory=dict)

    @classmethod
    def architecture(cls):
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d):
        cfg_class = SAE_CLASS_REGISTRY[d["architecture"]][1]
        names = {f.name for f in fields(cfg_class)}
        return cfg_class(**{k: v for k, v in d.items() if k in names})

    def __post_init__(self):
        if self.normalize_activations not in ("none", "expected_average_only_in", "constant_norm_rescale", "layer_norm"):
            raise ValueError(self.normalize_activations)


class SAE(nn.Module):
    def __init__(self, cfg, use_error_term=False):
        super().__init__()
        self.cfg = cfg
        self.dtype = {"float32": torch.float32}[cfg.dtype]
        self.device = torch.device(cfg.device)
        self.activation_fn = self.get_activation_fn()
        self.initialize_weights()
        for h in ("hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_output",
                  "hook_sae_recons", "hook_sae_error"):
            setattr(self, h, nn.Identity())
        self.reshape_fn_in = lambda x: x
        self.reshape_fn_out = lambda x, d_head: x
        self.d_head = None
        self.run_time_activation_norm_fn_in = lambda x: x
        self.run_time_activation_norm_fn_out = lambda x: x

    def get_activation_fn(self):
        return nn.ReLU()

    def initialize_weights(self):
        self.b_dec = nn.Parameter(torch.zeros(self.cfg.d_in, dtype=self.dtype))
        self.W_dec = nn.Parameter(torch.empty(self.cfg.d_sae, self.cfg.d_in, dtype=self.dtype))
        nn.init.kaiming_uniform_(self.W_dec)
        self.W_enc = nn.Parameter(self.W_dec.data.T.clone().contiguous())

    def forward(self, x):
        return self.hook_sae_output(self.decode(self.encode(x)))

    def process_sae_in(self, sae_in):
        sae_in = self.hook_sae_input(self.reshape_fn_in(sae_in.to(self.dtype)))
        sae_in = self.run_time_activation_norm_fn_in(sae_in)
        return sae_in - self.b_dec * self.cfg.apply_b_dec_to_input

    @classmethod
    def load_from_disk(cls, path, device="cpu", dtype=None):
        with open(os.path.join(path, "cfg.json")) as fh:
            cfg_dict = json.load(fh)
        state = {k: torch.from_numpy(v.copy()) for k, v in safetensors_np.read(os.path.join(path, "sae_weights.safetensors")).items()}
        sae_cls, cfg_cls = SAE_CLASS_REGISTRY[cfg_dict["architecture"]]  # KeyError 'temporal' when unregistered
        sae = sae_cls(cfg_cls.from_dict(cfg_dict))
        sae.load_state_dict(state)  # strict: every tensor of the file is a parameter and vice versa
        return sae


def install():
    """Makes `import sae_lens` give this stand-in."""
    mod = types.ModuleType("sae_lens")
    mod.SAE, mod.SAEConfig, mod.register_sae_class = SAE, SAEConfig, register_sae_class
    reg = types.ModuleType("sae_lens.registry")
    reg.SAE_CLASS_REGISTRY = SAE_CLASS_REGISTRY
    mod.registry = reg
    sys.modules["sae_lens"] = mod
    sys.modules["sae_lens.registry"] = reg
    return mod
