"""Activation modules and ``build``: a spec → ``nn.Sequential`` (this module imports torch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from spacefold.model.arch import LEAKY_SLOPE, MAX_LAYERS, MAX_WIDTH, ArchSpec, parse_arch

__all__ = ["ACTIVATIONS", "MAX_LAYERS", "MAX_WIDTH", "ArchSpec", "Sine", "build", "build_spec",
           "parse_arch"]


class Sine(nn.Module):
    """``sin(x)`` as a module, so sine networks are plain ``nn.Sequential``s too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "sin": Sine,
    "tanh": nn.Tanh,
}


def build_spec(spec: ArchSpec) -> nn.Sequential:
    """Linear, activation, ..., Linear (+ head) — the layout ``ArchSpec.module_layout`` names."""
    layers: list[nn.Module] = []
    for i in range(len(spec.widths) - 1):
        layers.append(nn.Linear(spec.widths[i], spec.widths[i + 1]))
        if i < len(spec.activations):
            layers.append(ACTIVATIONS[spec.activations[i]]())
    if spec.head == "sigmoid":
        layers.append(nn.Sigmoid())
    elif spec.head == "softmax":
        layers.append(nn.Softmax(dim=-1))
    return nn.Sequential(*layers)


def build(arch: str, activation: str | Sequence[str] = "relu", head: str | None = None,
          seed: int | None = 0) -> nn.Sequential:
    """``build("2-100-2-5", activation="relu")`` → an ``nn.Sequential`` of Linear + activations.

    ``seed`` makes the initial weights reproducible (``None`` leaves torch's RNG alone).
    """
    spec = ArchSpec.parse(arch, activation, head)
    if seed is None:
        return spec.build()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return spec.build()


