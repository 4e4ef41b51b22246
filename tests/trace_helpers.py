"""Networks and traces the trace tests share: a small traced net, and random MLPs built
straight in torch (outside sf.build) with their weights scaled."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

import spacefold as sf

SMALL = sf.GridSpec(lines=5, verts=25, regions=40)


def small_trace(arch: str = "2-3-2", activation: str = "tanh", n: int = 80, seed: int = 0,
                grid: sf.GridSpec | bool = SMALL, head: str | None = None
                ) -> tuple[nn.Module, sf.Dataset, sf.Trace]:
    """``(model, data, trace)``: an sf.build net on moons, traced."""
    data = sf.dataset("moons", n=n, seed=seed)
    model = sf.build(arch, activation=activation, head=head, seed=seed)
    return model, data, sf.trace(model, data, grid=grid)


def random_mlp(widths: list[int], acts: list[str], seed: int, scale: float,
               make: Mapping[str, Callable[[], nn.Module]],
               head: Callable[[], nn.Module] | None = None) -> nn.Sequential:
    """Linear layers of ``widths`` (weights and biases of torch's init times ``scale``), the
    activation ``make[acts[i % len(acts)]]()`` after each hidden one, then ``head()``."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1])
        with torch.no_grad():
            lin.weight.mul_(scale)
            lin.bias.mul_(scale)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(make[acts[i % len(acts)]]())
    if head is not None:
        layers.append(head())
    return nn.Sequential(*layers)
