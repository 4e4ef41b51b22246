"""The input plane's geometry: view extent, grid polylines, and the dense sample for regions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spacefold.errors import TraceError

Extent = tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)


@dataclass(frozen=True)
class GridSpec:
    """``lines`` grid lines per axis over ``extent``, each densified to ``verts`` vertices so
    curved images look curved. ``extent=None``: a square around the data with a margin."""

    extent: Extent | None = None
    lines: int = 21
    verts: int = 200
    regions: int = 200  # resolution of the decision-region raster (per side); 0 = none

    def __post_init__(self) -> None:
        if not 2 <= self.lines <= 201:
            raise TraceError(f"grid lines {self.lines} must be in [2, 201]")
        if not 2 <= self.verts <= 5000:
            raise TraceError(f"grid vertices {self.verts} must be in [2, 5000]")
        if not (self.regions == 0 or 2 <= self.regions <= 2000):
            raise TraceError(f"region resolution {self.regions} must be 0 or in [2, 2000]")
        if self.extent is not None:
            x0, x1, y0, y1 = self.extent
            if not (np.isfinite(self.extent).all() and x1 > x0 and y1 > y0):
                raise TraceError(f"extent {self.extent} must be finite (xmin<xmax, ymin<ymax)")


def auto_extent(x: np.ndarray, margin: float = 0.15) -> Extent:
    """A square view around the points (N, 2), centred on their bounding box."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    c = (lo + hi) / 2
    half = float(max(hi - lo) / 2 * (1 + margin)) or 1.0
    half = _nice(half)
    c = np.round(c / (half / 4)) * (half / 4)   # a round centre keeps grid ticks round
    return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


def _nice(v: float) -> float:
    """Round up to 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k, so grid ticks are round."""
    e = 10 ** np.floor(np.log10(v))
    for m in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v - 1e-12:
            return float(m * e)
    return float(10 * e)


def grid_lines(extent: Extent, lines: int, verts: int) -> np.ndarray:
    """(2·lines, verts, 2): ``lines`` vertical then ``lines`` horizontal polylines."""
    x0, x1, y0, y1 = extent
    tx, ty = np.linspace(x0, x1, verts), np.linspace(y0, y1, verts)
    vert = np.stack([np.stack([np.full(verts, v), ty], axis=1)
                     for v in np.linspace(x0, x1, lines)])
    horz = np.stack([np.stack([tx, np.full(verts, v)], axis=1)
                     for v in np.linspace(y0, y1, lines)])
    return np.concatenate([vert, horz], axis=0)


def plane_samples(extent: Extent, res: int) -> np.ndarray:
    """(res·res, 2) pixel centres of a res×res raster over ``extent``; row 0 is ymin."""
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / res / 2, (y1 - y0) / res / 2
    xs = np.linspace(x0 + hx, x1 - hx, res)
    ys = np.linspace(y0 + hy, y1 - hy, res)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)
