"""Decision regions drawn exactly, at every panel's own pixel size.

A scene puts ``ExactRegions(trace).layer()`` in ``Space.regions``; the backend asks it to paint
the part of the plane it shows at the pixel size it draws, and gets the network's class at
every pixel centre (:meth:`spacefold.trace.Trace.region_map`), with the boundary pixels mixed
from 4×4 subpixel samples (antialiased). Each zoom level is computed for its own view.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import numpy as np

from spacefold.colors import CLASS_COLORS
from spacefold.render.frame import Extent, RegionLayer
from spacefold.trace import Trace
from spacefold.trace.regions import region_coverage

LEVELS = 24          # opacity levels a fade is drawn with (each one layer object, reused)


class ExactRegions:
    """The decision regions of ``trace``'s network over ``extent`` (None: wherever the panel
    looks), in the class colours times ``dim`` at opacity ``alpha``."""

    def __init__(self, trace: Trace, extent: Extent | None = None, alpha: float = 0.33,
                 dim: float = 0.55, ss: int = 4, keep: int = 6) -> None:
        if trace.stages[0].dim != 2:
            raise ValueError("exact region maps need a network with 2-D input")
        self.trace, self.extent, self.alpha, self.dim, self.ss = trace, extent, alpha, dim, ss
        self.keep = keep
        self._rgb: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self.level = lru_cache(maxsize=LEVELS + 1)(self._level)

    def rgb(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        """(H, W, 3) float32 colours of the regions of ``extent`` at ``size`` (row 0 = ymin),
        the boundary pixels mixed by the share of each class they cover."""
        key = (tuple(round(float(v), 12) for v in extent), tuple(size))
        hit = self._rgb.get(key)
        if hit is not None:
            self._rgb.move_to_end(key)
            return hit
        cov = region_coverage(self.trace, extent, size, ss=self.ss)
        palette = (CLASS_COLORS * self.dim).astype(np.float32)
        ncol = len(palette)
        rgb = palette[cov.labels % ncol]
        if len(cov.edges):
            frac = cov.fractions
            # classes beyond the palette reuse its colours, as the labels do
            pal = palette[np.arange(frac.shape[1]) % ncol]
            rgb.reshape(-1, 3)[cov.edges] = (frac @ pal).astype(np.float32)
        self._rgb[key] = rgb
        while len(self._rgb) > self.keep:
            self._rgb.popitem(last=False)
        return rgb

    def paint(self, extent: Extent, size: tuple[int, int], alpha: float) -> np.ndarray:
        rgb = self.rgb(extent, size)
        out = np.empty(rgb.shape[:2] + (4,), dtype=np.uint8)
        out[..., :3] = np.round(rgb * 255)
        out[..., 3] = round(alpha * 255)
        return out

    def layer(self, fade: float = 1.0) -> RegionLayer:
        """The regions at ``fade`` × their opacity (quantised to :data:`LEVELS` levels, so a
        fade reuses the same few layer objects and the backends' caches)."""
        return self.level(round(min(max(fade, 0.0), 1.0) * LEVELS))

    def _level(self, level: int) -> RegionLayer:
        a = self.alpha * level / LEVELS
        return RegionLayer(lambda ext, size: self.paint(ext, size, a), self.extent)
