"""What :func:`spacefold.trace.trace` accepts as points and labels: numpy arrays, lists or
torch tensors (torch is never imported here), checked."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from spacefold.errors import TraceError


def as_labels(labels: Any, n: int) -> np.ndarray:
    """(n,) int64 class numbers 0, 1, ... from ``labels`` ((n,) or (n, 1), any numeric type
    holding whole numbers)."""
    try:
        y = as_points(labels)
    except TraceError:
        raise TraceError("labels must be class numbers 0, 1, ... (a numeric array)") from None
    if y.shape not in ((n,), (n, 1)):
        raise TraceError(f"labels must be ({n},), one per point, got {tuple(y.shape)}")
    y = y.ravel()
    if not np.isfinite(y).all() or (y != np.round(y)).any() or (y < 0).any():
        raise TraceError("labels must be class numbers 0, 1, ... (whole numbers, not negative)")
    return y.astype(np.int64)


def as_points(x: Any) -> np.ndarray:
    torch = sys.modules.get("torch")   # a tensor means torch is loaded; never import it here
    if torch is not None and isinstance(x, torch.Tensor):
        return np.asarray(x.detach().cpu().double().numpy())
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TraceError(f"x must be a numeric array or tensor, got {type(x).__name__}") \
            from None
