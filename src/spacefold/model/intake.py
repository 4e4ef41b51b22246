"""Model intake: one loader for every way a user hands spacefold a network.

Used by the CLI (``--model``, ``--arch``, ``--activation``, ``--model-code``), by
``sf.render(..., model="file")``, by export and by the app.

>>> import spacefold as sf
>>> net = sf.load_model("model.pth", arch="2-100-2-5",
...                     activation="relu,identity")             # doctest: +SKIP

What it reads (the format is sniffed from the bytes, not the suffix):

- a spacefold checkpoint (safetensors with the spec in its metadata): the spec is inside,
  ``arch``/``activation`` may be given only when they agree with it;
- a plain safetensors file, or a PyTorch state-dict file (``.pt``, ``.pth``, ``.bin``),
  always read with ``torch.load(weights_only=True)``: a pickled full model
  (``torch.save(model)``) is refused, never unpickled. The network is rebuilt from ``arch``
  and ``activation``; the file's Linear layers (every 2-D ``*weight`` with its ``*bias``)
  are matched to the architecture's by order and shape, whatever the key names are;
- ``code="FILE.py:NAME"``: imports the user's file and calls ``NAME()`` (a class or a
  factory) to build their ``nn.Module``. This RUNS THEIR CODE, and only when asked. With a
  weights file too, the weights are loaded into that module (``load_state_dict``, strict;
  when the key names differ, by the order and shapes of its Linear layers).

Every problem is a :class:`SpecError` with a one-line message naming both sides.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec

TORCH_SUFFIXES = (".pt", ".pth", ".bin")
# how the messages name the options: Python keywords, or the CLI's flags
PY_NAMES = {"arch": "arch=", "activation": "activation=", "code": "code="}
CLI_NAMES = {"arch": "--arch", "activation": "--activation", "code": "--model-code"}
# a training checkpoint often nests the state dict under one of these keys
_NESTED_KEYS = ("state_dict", "model_state_dict", "model")


@dataclass(frozen=True)
class Loaded:
    """What :func:`read_model` found: the model, the checkpoint's meta (its data recipe,
    training numbers; empty when the file has none) and where it came from."""

    model: Any                    # a Network (numpy weights) or the user's nn.Module
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = ""              # "model.pth", "mynet.py:make_model + weights.pt"

    @property
    def arch(self) -> str:
        """``"2-100-2-5"``: the widths of the model's Linear layers."""
        return arch_of(self.model)


def load_model(path: str | Path | None = None, *, arch: str | None = None,
               activation: str | list[str] | None = None,
               code: str | None = None) -> Any:
    """A network from a file and/or the user's code: a :class:`Network` (torch-free numpy
    weights) for a weights file, the user's ``nn.Module`` (eval mode) with ``code``.

    ``path``: a spacefold checkpoint, a plain safetensors file or a PyTorch state dict.
    ``arch``: ``"2-100-2-5"``, needed when the file carries no spacefold spec.
    ``activation``: one name for every hidden layer, or a comma list (or a list) with one
    per hidden layer; ``identity`` is allowed; default ``relu``.
    ``code``: ``"FILE.py:NAME"`` — imports FILE.py and calls ``NAME()``; runs that file's
    code. Combine with ``path`` to load weights into the module it builds.
    """
    return read_model(path, arch=arch, activation=activation, code=code).model


def read_model(path: str | Path | None = None, *, arch: str | None = None,
               activation: str | list[str] | None = None, code: str | None = None,
               names: Mapping[str, str] = PY_NAMES) -> Loaded:
    """:func:`load_model`, keeping the checkpoint's meta; ``names`` says how messages name
    the options (``CLI_NAMES`` for the command line)."""
    if path is None and code is None:
        raise SpecError("give a model file (spacefold checkpoint, safetensors or PyTorch "
                        "state dict) or model code FILE.py:NAME")
    if code is not None and (arch is not None or activation is not None):
        given = " and ".join(names[k] for k, v in (("arch", arch), ("activation", activation))
                             if v is not None)
        verb = "describe" if " and " in given else "describes"
        raise SpecError(f"{given} {verb} a network for spacefold to build; with "
                        f"{_show(names, 'code', code)} your code builds it, so leave "
                        f"{given} out")
    if path is None:
        assert code is not None
        return Loaded(_run_code(code), {}, code)
    p = Path(path)
    tensors, md = read_tensors(p)
    if "spacefold.spec" in md:
        return _from_checkpoint(p, tensors, md, arch, activation, code, names)
    if code is not None:
        module = _run_code(code)
        _load_into(module, tensors, p, code)
        return Loaded(module, {}, f"{code} + {p.name}")
    linears = linear_layers(tensors, p)
    if arch is None:
        guess = _guess_arch(linears)
        hint = f" (its Linear shapes {_shapes(linears)} read as {_show(names, 'arch', guess)})" \
            if guess else ""
        raise SpecError(f"model file {str(p)!r} has no spacefold spec; give {names['arch']} "
                        f"and {names['activation']}{hint}, or {names['code']} FILE.py:NAME")
    spec = _parse_spec(arch, activation, names)
    return Loaded(network_from_linears(spec, linears, p, names), {}, p.name)


