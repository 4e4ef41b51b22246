"""Point colours kept between traces of the same points.

A trace's point colours (:meth:`~spacefold.trace.core.Trace.colors`) depend only on the input
points, their labels, the colour mode and the palette in use, not on the network. A caller
that traces new networks on the same data again and again (the live app, once an update)
hands :func:`~spacefold.trace.core.trace` one :class:`ColorCache`, and the colours are
computed once per dataset:

>>> import numpy as np
>>> cache = ColorCache()
>>> x = np.zeros((3, 2)); calls = []
>>> def compute(by: str) -> np.ndarray:
...     calls.append(by)
...     return np.ones((3, 3))
>>> _ = cache.get("position", x, None, compute); _ = cache.get("position", x, None, compute)
>>> calls
['position']
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

import numpy as np

from spacefold.colors import palette


class ColorCache:
    """``(mode, palette, input points, labels)`` → (N, 3) RGB, at most ``size`` entries
    (the oldest goes first). Safe to share between threads."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._got: dict[tuple[str, bytes], np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._got)

    def clear(self) -> None:
        with self._lock:
            self._got.clear()

    def get(self, by: str, x: np.ndarray, labels: np.ndarray | None,
            compute: Callable[[str], np.ndarray]) -> np.ndarray:
        """The colours ``compute(by)`` gives for points ``x`` ((N, D) input) and ``labels``
        ((N,) or None), computed on the first call only; a copy, so callers may edit it."""
        key = (by, _digest(x, labels))
        with self._lock:
            got = self._got.get(key)
        if got is None:
            got = compute(by)
            with self._lock:
                while len(self._got) >= self.size:
                    del self._got[next(iter(self._got))]
                self._got[key] = got
        return got.copy()


def _digest(x: np.ndarray, labels: np.ndarray | None) -> bytes:
    """What the colours depend on, hashed: the points (shape, dtype, bytes), the labels and
    the class palette in use (:func:`spacefold.colors.look`)."""
    h = hashlib.sha1(usedforsecurity=False)
    for a in (np.asarray(x), palette()) + (() if labels is None else (np.asarray(labels),)):
        h.update(f"{a.shape}{a.dtype}|".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(b"labels" if labels is not None else b"none")
    return h.digest()
