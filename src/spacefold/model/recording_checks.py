"""What a recording file (:meth:`Recorder.load`) must hold besides its weights: whole epoch
numbers, and points checked as a data file's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import SpecError
from spacefold.limits import MAX_LABEL


def whole(v: Any) -> int:
    """An epoch number from a recording's JSON: an integer (not a fraction, not a bool)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
        raise ValueError(f"epoch {v!r} is not a whole number")
    return int(v)


def recorded_data(arrays: Mapping[str, np.ndarray], recipe: Any, d_in: int,
                   where: str) -> Dataset | None:
    """The points a recording stores (None when it stores none), checked as a data file's."""
    if "data.x" not in arrays and "data.y" not in arrays:
        return None
    if "data.x" not in arrays or "data.y" not in arrays:
        raise SpecError(f"{where}: it stores data.x or data.y without the other")
    from spacefold.data.files import validated

    x, y = arrays["data.x"], arrays["data.y"]
    if x.ndim != 2 or y.shape != (len(x),):
        raise SpecError(f"{where}: data.x must be (N, D) and data.y (N,), got {x.shape}, "
                        f"{y.shape}")
    ds = validated(x, y, "data", f"{where}: its data")
    if ds.dim != d_in:
        raise SpecError(f"{where}: its data has {ds.dim} features but its network takes {d_in}")
    r = recipe if isinstance(recipe, dict) else {}
    name, classes, params = r.get("name", "data"), r.get("classes", ds.classes), \
        r.get("params") or {}
    if not isinstance(name, str) or not isinstance(params, dict):
        raise SpecError(f"{where}: its data recipe's name must be text and its params an "
                        f"object")
    if isinstance(classes, bool) or not isinstance(classes, int) or \
            not ds.classes <= classes <= MAX_LABEL + 1:
        raise SpecError(f"{where}: its data recipe says {str(classes)[:20]!r} classes; its "
                        f"labels need a whole number from {ds.classes} to {MAX_LABEL + 1}")
    return Dataset(ds.x, ds.y, name[:80], classes, dict(params))
