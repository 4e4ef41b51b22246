"""Architecture strings ("2-100-2-5") and activation names → ``nn.Sequential``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from spacefold.errors import SpecError

MAX_WIDTH = 4096
MAX_LAYERS = 32


class Sine(nn.Module):
    """``sin(x)`` as a module, so sine networks are plain ``nn.Sequential``s too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "sin": Sine,
    "tanh": nn.Tanh,
}


@dataclass(frozen=True)
class ArchSpec:
    """Layer widths and one activation per hidden layer; ``head`` is applied after the last
    Linear ("sigmoid", "softmax") or ``None`` for raw logits.

    >>> ArchSpec.parse("2-100-2-5", "relu").to_dict()["widths"]
    [2, 100, 2, 5]
    """

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    head: str | None = None

    @staticmethod
    def parse(arch: str, activation: str | Sequence[str] = "relu",
              head: str | None = None) -> ArchSpec:
        widths = parse_arch(arch)
        n_hidden = len(widths) - 2
        if isinstance(activation, str):
            acts = tuple(a.strip() for a in activation.split(",")) if "," in activation \
                else (activation,) * n_hidden
        else:
            acts = tuple(activation)
        if len(acts) != n_hidden:
            raise SpecError(f"{len(acts)} activations given for {n_hidden} hidden layers "
                            f"of {arch!r}; give one name for all, or one per hidden layer")
        for a in acts:
            _check_activation(a)
        if head is not None and head not in ("sigmoid", "softmax"):
            raise SpecError(f"unknown head {head!r}; choose sigmoid, softmax or none")
        return ArchSpec(widths, acts, head)

    @property
    def arch(self) -> str:
        return "-".join(str(w) for w in self.widths)

    def to_dict(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "activations": list(self.activations),
                "head": self.head}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ArchSpec:
        try:
            widths = [int(w) for w in d["widths"]]
            acts = [str(a) for a in d["activations"]]
            head = d.get("head")
        except (KeyError, TypeError, ValueError) as e:
            raise SpecError(f"bad model spec {d!r}: {e}") from None
        return ArchSpec.parse("-".join(map(str, widths)), acts, head)

    def build(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i in range(len(self.widths) - 1):
            layers.append(nn.Linear(self.widths[i], self.widths[i + 1]))
            if i < len(self.activations):
                layers.append(ACTIVATIONS[self.activations[i]]())
        if self.head == "sigmoid":
            layers.append(nn.Sigmoid())
        elif self.head == "softmax":
            layers.append(nn.Softmax(dim=-1))
        return nn.Sequential(*layers)


def parse_arch(arch: str) -> tuple[int, ...]:
    """``"2-100-2-5"`` → ``(2, 100, 2, 5)``; every width in [1, 4096], at least two."""
    parts = str(arch).strip().split("-")
    if len(parts) < 2:
        raise SpecError(f"architecture {arch!r} needs at least input and output widths, "
                        f"like '2-100-5'")
    widths = []
    for p in parts:
        # ASCII decimals only ("²" is a digit that int() refuses); the length cap keeps
        # int() away from its 4300-digit limit (any longer width is out of range anyway).
        if not (p.strip().isascii() and p.strip().isdecimal() and len(p.strip()) <= 9):
            raise SpecError(f"architecture {arch!r}: {p!r} is not a width; widths are "
                            f"integers 1-{MAX_WIDTH} joined by '-', like '2-100-2-5'")
        w = int(p)
        if not 1 <= w <= MAX_WIDTH:
            raise SpecError(f"architecture {arch!r}: width {w} must be in [1, {MAX_WIDTH}]")
        widths.append(w)
    if len(widths) - 1 > MAX_LAYERS:
        raise SpecError(f"architecture {arch!r}: {len(widths) - 1} layers, at most {MAX_LAYERS}")
    return tuple(widths)


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


def _check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise SpecError(f"unknown activation {name!r}; choose one of: "
                        f"{', '.join(sorted(ACTIVATIONS))}")
