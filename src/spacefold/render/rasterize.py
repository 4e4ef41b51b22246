"""Antialiased discs and polylines drawn straight into an RGBA buffer (a compiled kernel).

A frame's moving parts are a thousand small discs and ten thousand short grid segments. Agg
rasterises each path exactly, but at this size its per-path setup dominates: through Agg the
reference frame's grid took ~4 ms and its points ~3 ms at 1280x720; the C kernels of
``_kernels.c`` take a fraction of that (``benchmarks/bench_render.py`` measures the pipeline).

Coverage is the distance approximation GPU line renderers use (a pixel centre ``d`` inside an
edge is covered ``clamp(d + 0.5, 0, 1)``); lines get round caps and joins and a polyline set is
filled as one shape, as one Agg path would be. When the extension was not built (no C compiler
at install time), or ``SPACEFOLD_NO_KERNELS=1`` is set, :data:`AVAILABLE` is False and the
raster backend draws through Agg instead.

Buffers are (H, W, 4) uint8, straight RGBA, row 0 at the top (Matplotlib's Agg canvas).
Coordinates are buffer pixels: x right, y down, pixel (col, row) centred at (col + .5, row + .5);
``clip`` is (col0, row0, col1, row1), half-open. Non-finite coordinates are skipped.
"""

from __future__ import annotations

import os
import threading

import numpy as np

try:
    from spacefold.render import _kernels  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - exercised only where the extension failed to build
    _kernels = None

AVAILABLE = _kernels is not None and not os.environ.get("SPACEFOLD_NO_KERNELS")

Clip = tuple[int, int, int, int]


def _clip(buf: np.ndarray, clip: Clip | None) -> Clip:
    h, w = buf.shape[:2]
    if clip is None:
        return (0, 0, w, h)
    c0, r0, c1, r1 = (int(v) for v in clip)
    return (max(c0, 0), max(r0, 0), min(c1, w), min(r1, h))


def _check(buf: np.ndarray) -> None:
    if buf.ndim != 3 or buf.shape[2] != 4 or buf.dtype != np.uint8 or \
            not buf.flags.c_contiguous or not buf.flags.writeable:
        raise ValueError("buffer must be a writable C-contiguous (H, W, 4) uint8 array")


def draw_discs(buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
               clip: Clip | None = None) -> None:
    """Discs of one ``radius`` (px) at ``xy`` (N, 2), colours ``rgba`` (N, 4) in [0, 1],
    drawn in order (later on top)."""
    _check(buf)
    xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
    rgba = np.ascontiguousarray(rgba, dtype=np.float64).reshape(-1, 4)
    if len(rgba) != len(xy):
        raise ValueError(f"{len(xy)} points but {len(rgba)} colours")
    h, w = buf.shape[:2]
    assert _kernels is not None, "the compiled kernels are not available"
    _kernels.discs(buf, w, h, xy, rgba, float(radius), _clip(buf, clip))


def draw_polylines(buf: np.ndarray, lines: np.ndarray, rgba: tuple[float, ...], width: float,
                   clip: Clip | None = None) -> None:
    """Polylines (L, V, 2) in one colour ``rgba`` and ``width`` (px), filled as one shape."""
    _check(buf)
    pts = np.ascontiguousarray(lines, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[2] != 2:
        raise ValueError(f"lines must be (lines, vertices, 2), got {pts.shape}")
    h, w = buf.shape[:2]
    r, g, b, a = (tuple(float(v) for v in rgba) + (1.0,))[:4]
    assert _kernels is not None, "the compiled kernels are not available"
    cov, stamp = _coverage((h, w))
    _kernels.polylines(buf, w, h, cov, stamp, pts, pts.shape[0], pts.shape[1],
                       (r, g, b, a), float(width), _clip(buf, clip))


def draw_image(buf: np.ndarray, img: np.ndarray, left: int, top: int,
               clip: Clip | None = None) -> None:
    """Composite the straight-alpha RGBA ``img`` (h, w, 4) uint8, rows top to bottom, over
    ``buf`` with its top-left pixel at column ``left``, row ``top``."""
    _check(buf)
    img = np.ascontiguousarray(img, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"image must be (h, w, 4), got {img.shape}")
    h, w = buf.shape[:2]
    assert _kernels is not None, "the compiled kernels are not available"
    _kernels.image(buf, w, h, img, img.shape[1], img.shape[0], int(left), int(top),
                   _clip(buf, clip))


def fill_rect(buf: np.ndarray, box: tuple[float, float, float, float],
              rgba: tuple[float, ...], clip: Clip | None = None) -> None:
    """One colour over ``box`` = (x0, y0, x1, y1) in buffer pixels; edge pixels blended by the
    fraction of them the box covers."""
    _check(buf)
    h, w = buf.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    r, g, b, a = (tuple(float(v) for v in rgba) + (1.0,))[:4]
    assert _kernels is not None, "the compiled kernels are not available"
    _kernels.rect(buf, w, h, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                  (r, g, b, a), _clip(buf, clip))


def yuv420(rgba: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """An opaque RGBA frame (H, W, 4) as planar YUV 4:2:0 bytes (BT.709, limited range): the
    Y plane, then U and V at half resolution (each the mean of a 2x2 block); into ``out``
    (W * H * 3 / 2 uint8) when given."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError("frame must be an (H, W, 4) uint8 array")
    h, w = rgba.shape[:2]
    if out is None:
        out = np.empty(w * h * 3 // 2, dtype=np.uint8)
    assert _kernels is not None, "the compiled kernels are not available"
    _kernels.yuv420(np.ascontiguousarray(rgba), out, w, h)
    return out


_LOCAL = threading.local()   # one coverage buffer per thread: renders may run side by side
_MAX_STAMP = (1 << 24) - 1


def _coverage(shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """The polyline kernel's per-pixel (stamp << 8 | coverage) buffer and a fresh stamp: a new
    stamp makes every pixel read as uncovered, so the buffer is cleared only on wrap-around."""
    cov: np.ndarray | None = getattr(_LOCAL, "cov", None)
    stamp: int = getattr(_LOCAL, "stamp", 0) + 1
    if cov is None or cov.shape != shape or stamp > _MAX_STAMP:
        cov = _LOCAL.cov = np.zeros(shape, dtype=np.uint32)
        stamp = 1
    _LOCAL.stamp = stamp
    return cov, stamp
