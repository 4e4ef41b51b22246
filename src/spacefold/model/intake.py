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
  and ``activation`` (with its parameters: ``leaky_relu:0.2``); the file's Linear layers
  (every 2-D ``*weight`` with its ``*bias``) are matched to the architecture's by order and
  shape, whatever the key names are;
- ``code="FILE.py:NAME"``: imports the user's file and calls ``NAME()`` (a class or a
  factory) to build their ``nn.Module``. This RUNS THEIR CODE, and only when asked. With a
  weights file too, the weights are loaded into that module (``load_state_dict``, strict;
  when the key names differ, by the order and shapes of its Linear layers).

Every problem is a :class:`SpecError` with a one-line message naming both sides. The
files are read by :mod:`~spacefold.model.tensor_files`, matched by
:mod:`~spacefold.model.linears`, the code run by :mod:`~spacefold.model.user_code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.linears import guess_arch, linear_layers, network_from_linears, shapes
from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec
from spacefold.model.tensor_files import read_tensors
from spacefold.model.user_code import load_into, run_code

# how the messages name the options: Python keywords, or the CLI's flags
PY_NAMES = {"arch": "arch=", "activation": "activation=", "code": "code="}
CLI_NAMES = {"arch": "--arch", "activation": "--activation", "code": "--model-code"}


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
    per hidden layer; ``identity`` is allowed; default ``relu``. Parameters follow colons,
    in torch's order or by name: ``"leaky_relu:0.2"``, ``"elu:alpha=0.5"``,
    ``"hardtanh:-2:2"``. Without them an activation has torch's defaults, except leaky ReLU,
    whose slope is 0.1 (``nn.LeakyReLU()``'s is 0.01: give ``"leaky_relu:0.01"``).
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
        return Loaded(run_code(code), {}, code)
    p = Path(path)
    tensors, md = read_tensors(p)
    if "spacefold.spec" in md:
        return _from_checkpoint(p, tensors, md, arch, activation, code, names)
    if code is not None:
        module = run_code(code)
        load_into(module, tensors, p, code)
        return Loaded(module, {}, f"{code} + {p.name}")
    linears = linear_layers(tensors, p)
    if arch is None:
        guess = guess_arch(linears)
        hint = f" (its Linear shapes {shapes(linears)} read as {_show(names, 'arch', guess)})" \
            if guess else ""
        raise SpecError(f"model file {str(p)!r} has no spacefold spec; give {names['arch']} "
                        f"and {names['activation']}{hint}, or {names['code']} FILE.py:NAME")
    spec = _parse_spec(arch, activation, names)
    return Loaded(network_from_linears(spec, linears, p, _show(names, "arch", spec.arch)), {},
                  p.name)


def _parse_spec(arch: str, activation: str | list[str] | None,
                names: Mapping[str, str]) -> ArchSpec:
    try:
        spec = ArchSpec.parse(arch, "relu" if activation is None else activation)
        if activation is not None and len(spec.widths) == 2:
            def given(key: str, value: Any) -> str:     # arch='2-3', --arch '2-3'
                flag = names[key]
                return f"{flag}{value!r}" if flag.endswith("=") else f"{flag} {value!r}"

            raise SpecError(f"{given('arch', arch)} has no hidden layer, so "
                            f"{given('activation', activation)} would change nothing; leave it "
                            f"out")
        return spec
    except SpecError as e:
        msg = str(e)
        if "activations given for" in msg:   # name the option, as the user typed it
            msg = f"{_show(names, 'activation', activation)}: {msg}"
        raise SpecError(msg) from None


# -- spacefold checkpoints -------------------------------------------------------------------------
def _from_checkpoint(p: Path, tensors: dict[str, np.ndarray], md: dict[str, str],
                     arch: str | None, activation: str | list[str] | None, code: str | None,
                     names: Mapping[str, str]) -> Loaded:
    from spacefold.model.checkpoint import load_network

    net = load_network(p)
    if arch is not None and _parse_spec(arch, None, names).widths != net.spec.widths:
        raise SpecError(f"model file {str(p)!r} is a spacefold checkpoint of {net.spec.arch}; "
                        f"{_show(names, 'arch', arch)} disagrees (leave it out: the file says)")
    if activation is not None:
        given = _parse_spec(net.spec.arch, activation, names)
        if (given.activations, given.activation_params) != \
                (net.spec.activations, net.spec.activation_params):
            raise SpecError(f"model file {str(p)!r} is a spacefold checkpoint with activations "
                            f"{','.join(net.spec.activation_texts)}; "
                            f"{_show(names, 'activation', activation)} disagrees (leave it "
                            f"out: the file says)")
    if code is not None:
        module = run_code(code)
        load_into(module, tensors, p, code)
        return Loaded(module, dict(net.meta), f"{code} + {p.name}")
    return Loaded(net, dict(net.meta), p.name)


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
