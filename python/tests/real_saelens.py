"""Imports the REAL, unmodified SAELens (a source checkout: the directory holding sae_lens/) with Debian's torch.

SAELens cannot be pip-installed on msts' build machines (no PyPI) and its source is not copied into msts, so
a test that wants the real classes is given a checkout by path (MSTS_SAELENS_SRC) or finds an installed
sae_lens. SAELens' package __init__ imports its whole training/eval stack; the third-party packages that are
not installed are replaced, before that import, as follows (each only when it is missing):

  stubbed -- never used by SAE.load_from_disk / encode / decode of standard, topk, jumprelu or a registered
  architecture; every attribute is an inert placeholder class, and every call of one is recorded in
  used_stubs (SAELens' own import makes a few, e.g. simple_parsing field defaults of its runner configs;
  import_time_stubs keeps them): the checks clear the list after the import and fail if anything on the
  load/encode/decode path called a stub, so a stub cannot have changed a number:
      transformers, datasets, huggingface_hub, wandb, tqdm, simple_parsing, plotly_express, nltk, dotenv,
      babe, pandas, einops (only hook_z reshaping: reshape_activations "hook_z", which msts never writes),
      jaxtyping (type annotations only: Float[torch.Tensor, "..."]),
      transformer_lens (the package; its HookedTransformer etc. are only for running a language model)
  replaced by a minimal working equivalent -- on the path, but no arithmetic:
      transformer_lens.hook_points: HookPoint (an identity nn.Module that runs PyTorch forward hooks) and
          HookedRootModule.setup (collects hook points into hook_dict/mod_dict). With MSTS_TRANSFORMERLENS_SRC
          (a TransformerLens 2.x checkout) its real hook_points.py is used instead (its import of
          transformer_lens.utils, which pulls in transformers/datasets, is given Slice/SliceInput placeholders).
      safetensors.safe_open / safetensors.torch.load_file: read with msts' independent numpy reader
          (scripts/safetensors_np.py); save_file raises (not needed to load).
      packaging.version.Version: release-number comparison (SAELens compares cfg sae_lens_version with
          "6.0.0-rc.0"); used only when that key is present.
      torch.optim.lr_scheduler.LRScheduler (torch < 2.0 calls it _LRScheduler): an alias; SAELens' training
          code names it in a return annotation at import time.
      typing_extensions.deprecated (torch 1.13-era Debian typing_extensions lacks it): a no-op decorator
          (it only marks SAE.load_from_pretrained as deprecated).
The SAE maths (SAE, SAEConfig, StandardSAE, TopKSAE, JumpReLUSAE, the loaders, the registry) run as
SAELens ships them."""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "..", "scripts")

STUBBED = ["transformers", "datasets", "huggingface_hub", "wandb", "tqdm", "simple_parsing", "plotly_express",
           "nltk", "dotenv", "babe", "pandas", "einops", "jaxtyping", "transformer_lens", "safetensors",
           "packaging"]

import_time_stubs = []  # stub calls made while SAELens' package __init__ ran (runner configs etc.)
used_stubs = []  # names of stubs whose placeholders were called (must stay empty on the SAE path)


class _StubMeta(type):
    def __getitem__(cls, item):  # Float[torch.Tensor, "... d_in"]
        return cls

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args, **kwargs):  # recorded; the checks assert none happens after the import
        used_stubs.append(cls.__qualname__)
        return _placeholder(f"{cls.__qualname__}()")

    def __or__(cls, other):
        return cls

    __ror__ = __or__


