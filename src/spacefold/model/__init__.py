"""Networks: architecture specs, ``build``, ``train`` and safetensors checkpoints.

>>> import spacefold as sf
>>> sf.build("2-3-2", activation="relu")
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
  (2): Linear(in_features=3, out_features=2, bias=True)
)

Names load on first use: specs, checkpoints and :class:`Network` need no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ACTIVATIONS": "spacefold.model.torch_build",
    "ArchSpec": "spacefold.model.spec",
    "History": "spacefold.model.training",
    "Network": "spacefold.model.network",
    "Recorder": "spacefold.model.recorder",
    "Sine": "spacefold.model.torch_build",
    "build": "spacefold.model.torch_build",
    "load": "spacefold.model.checkpoint",
    "load_model": "spacefold.model.intake",
    "load_network": "spacefold.model.checkpoint",
    "parse_arch": "spacefold.model.spec",
    "save": "spacefold.model.checkpoint",
    "train": "spacefold.model.training",
}

__all__ = ["ACTIVATIONS", "ArchSpec", "History", "Network", "Recorder", "Sine", "build", "load",
           "load_model", "load_network", "parse_arch", "save", "train"]

if TYPE_CHECKING:
    from spacefold.model.checkpoint import load, load_network, save
    from spacefold.model.intake import load_model
    from spacefold.model.network import Network
    from spacefold.model.recorder import Recorder
    from spacefold.model.spec import ArchSpec, parse_arch
    from spacefold.model.torch_build import ACTIVATIONS, Sine, build
    from spacefold.model.training import History, train


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spacefold.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
