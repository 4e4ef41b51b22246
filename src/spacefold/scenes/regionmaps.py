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

from spacefold.colors import palette, theme
from spacefold.render.frame import Extent, RegionLayer
from spacefold.trace import Trace
from spacefold.trace.regions import region_coverage

LEVELS = 24          # opacity levels a fade is drawn with (each one layer object, reused)


class ExactRegions:
    """The decision regions of ``trace``'s network over ``extent`` (None: wherever the panel
    looks), in the class colours times ``dim`` at opacity ``alpha``; with ``start``, the
    regions of the rest of the network in the plane of 2-D stage ``start``. Calling it with a
    fade in [0, 1] gives the layer at that share of its opacity."""

    def __init__(self, trace: Trace, extent: Extent | None = None, alpha: float = 0.33,
                 dim: float = 0.55, ss: int = 4, keep: int = 6, start: int = 0) -> None:
        if trace.stages[start].dim != 2:
            raise ValueError(f"exact region maps need a 2-D plane; stage {start} is "
                             f"{trace.stages[start].dim}-D")
        self.trace, self.extent, self.alpha, self.dim, self.ss = trace, extent, alpha, dim, ss
        self.start = start
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
        cov = region_coverage(self.trace, extent, size, ss=self.ss, start=self.start)
        pal = theme().region(palette(), self.dim).astype(np.float32)
        ncol = len(pal)
        rgb = pal[cov.labels % ncol]
        if len(cov.edges):
            frac = cov.fractions
            # classes beyond the palette reuse its colours, as the labels do
            pal = pal[np.arange(frac.shape[1]) % ncol]
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

    def __call__(self, fade: float = 1.0) -> RegionLayer:
        return self.layer(fade)

    def layer(self, fade: float = 1.0) -> RegionLayer:
        """The regions at ``fade`` × their opacity (quantised to :data:`LEVELS` levels, so a
        fade reuses the same few layer objects and the backends' caches)."""
        return self.level(round(min(max(fade, 0.0), 1.0) * LEVELS))

    def _level(self, level: int) -> RegionLayer:
        a = self.alpha * level / LEVELS
        return RegionLayer(lambda ext, size: self.paint(ext, size, a), self.extent)


class ZoomedRegions:
    """Exact regions for a view that zooms: one map per zoom level (``extents``, each wider
    than the last), computed once at the pixel density the panel first shows it at and cut to
    every later view of that level (at most one source pixel per display pixel, nearest
    sample), so a zoom costs one map per level instead of one per frame."""

    def __init__(self, regions: ExactRegions, extents: list[Extent]) -> None:
        self.regions, self.extents = regions, extents
        self._maps: dict[int, tuple[int, int, np.ndarray]] = {}
        self.layers = [self._layer(i) for i in range(len(extents))]

    def _layer(self, level: int) -> RegionLayer:
        return RegionLayer(lambda ext, size: self.paint(level, ext, size), self.extents[level])

    def paint(self, level: int, ext: Extent, size: tuple[int, int]) -> np.ndarray:
        x0, x1, y0, y1 = self.extents[level]
        w, h = size
        need_x = w * (x1 - x0) / max(ext[1] - ext[0], 1e-300)     # level pixels for 1:1
        need_y = h * (y1 - y0) / max(ext[3] - ext[2], 1e-300)
        got = self._maps.get(level)
        if got is None or got[0] < need_x - 0.5 or got[1] < need_y - 0.5:
            nx = min(4096, max(2, int(np.ceil(need_x))))
            ny = min(4096, max(2, int(np.ceil(need_y))))
            img = self.regions.paint(self.extents[level], (nx, ny), self.regions.alpha)
            got = (nx, ny, np.ascontiguousarray(img).view(np.uint32)[..., 0])   # (ny, nx)
            self._maps[level] = got
        nx, ny, src = got
        cx = ((ext[0] + (np.arange(w) + 0.5) * (ext[1] - ext[0]) / w - x0) / (x1 - x0) * nx)
        cy = ((ext[2] + (np.arange(h) + 0.5) * (ext[3] - ext[2]) / h - y0) / (y1 - y0) * ny)
        cols = np.clip(cx.astype(np.int64), 0, nx - 1)
        rows = np.clip(cy.astype(np.int64), 0, ny - 1)
        pix = src.take(rows, axis=0).take(cols, axis=1)       # one 4-byte gather per pixel
        return pix.view(np.uint8).reshape(h, w, 4)


class PatternRegions:
    """The linear regions of a piecewise-linear network (up to layer ``layers``), each filled
    with a colour of its own, painted at the panel's pixels (the activation pattern at every
    pixel centre, :func:`spacefold.trace.pieces.pattern_map`)."""

    def __init__(self, trace: Trace, layers: int | None = None, alpha: float = 0.4,
                 keep: int = 4, extent: Extent | None = None) -> None:
        self.trace, self.layers, self.alpha, self.keep = trace, layers, alpha, keep
        self.extent = extent
        self._maps: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self.level = lru_cache(maxsize=LEVELS + 1)(self._level)

    def rgb(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        from spacefold.trace.pieces import pattern_map

        key = (tuple(round(float(v), 12) for v in extent), tuple(size))
        hit = self._maps.get(key)
        if hit is not None:
            return hit
        ids = pattern_map(self.trace, extent, size, self.layers).view(np.uint64)
        # a hue per pattern from its id: muted, distinct from its neighbours' in all but luck
        hue = ((ids >> np.uint64(11)) % np.uint64(997)).astype(np.float64) / 997.0
        light = 0.30 + 0.25 * (((ids >> np.uint64(29)) % np.uint64(7)).astype(np.float64) / 6)
        k = np.stack([(hue * 6 + o) % 6 for o in (5.0, 3.0, 1.0)], axis=-1)
        rgb = light[..., None] * (1 - 0.55 * np.clip(np.minimum(k, 4 - k), 0, 1))
        out = rgb.astype(np.float32)
        self._maps[key] = out
        while len(self._maps) > self.keep:
            self._maps.popitem(last=False)
        return out

    def paint(self, extent: Extent, size: tuple[int, int], alpha: float) -> np.ndarray:
        rgb = self.rgb(extent, size)
        out = np.empty(rgb.shape[:2] + (4,), dtype=np.uint8)
        out[..., :3] = np.round(rgb * 255)
        out[..., 3] = round(alpha * 255)
        return out

    def __call__(self, fade: float = 1.0) -> RegionLayer:
        return self.level(round(min(max(fade, 0.0), 1.0) * LEVELS))

    def _level(self, level: int) -> RegionLayer:
        a = self.alpha * level / LEVELS
        return RegionLayer(lambda ext, size: self.paint(ext, size, a), self.extent)
