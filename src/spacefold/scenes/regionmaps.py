"""Decision regions drawn exactly, at every panel's own pixel size.

A scene puts ``ExactRegions(trace).layer()`` in ``Space.regions``; the backend asks it to paint
the part of the plane it shows at the pixel size it draws, and gets the network's class at
every pixel centre (:meth:`spacefold.trace.Trace.region_map`), with the boundary pixels mixed
from 4×4 subpixel samples (antialiased). Each zoom level is computed for its own view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from spacefold.colors import palette, theme
from spacefold.render.frame import Extent, RegionLayer
from spacefold.trace import Trace
from spacefold.trace.regions import region_coverage

LEVELS = 24          # opacity levels a fade is drawn with (each one layer object, reused)


class _Painted(ABC):
    """A colour picture of the plane painted for each view the backend asks for (subclasses
    give ``colours``), at opacity ``alpha``; calling it with a fade in [0, 1] gives its layer at
    that share of the opacity (quantised to :data:`LEVELS` levels, so a fade reuses the same
    few layer objects and the backends' caches)."""

    def __init__(self, alpha: float, extent: Extent | None, keep: int) -> None:
        self.alpha, self.extent, self.keep = alpha, extent, keep
        self._rgba: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self.level = lru_cache(maxsize=LEVELS + 1)(self._level)

    @abstractmethod
    def colours(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        """(H, W, 4) uint8 opaque colours of ``extent`` at ``size`` (row 0 = ymin): what
        the subclass paints (the exact classes, or the activation patterns)."""

    def rgba(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        """(H, W, 4) uint8 colours of ``extent`` at ``size`` (row 0 = ymin), opaque and
        read-only, the last ``keep`` views cached."""
        key = (tuple(round(float(v), 12) for v in extent), tuple(size))
        hit = self._rgba.get(key)
        if hit is not None:
            self._rgba.move_to_end(key)
            return hit
        out = self.colours(extent, size)
        out.flags.writeable = False
        self._rgba[key] = out
        while len(self._rgba) > self.keep:
            self._rgba.popitem(last=False)
        return out

    def paint(self, extent: Extent, size: tuple[int, int], alpha: float) -> np.ndarray:
        """The colours at opacity ``alpha``: the cached picture with its alpha set (a fade's
        levels cost a copy each, not a conversion)."""
        src = self.rgba(extent, size)
        out = np.empty_like(src)
        # the cached alpha bytes are all 255: xor with (255 ^ a) in the alpha byte sets them to
        # a in the same pass as the copy (a 32-bit word per pixel, little- or big-endian)
        flip = np.zeros(1, dtype=np.uint32)
        flip.view(np.uint8)[3] = 255 ^ round(alpha * 255)
        np.bitwise_xor(src.view(np.uint32), flip[0], out=out.view(np.uint32))
        return out

    def __call__(self, fade: float = 1.0) -> RegionLayer:
        return self.layer(fade)

    def layer(self, fade: float = 1.0) -> RegionLayer:
        return self.level(round(min(max(fade, 0.0), 1.0) * LEVELS))

    def _level(self, level: int) -> RegionLayer:
        a = self.alpha * level / LEVELS
        return RegionLayer(lambda ext, size: self.paint(ext, size, a), self.extent)


class ExactRegions(_Painted):
    """The decision regions of ``trace``'s network over ``extent`` (None: wherever the panel
    looks), in the class colours times ``dim`` at opacity ``alpha``; with ``start``, the
    regions of the rest of the network in the plane of 2-D stage ``start``. The boundary
    pixels are mixed by the share of each class they cover (ss×ss samples)."""

    def __init__(self, trace: Trace, extent: Extent | None = None, alpha: float = 0.33,
                 dim: float = 0.55, ss: int = 4, keep: int = 6, start: int = 0) -> None:
        if trace.stages[start].dim != 2:
            raise ValueError(f"exact region maps need a 2-D plane; stage {start} is "
                             f"{trace.stages[start].dim}-D")
        super().__init__(alpha, extent, keep)
        self.trace, self.dim, self.ss, self.start = trace, dim, ss, start

    def colours(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        cov = region_coverage(self.trace, extent, size, ss=self.ss, start=self.start)
        pal = theme().region(palette(), self.dim).astype(np.float32)
        ncol = len(pal)
        # most pixels are inside a region: one 4-byte gather each from the palette's words
        # (classes beyond the palette wrap round it, here and in the mixing below)
        words = _words(_opaque8(pal))
        out = words.take(cov.labels, mode="wrap")
        if len(cov.edges):
            frac = cov.fractions
            pal = pal[np.arange(frac.shape[1]) % ncol]
            out.ravel()[cov.edges] = _words(_opaque8((frac @ pal).astype(np.float32)))
        return out.view(np.uint8).reshape(out.shape + (4,))


class PatternRegions(_Painted):
    """The linear regions of a piecewise-linear network (up to layer ``layers``), each filled
    with a colour of its own, painted at the panel's pixels (the activation pattern at every
    pixel centre, :func:`spacefold.trace.pieces.pattern_map`)."""

    def __init__(self, trace: Trace, layers: int | None = None, alpha: float = 0.4,
                 keep: int = 4, extent: Extent | None = None) -> None:
        super().__init__(alpha, extent, keep)
        self.trace, self.layers = trace, layers

    def colours(self, extent: Extent, size: tuple[int, int]) -> np.ndarray:
        from spacefold.trace.pieces import pattern_map

        ids = pattern_map(self.trace, extent, size, self.layers).view(np.uint64)
        # a hue per pattern from its id: muted, distinct from its neighbours' in all but luck
        hue = ((ids >> np.uint64(11)) % np.uint64(997)).astype(np.float64) / 997.0
        light = 0.30 + 0.25 * (((ids >> np.uint64(29)) % np.uint64(7)).astype(np.float64) / 6)
        k = np.stack([(hue * 6 + o) % 6 for o in (5.0, 3.0, 1.0)], axis=-1)
        rgb = light[..., None] * (1 - 0.55 * np.clip(np.minimum(k, 4 - k), 0, 1))
        return _opaque8(rgb.astype(np.float32))


def _opaque8(rgb: np.ndarray) -> np.ndarray:
    """Colours (..., 3) in [0, 1] as opaque RGBA bytes (..., 4), rounded."""
    out = np.empty(rgb.shape[:-1] + (4,), dtype=np.uint8)
    np.rint(rgb * 255, out=out[..., :3], casting="unsafe")
    out[..., 3] = 255
    return out


def _words(rgba: np.ndarray) -> np.ndarray:
    """RGBA bytes (..., 4) as one uint32 word per colour."""
    return np.ascontiguousarray(rgba).view(np.uint32)[..., 0]


class ZoomedRegions:
    """Exact regions for a view that zooms out: one map per zoom level (``extents``, each
    containing the last), computed at the pixel density the panel first shows it at and cut
    to every later view of that level (one source pixel per display pixel, nearest sample).

    A level's map evaluates only its ring, the pixels outside the level before it; the inside
    is taken from the earlier levels' maps, each pixel from the level whose ring holds it
    (those maps are denser there), so a zoom costs about one panel of pixels per level step
    instead of a whole map."""

    def __init__(self, regions: ExactRegions, extents: list[Extent]) -> None:
        self.regions, self.extents = regions, extents
        self._maps: dict[int, tuple[int, int, np.ndarray]] = {}   # level → nx, ny, (ny, nx)
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
            got = (nx, ny, self._build(level, nx, ny))
            self._maps[level] = got
        nx, ny, src = got
        cols = _sample(ext[0], ext[1], w, x0, x1, nx)
        rows = _sample(ext[2], ext[3], h, y0, y1, ny)
        pix = src.take(rows, axis=0).take(cols, axis=1)       # one 4-byte gather per pixel
        return pix.view(np.uint8).reshape(h, w, 4)

    def _build(self, level: int, nx: int, ny: int) -> np.ndarray:
        """(ny, nx) RGBA pixels as uint32 of level ``level``'s map."""
        ext = self.extents[level]
        alpha = self.regions.alpha
        inner = [k for k in sorted(self._maps, reverse=True) if k < level
                 and _inside(self.extents[k], ext)]
        box = _pixels_inside(self.extents[inner[0]], ext, nx, ny) if inner else None
        if box is None:
            img = self.regions.paint(ext, (nx, ny), alpha)
            return np.ascontiguousarray(img).view(np.uint32)[..., 0]
        out = np.empty((ny, nx), dtype=np.uint32)
        r0, r1, c0, c1 = box
        # the ring as four strips, each grown by a pixel so its boundary pixels see their
        # neighbours (their antialiasing is the full map's), then cut back
        for a, b, c, d in ((0, r0, 0, nx), (r1, ny, 0, nx), (r0, r1, 0, c0), (r0, r1, c1, nx)):
            if a >= b or c >= d:
                continue
            ga, gb, gc, gd = max(a - 1, 0), min(b + 1, ny), max(c - 1, 0), min(d + 1, nx)
            sub = _sub_extent(ext, nx, ny, ga, gb, gc, gd)
            img = self.regions.paint(sub, (gd - gc, gb - ga), alpha)
            strip = np.ascontiguousarray(img).view(np.uint32)[..., 0]
            out[a:b, c:d] = strip[a - ga:b - ga, c - gc:d - gc]
        # the inside, level by level inwards, each pixel from the ring that holds it
        xs = ext[0] + (np.arange(nx) + 0.5) * (ext[1] - ext[0]) / nx
        ys = ext[2] + (np.arange(ny) + 0.5) * (ext[3] - ext[2]) / ny
        for k in inner:
            kb = _pixels_inside(self.extents[k], ext, nx, ny)
            if kb is None:
                break
            a, b, c, d = kb
            kx0, kx1, ky0, ky1 = self.extents[k]
            knx, kny, src = self._maps[k]
            cols = np.clip(((xs[c:d] - kx0) / (kx1 - kx0) * knx).astype(np.int64), 0, knx - 1)
            rows = np.clip(((ys[a:b] - ky0) / (ky1 - ky0) * kny).astype(np.int64), 0, kny - 1)
            out[a:b, c:d] = src.take(rows, axis=0).take(cols, axis=1)
        return out


def _sample(v0: float, v1: float, n: int, e0: float, e1: float, m: int) -> np.ndarray:
    """Indices (n,) of the source pixels (m over [e0, e1]) under n display pixel centres
    over [v0, v1]."""
    c = (v0 + (np.arange(n) + 0.5) * (v1 - v0) / n - e0) / (e1 - e0) * m
    return np.clip(c.astype(np.int64), 0, m - 1)


def _inside(a: Extent, b: Extent) -> bool:
    return b[0] <= a[0] and a[1] <= b[1] and b[2] <= a[2] and a[3] <= b[3]


def _pixels_inside(inner: Extent, ext: Extent, nx: int, ny: int
                   ) -> tuple[int, int, int, int] | None:
    """(row0, row1, col0, col1): the pixels of ``ext`` at (nx, ny) whose centres lie inside
    ``inner``; None when fewer than 2 × 2."""
    px, py = (ext[1] - ext[0]) / nx, (ext[3] - ext[2]) / ny
    c0 = max(0, int(np.ceil((inner[0] - ext[0]) / px - 0.5)))
    c1 = min(nx, int(np.floor((inner[1] - ext[0]) / px - 0.5)) + 1)
    r0 = max(0, int(np.ceil((inner[2] - ext[2]) / py - 0.5)))
    r1 = min(ny, int(np.floor((inner[3] - ext[2]) / py - 0.5)) + 1)
    if c1 - c0 < 2 or r1 - r0 < 2:
        return None
    return r0, r1, c0, c1


def _sub_extent(ext: Extent, nx: int, ny: int, r0: int, r1: int, c0: int,
                c1: int) -> Extent:
    """The extent of pixels rows r0..r1, columns c0..c1 of ``ext`` at (nx, ny)."""
    px, py = (ext[1] - ext[0]) / nx, (ext[3] - ext[2]) / ny
    return (ext[0] + c0 * px, ext[0] + c1 * px, ext[2] + r0 * py, ext[2] + r1 * py)
