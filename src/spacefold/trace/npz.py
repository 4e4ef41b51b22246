"""A trace's raw stage data as one ``.npz`` file (:meth:`~spacefold.trace.core.Trace.to_npz`),
for plotting it yourself: plain arrays, no pickle, written through a temp file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spacefold._atomic import atomic_path
from spacefold.trace.stage import Regions, Stage


def save_npz(path: str | Path, stages: list[Stage], labels: np.ndarray | None,
             regions: Regions | None) -> Path:
    """``stage{k}_values``, ``stage{k}_grid``, names, kinds, labels, ``sources`` (module /
    node names), ``parents`` ((S, P) int, -1 where unused) and the regions, into ``path``."""
    width = max([len(s.parents) for s in stages] + [1])
    parents = np.full((len(stages), width), -1, dtype=np.int64)
    for s in stages:
        parents[s.index, :len(s.parents)] = s.parents
    arrays: dict[str, Any] = {  # name → np.ndarray
        "names": np.array([s.name for s in stages]),
        "kinds": np.array([s.kind for s in stages]),
        "sources": np.array([s.source for s in stages]),
        "parents": parents,
    }
    for s in stages:
        arrays[f"stage{s.index}_values"] = s.values
        if s.grid is not None:
            arrays[f"stage{s.index}_grid"] = s.grid
    if labels is not None:
        arrays["labels"] = labels
    if regions is not None:
        arrays["regions_labels"] = regions.labels
        arrays["regions_extent"] = np.array(regions.extent)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return Path(path)
