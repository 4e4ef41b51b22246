"""Antialiased discs, polylines, boxes and images drawn straight into an RGBA buffer, and the
YUV conversion of a finished frame: the primitives every 2-D frame is drawn with.

A frame's moving parts are a thousand small discs and ten thousand short grid segments. Agg
rasterises each path exactly, but at this size its per-path setup dominates: through Agg the
reference frame's grid took ~4 ms and its points ~3 ms at 1280x720; the C kernels of
``_kernels.c`` take a fraction of that (``benchmarks/bench_render.py`` measures the pipeline).

The primitives are a small protocol, :class:`Kernels`, with two implementations: the C
extension (:data:`COMPILED`) and the same arithmetic in numpy (:data:`NUMPY`,
:mod:`.kernels_numpy`), which draws the same pixels (to 2/255) more slowly. :data:`DEFAULT`
is the C one when it was built (a C compiler at install time) and ``SPACEFOLD_NO_KERNELS``
is not set, else numpy. Every function below takes ``kernels=`` to choose one.

Coverage is the distance approximation GPU line renderers use (a pixel centre ``d`` inside an
edge is covered ``clamp(d + 0.5, 0, 1)``); lines get round caps and joins and a polyline set is
filled as one shape, as one Agg path would be.

Buffers are (H, W, 4) uint8, straight RGBA, row 0 at the top (Matplotlib's Agg canvas).
Coordinates are buffer pixels: x right, y down, pixel (col, row) centred at (col + .5, row + .5);
``clip`` is (col0, row0, col1, row1), half-open. Non-finite coordinates are skipped.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from spacefold.render import kernels_numpy, markers

try:
    from spacefold.render import _kernels  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - exercised only where the extension failed to build
    _kernels = None

Clip = tuple[int, int, int, int]
RGBA = tuple[float, float, float, float]


class Kernels(Protocol):
    """The primitives, on arguments the functions below have checked: ``buf`` a writable
    C-contiguous (H, W, 4) uint8 array, ``clip`` inside it, coordinates float64."""

    name: str

    def discs(self, buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
              clip: Clip) -> None: ...

    def markers(self, buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
                shape: np.ndarray, polys: np.ndarray, starts: np.ndarray,
                clip: Clip) -> None: ...

    def polylines(self, buf: np.ndarray, pts: np.ndarray, rgba: RGBA, width: float,
                  clip: Clip) -> None: ...

    def image(self, buf: np.ndarray, img: np.ndarray, left: int, top: int,
              clip: Clip) -> None: ...

    def rect(self, buf: np.ndarray, box: tuple[float, float, float, float], rgba: RGBA,
             clip: Clip) -> None: ...

    def yuv420(self, rgba: np.ndarray, out: np.ndarray) -> None: ...


class _Compiled:
    """The C extension (``_kernels.c``)."""

    name = "c"

    def __init__(self, ext: object) -> None:
        self.ext: object = ext

    def discs(self, buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
              clip: Clip) -> None:
        h, w = buf.shape[:2]
        self.ext.discs(buf, w, h, xy, rgba, radius, clip)  # type: ignore[attr-defined]

    def markers(self, buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
                shape: np.ndarray, polys: np.ndarray, starts: np.ndarray, clip: Clip) -> None:
        h, w = buf.shape[:2]
        self.ext.markers(buf, w, h, xy, rgba, radius,  # type: ignore[attr-defined]
                         shape, polys, starts, clip)

    def polylines(self, buf: np.ndarray, pts: np.ndarray, rgba: RGBA, width: float,
                  clip: Clip) -> None:
        h, w = buf.shape[:2]
        self.ext.polylines(buf, w, h, _scratch(w, h), pts,  # type: ignore[attr-defined]
                           pts.shape[0], pts.shape[1], rgba, width, clip)

    def image(self, buf: np.ndarray, img: np.ndarray, left: int, top: int, clip: Clip) -> None:
        h, w = buf.shape[:2]
        self.ext.image(buf, w, h, img, img.shape[1], img.shape[0],  # type: ignore[attr-defined]
                       left, top, clip)

    def rect(self, buf: np.ndarray, box: tuple[float, float, float, float], rgba: RGBA,
             clip: Clip) -> None:
        h, w = buf.shape[:2]
        self.ext.rect(buf, w, h, box, rgba, clip)  # type: ignore[attr-defined]

    def yuv420(self, rgba: np.ndarray, out: np.ndarray) -> None:
        h, w = rgba.shape[:2]
        self.ext.yuv420(rgba, out, w, h)  # type: ignore[attr-defined]


class _Numpy:
    """The same primitives in numpy (:mod:`.kernels_numpy`)."""

    name = "numpy"
    discs = staticmethod(markers.discs)
    markers = staticmethod(markers.markers)
    polylines = staticmethod(kernels_numpy.polylines)
    image = staticmethod(kernels_numpy.image)
    rect = staticmethod(kernels_numpy.rect)
    yuv420 = staticmethod(kernels_numpy.yuv420)


COMPILED: Kernels | None = _Compiled(_kernels) if _kernels is not None else None
NUMPY: Kernels = _Numpy()
DEFAULT: Kernels = NUMPY if COMPILED is None or os.environ.get("SPACEFOLD_NO_KERNELS") \
    else COMPILED
BY_NAME: dict[str, Kernels] = {"numpy": NUMPY, **({"c": COMPILED} if COMPILED else {})}


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


def _rgba(rgba: tuple[float, ...]) -> RGBA:
    r, g, b, a = (tuple(float(v) for v in rgba) + (1.0,))[:4]
    return (r, g, b, a)


def draw_discs(buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
               clip: Clip | None = None, kernels: Kernels | None = None,
               shape: np.ndarray | None = None) -> None:
    """Discs of one ``radius`` (px) at ``xy`` (N, 2), colours ``rgba`` (N, 4) in [0, 1],
    drawn in order (later on top); with ``shape`` (N,) ints, point i is the class marker
    ``markers.SHAPES[shape[i]]`` instead, as big as the disc."""
    _check(buf)
    xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
    rgba = np.ascontiguousarray(rgba, dtype=np.float64).reshape(-1, 4)
    if len(rgba) != len(xy):
        raise ValueError(f"{len(xy)} points but {len(rgba)} colours")
    if not len(xy):
        return
    k = kernels or DEFAULT
    if shape is None:
        k.discs(buf, xy, rgba, float(radius), _clip(buf, clip))
        return
    shape = np.ascontiguousarray(shape, dtype=np.int32).reshape(-1)
    if len(shape) != len(xy):
        raise ValueError(f"{len(xy)} points but {len(shape)} shapes")
    k.markers(buf, xy, rgba, float(radius), shape, markers.POLYS, markers.STARTS,
              _clip(buf, clip))


def draw_polylines(buf: np.ndarray, lines: np.ndarray, rgba: tuple[float, ...], width: float,
                   clip: Clip | None = None, kernels: Kernels | None = None) -> None:
    """Polylines (L, V, 2) in one colour ``rgba`` and ``width`` (px), filled as one shape."""
    _check(buf)
    pts = np.ascontiguousarray(lines, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[2] != 2:
        raise ValueError(f"lines must be (lines, vertices, 2), got {pts.shape}")
    if pts.size:
        (kernels or DEFAULT).polylines(buf, pts, _rgba(rgba), float(width), _clip(buf, clip))


def draw_image(buf: np.ndarray, img: np.ndarray, left: int, top: int,
               clip: Clip | None = None, kernels: Kernels | None = None) -> None:
    """Composite the straight-alpha RGBA ``img`` (h, w, 4) uint8, rows top to bottom, over
    ``buf`` with its top-left pixel at column ``left``, row ``top`` (text sprites, decision
    regions, thumbnails, the 3-D panel's GL image)."""
    _check(buf)
    img = np.ascontiguousarray(img, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"image must be (h, w, 4), got {img.shape}")
    (kernels or DEFAULT).image(buf, img, int(left), int(top), _clip(buf, clip))


def fill_rect(buf: np.ndarray, box: tuple[float, float, float, float],
              rgba: tuple[float, ...], clip: Clip | None = None,
              kernels: Kernels | None = None) -> None:
    """One colour over ``box`` = (x0, y0, x1, y1) in buffer pixels; edge pixels blended by the
    fraction of them the box covers."""
    _check(buf)
    x0, y0, x1, y1 = (float(v) for v in box)
    (kernels or DEFAULT).rect(buf, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                              _rgba(rgba), _clip(buf, clip))


def yuv420(rgba: np.ndarray, out: np.ndarray | None = None,
           kernels: Kernels | None = None) -> np.ndarray:
    """An opaque RGBA frame (H, W, 4) as planar YUV 4:2:0 bytes (BT.709, limited range): the
    Y plane, then U and V at half resolution (each the mean of a 2x2 block); into ``out``
    (W * H * 3 / 2 uint8) when given."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError("frame must be an (H, W, 4) uint8 array")
    h, w = rgba.shape[:2]
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise ValueError("width and height must be even and positive")
    if out is None:
        out = np.empty(w * h * 3 // 2, dtype=np.uint8)
    if out.dtype != np.uint8 or out.shape != (w * h * 3 // 2,):
        raise ValueError("destination is not w*h*3/2 bytes")
    (kernels or DEFAULT).yuv420(np.ascontiguousarray(rgba), out)
    return out


_LOCAL = threading.local()   # one scratch buffer per thread: renders may run side by side


def _scratch(w: int, h: int) -> np.ndarray:
    """The C polyline kernel's scratch: two int32 per row (its touched column span), then a
    coverage mask of one byte per pixel, which the kernel leaves zero as it found it."""
    n = 8 * h + w * h
    buf: np.ndarray | None = getattr(_LOCAL, "scratch", None)
    if buf is None or buf.size != n:
        buf = _LOCAL.scratch = np.zeros(n, dtype=np.uint8)
    return buf
