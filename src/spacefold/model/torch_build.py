"""A spec → ``nn.Sequential``: ``build``, ``build_spec`` and the activation modules.

Imports torch; :mod:`spacefold.model.spec` (the spec itself) does not.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import Any

import torch
from torch import nn

from spacefold.errors import SpecError
from spacefold.limits import MAX_SEED
from spacefold.model.activations import ACTIVATIONS as TABLE
from spacefold.model.spec import ArchSpec, spec_params

__all__ = ["ACTIVATIONS", "Sine", "build", "build_spec"]


class Sine(nn.Module):
    """``sin(x)`` as a module, so sine networks are plain ``nn.Sequential``s too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


def resolve(dotted: str) -> Any:
    """"torch.nn.ReLU" → the object it names (the table names torch things by path)."""
    mod, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(mod), attr)


def module_class(name: str) -> type[nn.Module]:
    """The torch module class of table activation ``name`` (its first listed module)."""
    cls: type[nn.Module] = resolve(TABLE[name].modules[0])
    return cls


def activation_module(name: str, params: Mapping[str, Any] | None = None) -> nn.Module:
    """Table activation ``name`` as a torch module with ``params`` (a spec's defaults for
    those not given): ``activation_module("leaky_relu", {"negative_slope": 0.2})``."""
    return module_class(name)(**{**spec_params(name), **(params or {})})


def _maker(name: str) -> Callable[[], nn.Module]:
    return lambda: activation_module(name)


# name → a new module as a spec builds it without parameters, for every activation a spec
# may name.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    name: _maker(name) for name, a in TABLE.items() if a.spec is not None and a.modules}


def build_spec(spec: ArchSpec) -> nn.Sequential:
    """Linear, activation, ..., Linear (+ head) — the layout ``ArchSpec.module_layout`` names."""
    layers: list[nn.Module] = []
    for i in range(len(spec.widths) - 1):
        layers.append(nn.Linear(spec.widths[i], spec.widths[i + 1]))
        if i < len(spec.activations):
            layers.append(activation_module(spec.activations[i], spec.layer_params(i)))
    if spec.head is not None:
        layers.append(ACTIVATIONS[spec.head]())     # softmax: dim=-1, the table's spec
    return nn.Sequential(*layers)


def build(arch: str, activation: str | Sequence[str] = "relu", head: str | None = None,
          seed: int | None = 0) -> nn.Sequential:
    """``build("2-100-2-5", activation="relu")`` → an ``nn.Sequential`` of Linear + activations.

    ``activation``: one name for every hidden layer, or one per hidden layer (a comma list
    or a list); parameters follow colons, ``"leaky_relu:0.2"``, ``"elu:alpha=0.5"``
    (without them, torch's defaults, but leaky ReLU's slope is 0.1).
    ``seed`` makes the initial weights reproducible (``None`` leaves torch's RNG alone).
    """
    if not isinstance(arch, str):
        raise SpecError(f"build: the architecture is a string of widths like '2-100-5', got "
                        f"{type(arch).__name__} {str(arch)[:40]}")
    if not isinstance(activation, str) and not (
            isinstance(activation, Sequence) and all(isinstance(a, str) for a in activation)):
        raise SpecError(f"build: activation must be a name or a list of names, got "
                        f"{str(activation)[:40]}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)
                             or not 0 <= seed <= MAX_SEED):
        raise SpecError(f"build: seed {seed!r} must be a whole number in [0, {MAX_SEED}] or None")
    spec = ArchSpec.parse(arch, activation, head)
    if seed is None:
        return build_spec(spec)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_spec(spec)


