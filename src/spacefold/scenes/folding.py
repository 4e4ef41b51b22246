"""The folded paper of ``fold-232``, computed from a 3-unit layer's weights: the input square
split into convex pieces by the sign pattern of ``W·u + b`` (on each, ReLU is linear, so the
piece lands flat on the plane, a coordinate plane, an axis or the origin), and the creases
``W_i·u + b_i = 0`` (exact lines, or traced contours when the layer is not one Linear)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spacefold.render.frame import Extent
from spacefold.trace import Trace
from spacefold.trace.analysis import chain_segments, raster, zero_contour

PAPER: Extent = (-1.2, 1.2, -1.2, 1.2)      # the input square that is lifted and folded


@dataclass(frozen=True)
class FoldPiece:
    """The part of the input square where the three coordinates of ``W·u + b`` have signs
    ``positive``; after ReLU it lies in the coordinate subspace of the positive ones."""

    positive: tuple[bool, bool, bool]
    polygon: np.ndarray        # (M, 2) convex polygon in the input plane, counter-clockwise

    @property
    def dim(self) -> int:
        """Dimension of where the piece lands: 2 (a plane piece), 1 (an axis), 0 (origin)."""
        return min(sum(self.positive), 2)

    def folded(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(M, 3) the polygon after ``ReLU(W·u + b)``."""
        return np.maximum(self.polygon @ w.T + b, 0.0)


def clip(poly: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The part of convex polygon (M, 2) where ``a·u + c ≥ 0`` (Sutherland–Hodgman)."""
    out: list[np.ndarray] = []
    m = len(poly)
    for i in range(m):
        p, q = poly[i], poly[(i + 1) % m]
        fp, fq = float(a @ p) + c, float(a @ q) + c
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            out.append(p + (q - p) * (fp / (fp - fq)))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def square(extent: Extent) -> np.ndarray:
    x0, x1, y0, y1 = extent
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def fold_pieces(w: np.ndarray, b: np.ndarray, extent: Extent = PAPER,
                min_area: float = 1e-12) -> list[FoldPiece]:
    """The sign-pattern pieces of the square ``extent`` under ``u ↦ W·u + b`` (W (3, 2))."""
    out = []
    for code in range(8):
        pos = tuple(bool(code >> (2 - i) & 1) for i in range(3))
        poly = square(extent)
        for i in range(3):
            s = 1.0 if pos[i] else -1.0
            poly = clip(poly, s * w[i], s * float(b[i]))
            if len(poly) < 3:
                break
        if len(poly) >= 3 and _area(poly) > min_area:
            out.append(FoldPiece(pos, poly))   # type: ignore[arg-type]
    return out


def creases(w: np.ndarray, b: np.ndarray, extent: Extent = PAPER) -> list[np.ndarray]:
    """The fold lines ``W_i·u + b_i = 0`` inside the square, as (M, 2) input-plane polylines
    whose vertices include every crossing with another fold line (so their images under the
    piecewise-linear network are exact polylines)."""
    out = []
    sq = square(extent)
    for i in range(3):
        a, c = w[i], float(b[i])
        if float(a @ a) < 1e-18:
            continue
        # the line clipped to the square: keep a·u + c ≥ 0 and ≤ 0 at once, i.e. the segment
        p = -c * a / float(a @ a)
        d = np.array([-a[1], a[0]]) / float(np.hypot(*a))
        ts = []
        for k in range(4):
            e0, e1 = sq[k], sq[(k + 1) % 4]
            t = _cross_line(p, d, e0, e1)
            if t is not None:
                ts.append(t)
        if len(ts) < 2:
            continue
        t0, t1 = min(ts), max(ts)
        if t1 - t0 < 1e-12:
            continue
        cuts = [t0, t1]
        for j in range(3):
            if j == i:
                continue
            den = float(w[j] @ d)
            if abs(den) > 1e-15:
                t = -(float(w[j] @ p) + float(b[j])) / den
                if t0 < t < t1:
                    cuts.append(t)
        cuts.sort()
        out.append(p + np.array(cuts)[:, None] * d)
    return out


def _cross_line(p: np.ndarray, d: np.ndarray, e0: np.ndarray, e1: np.ndarray) -> float | None:
    """t where the line p + t·d meets the segment e0–e1, or None."""
    e = e1 - e0
    den = d[0] * (-e[1]) - d[1] * (-e[0])
    if abs(den) < 1e-15:
        return None
    r = e0 - p
    t = (r[0] * (-e[1]) - r[1] * (-e[0])) / den
    s = (d[0] * r[1] - d[1] * r[0]) / den
    return float(t) if -1e-12 <= s <= 1 + 1e-12 else None


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(abs(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def computed_creases(tr: Trace, pre: int, paper: Extent, res: int = 160) -> list[np.ndarray]:
    """Input-plane polylines where a unit of stage ``pre`` (a layer's W·h + b) crosses 0:
    marching squares over a res×res raster of ``paper``, each unit's contour chained."""
    z = tr.carry(raster(paper, res), start=0, stop=pre)[-1]          # (res·res, d)
    out: list[np.ndarray] = []
    for i in range(z.shape[1]):
        out += [c for c in chain_segments(zero_contour(z[:, i].reshape(res, res), paper))
                if len(c) >= 2]
    return out
