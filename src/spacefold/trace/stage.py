"""The records of a trace: one :class:`Stage` per step of the computation, the decision
:class:`Regions` of the input plane, and :class:`TraceLike`, what the exact maths of the plane
(:mod:`~spacefold.trace.pieces`, :mod:`~spacefold.trace.regions`) read of a trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from spacefold.trace.geometry import Extent
from spacefold.trace.ops import Op


@dataclass(frozen=True)
class Stage:
    """One step of the computation. ``values`` (N, dim) are the exact numbers for the data."""

    index: int
    name: str                    # "layer 1 · W·x"
    kind: str                    # "input", "linear", "bias" or an activation name
    layer: int                   # 1-based Linear index (0 for the input)
    dim: int
    values: np.ndarray = field(repr=False)                # (N, dim) float32
    grid: np.ndarray | None = field(default=None, repr=False)  # (L, V, dim) float32
    source: str = ""             # module as named_modules() names it ("blocks.0.fc"), or fx node
    parent: int | tuple[int, ...] | None = None   # stage(s) it is computed from; None: input

    @property
    def parents(self) -> tuple[int, ...]:
        """The stages this one reads: () for the input, two or more for a sum / concat."""
        if self.parent is None:
            return ()
        return self.parent if isinstance(self.parent, tuple) else (self.parent,)

    @property
    def base(self) -> int:
        """The stage it moves from in :meth:`Trace.at`: its parent, or for a sum / concat the
        branch computed last (the highest index)."""
        return max(self.parents) if self.parents else 0

    @property
    def short(self) -> str:
        """The stage's own part of the name: "W·x", "+b", "ReLU", "input"."""
        return self.name.split(" · ")[-1]


@dataclass(frozen=True)
class Regions:
    """The network's decision on a res×res raster of the input plane (row 0 = ymin)."""

    extent: Extent
    labels: np.ndarray      # (res, res) int64 class per pixel
    outputs: np.ndarray     # (res, res, d_out) float32 final-stage values

    @property
    def res(self) -> int:
        return int(self.labels.shape[0])


class TraceLike(Protocol):
    """What pieces.py and regions.py read of a :class:`~spacefold.trace.core.Trace`: they sit
    below it (its ``region_map`` / ``linear_regions`` / ``decision_boundaries`` call them), so
    they name the part they use rather than the class."""

    stages: list[Stage]
    ops: list[Op]
    classes: int

    def predict(self, values: np.ndarray | None = None) -> np.ndarray: ...

    def carry(self, points: np.ndarray, start: int = 0,
              stop: int | None = None) -> list[np.ndarray]: ...