def _placeholder(qualname):
    return _StubMeta(qualname.rsplit(".", 1)[-1], (), {"__qualname__": qualname, "__module__": qualname.rsplit(".", 1)[0]})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Gives a module for each missing name in `roots` (and their submodules)."""

    def __init__(self, roots, special):
        self.roots, self.special = set(roots), special

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] not in self.roots:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        make = self.special.get(spec.name)
        mod = make() if make else _StubModule(spec.name)
        mod.__path__ = []
        return mod

    def exec_module(self, module):
        pass


# ---- minimal working equivalents (no arithmetic) ----

def _safetensors_modules():
    sys.path.insert(0, SCRIPTS)
    import safetensors_np  # msts' independent numpy reader

    import torch

    def read(path, device="cpu"):
        return {k: torch.from_numpy(v.copy()).to(device) for k, v in safetensors_np.read(str(path)).items()}

    class safe_open:  # noqa: N801 (the real name)
        def __init__(self, path, framework="pt", device="cpu"):
            assert framework == "pt", framework
            self._t = read(path, device)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def keys(self):
            return list(self._t.keys())

        def get_tensor(self, name):
            return self._t[name]

    def save_file(*a, **k):
        raise RuntimeError("msts test harness: safetensors.torch.save_file is not provided")

    top = types.ModuleType("safetensors")
    top.safe_open = safe_open
    pt = types.ModuleType("safetensors.torch")
    pt.load_file = lambda path, device="cpu": read(path, device)
    pt.save_file = save_file
    pt.safe_open = safe_open
    top.torch = pt
    return {"safetensors": lambda: top, "safetensors.torch": lambda: pt}


def _packaging_modules():
    class Version:
        """Release numbers compared as tuples; a pre-release (rc, a, b, dev) sorts before its release."""

        def __init__(self, s):
            m = re.match(r"^v?(\d+(?:\.\d+)*)(.*)$", str(s).strip())
            if not m:
                raise ValueError(f"invalid version {s!r}")
            nums = [int(x) for x in m.group(1).split(".")]
            while len(nums) > 1 and nums[-1] == 0:
                nums.pop()
            self.key = (tuple(nums), 0 if m.group(2).strip("-._") else 1, m.group(2))

        def __lt__(self, o):
            return self.key < o.key

        def __eq__(self, o):
            return self.key == o.key

        def __le__(self, o):
            return self.key <= o.key

        def __gt__(self, o):
            return self.key > o.key

        def __ge__(self, o):
            return self.key >= o.key

    top = types.ModuleType("packaging")
    ver = types.ModuleType("packaging.version")
    ver.Version = Version
    top.version = ver
    return {"packaging": lambda: top, "packaging.version": lambda: ver}


def _hook_points_module(tl_src):
    if tl_src:
        path = os.path.join(tl_src, "transformer_lens", "hook_points.py")
        spec = importlib.util.spec_from_file_location("transformer_lens.hook_points", path)
        mod = importlib.util.module_from_spec(spec)
        utils = _StubModule("transformer_lens.utils")  # Slice/SliceInput: caching helpers only
        sys.modules["transformer_lens.utils"] = utils
        sys.modules["transformer_lens.hook_points"] = mod
        spec.loader.exec_module(mod)
        return mod
    import torch.nn as nn

    mod = types.ModuleType("transformer_lens.hook_points")

    class HookPoint(nn.Module):
        """Identity; PyTorch forward hooks registered on it run as usual."""

        def __init__(self):
            super().__init__()
            self.name = None

        def forward(self, x):
            return x

    class HookedRootModule(nn.Module):
        def setup(self):
            self.mod_dict, self.hook_dict = {}, {}
            for name, module in self.named_modules():
                if name == "":
                    continue
                module.name = name
                self.mod_dict[name] = module
                if isinstance(module, HookPoint):
                    self.hook_dict[name] = module

    mod.HookPoint, mod.HookedRootModule = HookPoint, HookedRootModule
    return mod


def _missing(name):
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def load(saelens_src=None, tl_src=None):
    """Returns the sae_lens package: the installed one when importable as is, else the checkout saelens_src
    (default $MSTS_SAELENS_SRC) with the missing third-party modules replaced as the module docstring says.
    Returns (module, description)."""
    if "sae_lens" in sys.modules:
        return sys.modules["sae_lens"], "already imported"
    saelens_src = saelens_src or os.environ.get("MSTS_SAELENS_SRC")
    tl_src = tl_src or os.environ.get("MSTS_TRANSFORMERLENS_SRC")
    if not saelens_src:
        import sae_lens  # an installed SAELens (raises ImportError when there is none)
        return sae_lens, "installed sae_lens " + getattr(sae_lens, "__version__", "?") + " at " + os.path.dirname(sae_lens.__file__)
    if not os.path.isfile(os.path.join(saelens_src, "sae_lens", "__init__.py")):
        raise FileNotFoundError(f"{saelens_src}: no sae_lens/__init__.py (MSTS_SAELENS_SRC must be a SAELens checkout)")
    import typing_extensions
    if not hasattr(typing_extensions, "deprecated"):
        typing_extensions.deprecated = lambda *a, **k: (lambda f: f)
    import torch.optim.lr_scheduler as lrs
    if not hasattr(lrs, "LRScheduler"):  # torch < 2.0: the public name of _LRScheduler (training's annotations)
        lrs.LRScheduler = lrs._LRScheduler
    special = {}
    special.update(_safetensors_modules())
    special.update(_packaging_modules())
    roots = [r for r in STUBBED if _missing(r)]
    if "transformer_lens" in roots:
        special["transformer_lens.hook_points"] = lambda: _hook_points_module(tl_src)
    sys.meta_path.insert(0, _Finder(roots, {k: v for k, v in special.items() if k.split(".")[0] in roots}))
    sys.path.insert(0, saelens_src)
    import sae_lens
    import_time_stubs[:] = used_stubs
    used_stubs.clear()
    where = os.path.dirname(os.path.abspath(sae_lens.__file__))
    assert os.path.abspath(where).startswith(os.path.abspath(saelens_src)), where
    desc = (f"SAELens {sae_lens.__version__} from {saelens_src}; stubbed/replaced: {', '.join(roots)}; hook points: "
            + ("TransformerLens " + tl_src if tl_src and "transformer_lens" in roots else "minimal identity"
               if "transformer_lens" in roots else "installed"))
    return sae_lens, desc
