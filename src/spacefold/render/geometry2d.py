"""The pixel geometry of 2-D panels, shared by the backend and the diagram: sizes in points,
Matplotlib's dash patterns, equal-aspect views, images stamped onto display pixels and region
layers painted for them, and boxes of pixels."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from spacefold.render.frame import Extent, Image, RegionLayer

DPI = 100.0                  # Matplotlib's default dpi: sizes in pt scale by DPI / 72
AXES_WIDTH_PT = 1.2
SOLID = ("-", "solid")
# Matplotlib's dash patterns (rcParams lines.*_pattern), in line widths
DASHES = {"--": (3.7, 1.6), "dashed": (3.7, 1.6), ":": (1.0, 1.65), "dotted": (1.0, 1.65),
          "-.": (6.4, 1.6, 1.0, 1.6), "dashdot": (6.4, 1.6, 1.0, 1.6)}
STYLES = SOLID + tuple(DASHES)
Box = tuple[int, int, int, int]     # buffer pixels (col0, row0, col1, row1), half-open


def fit_view(view: Extent, width_px: float, height_px: float) -> Extent:
    """Grow ``view`` so one data unit has the same length on both axes (equal aspect)."""
    x0, x1, y0, y1 = view
    w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    target = width_px / max(height_px, 1e-9)
    if w / h < target:
        cx, w = (x0 + x1) / 2, h * target
        x0, x1 = cx - w / 2, cx + w / 2
    else:
        cy, h = (y0 + y1) / 2, w / target
        y0, y1 = cy - h / 2, cy + h / 2
    return (x0, x1, y0, y1)


def stamp_pixels(im: Image, corners: tuple[float, float, float, float],
                 box: tuple[float, float, float, float]
                 ) -> tuple[int, int, np.ndarray] | None:
    """``im`` resampled by nearest neighbour onto exactly the display pixels it covers:
    ``corners`` = display (px0, py0, px1, py1) of its extent's (xmin, ymin) and (xmax, ymax),
    ``box`` = the panel's display (x0, y0, x1, y1) it is clipped to (y up). Returns
    ``(left, bottom, pixels)`` with pixel row 0 at the bottom, or None when nothing shows."""
    px0, py0, px1, py1 = corners
    if not np.isfinite(corners).all() or px0 == px1 or py0 == py1:
        return None
    bx0, by0, bx1, by1 = box
    left = max(int(round(min(px0, px1))), math.floor(bx0))
    right = min(int(round(max(px0, px1))), math.ceil(bx1))
    bottom = max(int(round(min(py0, py1))), math.floor(by0))
    top = min(int(round(max(py0, py1))), math.ceil(by1))
    if right <= left or top <= bottom:
        return None
    sh, sw = im.rgba.shape[:2]
    # the source pixel under each display pixel's centre
    fx = (np.arange(left, right) + 0.5 - px0) / (px1 - px0)
    fy = (np.arange(bottom, top) + 0.5 - py0) / (py1 - py0)
    cols = np.clip((fx * sw).astype(np.int64), 0, sw - 1)
    rows = np.clip((fy * sh).astype(np.int64), 0, sh - 1)
    src = np.ascontiguousarray(im.rgba, dtype=np.uint8).view(np.uint32)[..., 0]  # (h, w)
    pix = src.take(rows, axis=0).take(cols, axis=1)    # one 4-byte gather per pixel
    return left, bottom, pix.view(np.uint8).reshape(len(rows), len(cols), 4)


def paint_layer(layer: RegionLayer, view: Extent,
                to_display: Callable[[np.ndarray], np.ndarray],
                box: tuple[float, float, float, float]) -> Image | None:
    """The image of ``layer`` for exactly the whole display pixels of its extent (None: the
    ``view``) inside ``box`` (display x0, y0, x1, y1, y up); ``to_display`` maps data (…, 2) to
    display pixels. Stamped with :func:`stamp_pixels`, each source pixel lands on one display
    pixel."""
    ex0, ex1, ey0, ey1 = layer.extent if layer.extent is not None else view
    (px0, py0), (px1, py1) = to_display(np.array([[ex0, ey0], [ex1, ey1]], dtype=np.float64))
    if not np.isfinite([px0, py0, px1, py1]).all() or px1 <= px0 or py1 <= py0:
        return None
    bx0, by0, bx1, by1 = box
    left = max(int(round(px0)), math.floor(bx0))
    right = min(int(round(px1)), math.ceil(bx1))
    bottom = max(int(round(py0)), math.floor(by0))
    top = min(int(round(py1)), math.ceil(by1))
    if right <= left or top <= bottom:
        return None
    sx, sy = (ex1 - ex0) / (px1 - px0), (ey1 - ey0) / (py1 - py0)
    ext = (ex0 + (left - px0) * sx, ex0 + (right - px0) * sx,
           ey0 + (bottom - py0) * sy, ey0 + (top - py0) * sy)
    rgba = np.asarray(layer.paint(ext, (right - left, top - bottom)), dtype=np.uint8)
    if rgba.shape != (top - bottom, right - left, 4):
        raise ValueError(f"a region layer painted {rgba.shape} for {right - left}×"
                         f"{top - bottom} pixels")
    return Image(rgba, ext)


def dashed(xy: np.ndarray, style: str, width: float) -> np.ndarray:
    """The "on" pieces of the polyline ``xy`` (V, 2) in pixels under the dash pattern of
    ``style`` (Matplotlib's, scaled by the line ``width`` in px, starting at the first vertex),
    as (M, 2, 2) segments to fill as one shape; ``xy[None]`` for a solid line."""
    pattern = DASHES.get(style)
    xy = np.asarray(xy, dtype=np.float64)
    if pattern is None or len(xy) < 2:
        return xy[None]
    on_off = np.asarray(pattern) * max(width, 1e-3)
    period = float(on_off.sum())
    edges = np.concatenate([[0.0], np.cumsum(on_off)])          # phase boundaries in a period
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[~np.isfinite(seg)] = 0.0
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(s[-1])
    if total <= 0 or total / period > 1e5:
        return xy[None]
    starts = np.arange(int(total // period) + 1) * period
    cuts = (starts[:, None] + edges[None, :]).ravel()
    at = np.sort(np.concatenate([s, cuts[cuts < total], [total]]))
    at = at[np.concatenate([[True], at[1:] > at[:-1]])]     # np.unique, without numpy.ma
    pts = np.stack([np.interp(at, s, xy[:, 0]), np.interp(at, s, xy[:, 1])], axis=1)
    mid = (at[:-1] + at[1:]) / 2
    phase = np.searchsorted(edges, np.mod(mid, period), side="right") - 1
    keep = (phase % 2 == 0) & (at[1:] > at[:-1])
    return np.stack([pts[:-1][keep], pts[1:][keep]], axis=1)


def inked(img: np.ndarray, left: int, top: int) -> Box:
    """The box of an image's pixels that are not fully transparent, placed at (left, top)."""
    alpha = img[..., 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return (left, top, left, top)
    return (left + int(cols[0]), top + int(rows[0]), left + int(cols[-1]) + 1,
            top + int(rows[-1]) + 1)


def meets(a: Box, b: Box) -> bool:
    """Whether boxes ``a`` and ``b`` share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
