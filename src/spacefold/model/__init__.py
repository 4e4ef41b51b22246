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

from typing import TYPE_CHECKING

from spacefold._lazy import attach as _attach

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


__getattr__, __dir__ = _attach(__name__, _EXPORTS)