# -- reading files -------------------------------------------------------------------------------
def read_tensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The file's tensors as numpy arrays in layer order, and its safetensors metadata
    (empty for PyTorch files). The format is sniffed from the first bytes."""
    if not path.exists():
        raise SpecError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise SpecError(f"model file {str(path)!r} is not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as e:
        raise SpecError(f"cannot read model file {str(path)!r}: {e.strerror or e}") from None
    # safetensors first: its header length is any 8 bytes (0x80 first for a 384-byte header)
    if len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < 1 << 27:
        return _read_safetensors(path)
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":     # torch zip / legacy pickle
        return _read_torch(path), {}
    raise SpecError(f"model file {str(path)!r} is neither a safetensors file nor a PyTorch "
                    f"state dict ({', '.join(TORCH_SUFFIXES)} written by torch.save)")


def _read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            md = dict(f.metadata() or {})
            keys = sorted(f.keys(), key=_natural)    # the file stores them sorted by name
            arrays = {k: f.get_tensor(k) for k in keys}
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        raise SpecError(f"model file {str(path)!r} is not a readable safetensors file: "
                        f"{_first_line(e)}") from None
    return arrays, md


def _read_torch(path: Path) -> dict[str, np.ndarray]:
    import pickle

    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        m = re.search(r"GLOBAL (\S+) was not an allowed global", str(e))
        what = f" ({m.group(1)})" if m else ""
        raise SpecError(
            f"model file {str(path)!r} is a pickled Python object{what}, not a state dict; "
            f"spacefold never unpickles (it would run code): save the weights with "
            f"torch.save(model.state_dict(), {path.name!r})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as e:
        raise SpecError(f"model file {str(path)!r} is not a readable PyTorch file: "
                        f"{_first_line(e)}") from None
    state = _state_dict_in(obj, path)
    out: dict[str, np.ndarray] = {}
    for k, v in state.items():
        t = v.detach().cpu()
        if t.is_floating_point() and t.dtype not in (torch.float32, torch.float64):
            t = t.float()
        out[str(k)] = t.numpy()
    return out


def _state_dict_in(obj: Any, path: Path) -> Mapping[str, Any]:
    import torch

    def tensors_only(d: Any) -> bool:
        return isinstance(d, Mapping) and bool(d) and \
            all(isinstance(v, torch.Tensor) for v in d.values())

    if tensors_only(obj):
        return obj
    if isinstance(obj, Mapping):
        for k in _NESTED_KEYS:
            if tensors_only(obj.get(k)):
                return obj[k]
        keys = ", ".join(map(str, list(obj)[:6]))
        raise SpecError(f"model file {str(path)!r} holds a dict ({keys}) that is not a state "
                        f"dict of tensors; save torch.save(model.state_dict(), {path.name!r})")
    raise SpecError(f"model file {str(path)!r} holds a {type(obj).__name__}, not a state dict; "
                    f"save torch.save(model.state_dict(), {path.name!r})")


# -- Linear layers by order and shape --------------------------------------------------------------
@dataclass(frozen=True)
class LinearWeights:
    name: str                     # the weight's key, e.g. "fc.0.weight"
    weight: np.ndarray            # (out, in)
    bias: np.ndarray | None       # (out,)


def linear_layers(tensors: Mapping[str, np.ndarray], path: Path) -> list[LinearWeights]:
    """Every 2-D ``*weight`` with its ``*bias``, in file order; anything else is an error
    (batch norm, embeddings: those need the module's own code)."""
    out: list[LinearWeights] = []
    used: set[str] = set()
    for k, v in tensors.items():
        if not (k == "weight" or k.endswith(".weight") or k.endswith("_weight")) \
                or np.ndim(v) != 2:
            continue
        prefix = k[:-len("weight")]
        b = tensors.get(prefix + "bias")
        if b is not None and (np.ndim(b) != 1 or b.shape[0] != v.shape[0]):
            b = None
        out.append(LinearWeights(k, np.asarray(v), None if b is None else np.asarray(b)))
        used.add(k)
        if b is not None:
            used.add(prefix + "bias")
    rest = [k for k in tensors if k not in used]
    if rest:
        shown = ", ".join(rest[:4]) + (", ..." if len(rest) > 4 else "")
        raise SpecError(f"model file {str(path)!r} has tensors that are not Linear weights "
                        f"({shown}); build the module from its code with "
                        f"--model-code FILE.py:NAME")
    if not out:
        raise SpecError(f"model file {str(path)!r} has no Linear weights")
    return out


def network_from_linears(spec: ArchSpec, linears: list[LinearWeights], path: Path,
                         names: Mapping[str, str] = PY_NAMES) -> Network:
    """The :class:`Network` of ``spec`` with the file's Linear layers, matched in order."""
    need = [(o, i) for i, o in zip(spec.widths[:-1], spec.widths[1:], strict=True)]
    have = [tuple(lw.weight.shape) for lw in linears]
    if have != need:
        raise SpecError(f"model file {str(path)!r}: weights have Linear shapes "
                        f"{_shapes(linears)}; {_show(names, 'arch', spec.arch)} needs "
                        f"{', '.join(map(str, need))}")
    params: dict[str, np.ndarray] = {}
    for (idx, _), lw in zip(spec.module_layout(), linears, strict=True):
        w = lw.weight
        params[f"{idx}.weight"] = w
        # nn.Linear(bias=False) is the same map as a zero bias (Network.to_torch needs one)
        params[f"{idx}.bias"] = lw.bias if lw.bias is not None else np.zeros(w.shape[0],
                                                                               w.dtype)
    return Network(spec, params, {})


def _parse_spec(arch: str, activation: str | list[str] | None,
                names: Mapping[str, str]) -> ArchSpec:
    try:
        return ArchSpec.parse(arch, "relu" if activation is None else activation)
    except SpecError as e:
        msg = str(e)
        if "activations given for" in msg:   # name the option, as the user typed it
            msg = f"{_show(names, 'activation', activation)}: {msg}"
        raise SpecError(msg) from None


def _guess_arch(linears: list[LinearWeights]) -> str | None:
    shapes = [lw.weight.shape for lw in linears]
    if any(a[0] != b[1] for a, b in zip(shapes, shapes[1:], strict=False)):
        return None
    return "-".join(str(w) for w in [shapes[0][1], *(s[0] for s in shapes)])


def _shapes(linears: list[LinearWeights]) -> str:
    return ", ".join(str(tuple(lw.weight.shape)) for lw in linears)


# -- spacefold checkpoints -------------------------------------------------------------------------
def _from_checkpoint(p: Path, tensors: dict[str, np.ndarray], md: dict[str, str],
                     arch: str | None, activation: str | list[str] | None, code: str | None,
                     names: Mapping[str, str]) -> Loaded:
    from spacefold.model.checkpoint import load_network

    net = load_network(p)
    if arch is not None and arch.strip() != net.spec.arch:
        raise SpecError(f"model file {str(p)!r} is a spacefold checkpoint of {net.spec.arch}; "
                        f"{_show(names, 'arch', arch)} disagrees (leave it out: the file says)")
    if activation is not None:
        given = _parse_spec(net.spec.arch, activation, names).activations
        if given != net.spec.activations:
            raise SpecError(f"model file {str(p)!r} is a spacefold checkpoint with activations "
                            f"{','.join(net.spec.activations)}; "
                            f"{_show(names, 'activation', activation)} disagrees (leave it "
                            f"out: the file says)")
    if code is not None:
        module = _run_code(code)
        _load_into(module, tensors, p, code)
        return Loaded(module, dict(net.meta), f"{code} + {p.name}")
    return Loaded(net, dict(net.meta), p.name)


# -- the user's code -------------------------------------------------------------------------------
def _run_code(code: str) -> Any:
    """Import FILE.py and call NAME(): the user's nn.Module, in eval mode."""
    from torch import nn

    file, sep, name = str(code).rpartition(":")
    if not sep or not file or not name:
        raise SpecError(f"model code {code!r} must be FILE.py:NAME, like mynet.py:make_model")
    if not name.isidentifier():
        raise SpecError(f"model code {code!r}: {name!r} is not a Python name")
    p = Path(file)
    if p.suffix != ".py":
        raise SpecError(f"model code {code!r}: {file!r} is not a .py file")
    if not p.is_file():
        raise SpecError(f"model code file {file!r} does not exist")
    mod_name = f"spacefold_user_code_{abs(hash(str(p.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise SpecError(f"model code file {file!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)          # their file may import its neighbours
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - their code may raise anything; one line
        sys.modules.pop(mod_name, None)
        raise SpecError(f"model code file {file!r} failed on import: {type(e).__name__}: "
                        f"{_first_line(e)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        found = sorted(k for k, v in vars(module).items()
                       if callable(v) and not k.startswith("_")
                       and getattr(v, "__module__", None) == mod_name)
        what = "defines no" if fn is None else "has a non-callable"
        raise SpecError(f"model code file {file!r} {what} {name!r}; it defines: "
                        f"{', '.join(found) or 'nothing callable'}")
    try:
        model = fn()
    except Exception as e:  # noqa: BLE001
        raise SpecError(f"model code {code!r}: {name}() failed: {type(e).__name__}: "
                        f"{_first_line(e)}") from None
    if not isinstance(model, nn.Module):
        raise SpecError(f"model code {code!r}: {name}() returned a {type(model).__name__}, "
                        f"not a torch nn.Module")
    return model.eval()


def _load_into(module: Any, tensors: dict[str, np.ndarray], path: Path, code: str) -> None:
    """The file's weights into the user's module: by key names when they match (strict),
    else by the order and shapes of its Linear layers."""
    import torch
    from torch import nn

    own = module.state_dict()
    if set(own) == set(tensors):
        bad = [f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
               if tuple(tensors[k].shape) != tuple(v.shape)]
        if bad:
            raise SpecError(f"model file {str(path)!r} does not fit {code}: "
                            f"{'; '.join(bad[:3])} (file vs module)")
        module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(tensors[k]))
                                .to(own[k].dtype) for k in own}, strict=True)
        return
    mods = [m for m in module.modules() if isinstance(m, nn.Linear)]
    linear_keys = {f"{n}.{p}" for n, m in module.named_modules() if isinstance(m, nn.Linear)
                   for p, _ in m.named_parameters(recurse=False)}
    if set(own) - linear_keys:
        missing = sorted(set(own) - set(tensors))[:3]
        extra = sorted(set(tensors) - set(own))[:3]
        raise SpecError(f"model file {str(path)!r} does not fit {code}: its keys differ from "
                        f"the module's (missing {', '.join(missing) or 'none'}; unexpected "
                        f"{', '.join(extra) or 'none'}), and the module has more than Linear "
                        f"layers, so they cannot be matched by order")
    linears = linear_layers(tensors, path)
    have = [tuple(lw.weight.shape) for lw in linears]
    need = [(m.out_features, m.in_features) for m in mods]
    if have != need:
        raise SpecError(f"model file {str(path)!r}: weights have Linear shapes "
                        f"{_shapes(linears)}; {code} builds "
                        f"{', '.join(map(str, need)) or 'no Linear layers'}")
    with torch.no_grad():
        for m, lw in zip(mods, linears, strict=True):
            m.weight.copy_(torch.from_numpy(np.ascontiguousarray(lw.weight)))
            if m.bias is not None:
                if lw.bias is None:
                    m.bias.zero_()
                else:
                    m.bias.copy_(torch.from_numpy(np.ascontiguousarray(lw.bias)))
            elif lw.bias is not None and np.any(lw.bias):
                raise SpecError(f"model file {str(path)!r}: {lw.name} has a bias but "
                                f"{code} builds that Linear without one")


# -- helpers ---------------------------------------------------------------------------------------
def arch_of(model: Any) -> str:
    """``"2-100-2-5"`` for a Network or any module with Linear layers ("" if it has none)."""
    if isinstance(model, Network):
        return model.spec.arch
    try:
        from torch import nn
    except ImportError:   # pragma: no cover - torch is a dependency
        return ""
    if isinstance(model, nn.Module):
        ls = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if ls:
            return "-".join(str(w) for w in [ls[0].in_features, *(m.out_features for m in ls)])
    return ""


def _show(names: Mapping[str, str], key: str, value: Any) -> str:
    """``arch='2-64-5'`` in Python, ``--arch 2-64-5`` on the command line."""
    flag = names[key]
    if not isinstance(value, str):
        value = ",".join(map(str, value))
    return f"{flag}{value!r}" if flag.endswith("=") else f"{flag} {value}"


def _natural(key: str) -> list[Any]:
    """"fc.10.weight" after "fc.2.weight": digit runs compare as numbers."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", key) if t]


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__

