"""Points: antialiased discs, and class marker shapes, one outline per class so classes can be
told apart in greyscale (``markers="shapes"``; the web viewer's shapes, in its order:
web/src/markers.ts). The numpy kernels of both live here (``discs`` and ``markers`` of
``_kernels.c``, the same arithmetic): points are blended in order, the (point, pixel) pairs
ranked by how many earlier points touch the same pixel, one vectorised blend per rank.

:data:`SHAPES` names them, :data:`POLYS` / :data:`STARTS` are the table the kernels read
(outline ``s`` is ``POLYS[STARTS[s]:STARTS[s + 1]]``, vertices in units of a disc's radius,
x right, y down; an empty outline is the disc itself), and :func:`markers` is the numpy kernel,
the same arithmetic as ``markers`` in ``_kernels.c``: a pixel centre at signed distance ``d``
from the outline is covered ``clamp(0.5 - d, 0, 1)`` (the discs' rule), points drawn in order.
"""

from __future__ import annotations

import numpy as np

from spacefold.colors import markers as markers_in_use
from spacefold.render.kernels_numpy import Clip, _box, _over, _pairs


def discs(buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float, clip: Clip) -> None:
    reach = radius + 0.5
    out2 = reach * reach
    inner = max(reach - 1.0, 0.0)
    in2 = inner * inner
    got = _touched(xy, rgba, reach, clip)
    if got is None:
        return
    disc, rows, cols = got
    dx, dy = cols + 0.5 - xy[disc, 0], rows + 0.5 - xy[disc, 1]
    d2 = dx * dx + dy * dy
    inside = d2 < out2
    disc, rows, cols, d2 = disc[inside], rows[inside], cols[inside], d2[inside]
    _blend_in_order(buf, disc, rows, cols, np.where(d2 <= in2, 1.0, reach - np.sqrt(d2)), rgba)


def _touched(xy: np.ndarray, rgba: np.ndarray, reach: float | np.ndarray, clip: Clip
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(point, row, col) of every pixel in the box of half-size ``reach`` (one, or one per
    point) around each visible point (finite, alpha > 0), point by point; None if none."""
    cx, cy = xy[:, 0], xy[:, 1]
    keep = np.isfinite(cx) & np.isfinite(cy) & (rgba[:, 3] > 0.0)
    xa, ya, xb, yb, ok = _box(cx - reach, cy - reach, cx + reach, cy + reach, clip)
    idx = np.flatnonzero(keep & ok)
    if not len(idx):
        return None
    owner, rows, cols = _pairs(xa[idx], ya[idx], xb[idx], yb[idx])
    return idx[owner], rows, cols


def _blend_in_order(buf: np.ndarray, disc: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                    cov: np.ndarray, rgba: np.ndarray) -> None:
    """Blend (point, pixel) pairs by coverage, earlier points first, as the C loop does (the
    pairs come point by point)."""
    if not len(disc):
        return
    c = rgba[disc]
    rgb8 = (np.clip(c[:, :3], 0.0, 1.0) * 255.0 + 0.5).astype(np.int32)
    a_float = c[:, 3] * cov
    a256 = np.floor(c[:, 3] * cov * 256.0 + 0.5)
    # rank of each pair among the pairs on its pixel (earlier discs first): one blend per rank
    pix = rows * buf.shape[1] + cols
    order = np.argsort(pix, kind="stable")
    sp = pix[order]
    first = np.r_[True, sp[1:] != sp[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(sp)), 0))
    rank = np.empty(len(sp), dtype=np.int64)
    rank[order] = np.arange(len(sp)) - start
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
    for r in range(len(bounds) - 1):
        s = by_rank[bounds[r]:bounds[r + 1]]
        _over(buf, rows[s], cols[s], c[s, :3], rgb8[s], a_float[s], a256[s])


def _regular(k: int, r: float, turn: float = 0.0) -> list[tuple[float, float]]:
    """A regular k-gon of circumradius r, a vertex straight up (y down), turned by ``turn``."""
    a = -np.pi / 2 + turn + 2 * np.pi * np.arange(k) / k
    return [(float(r * np.cos(t)), float(r * np.sin(t))) for t in a]


def _star(r: float) -> list[tuple[float, float]]:
    outer, inner = _regular(5, r), _regular(5, 0.45 * r, np.pi / 5)
    return [p for pair in zip(outer, inner, strict=True) for p in pair]


_T = 0.36   # half the thickness of a plus's bars, in radii
_L = 1.1    # half its length
_PLUS = [(-_T, -_L), (_T, -_L), (_T, -_T), (_L, -_T), (_L, _T), (_T, _T), (_T, _L), (-_T, _L),
         (-_T, _T), (-_L, _T), (-_L, -_T), (-_T, -_T)]
_C, _S = np.cos(np.pi / 4), np.sin(np.pi / 4)

# Outlines sized so each covers about a disc's area (pi r^2): a shape reads as big as a dot.
OUTLINES: dict[str, list[tuple[float, float]]] = {
    "circle": [],
    "square": [(-0.89, -0.89), (0.89, -0.89), (0.89, 0.89), (-0.89, 0.89)],
    "triangle": _regular(3, 1.56),
    "diamond": [(0.0, -1.25), (1.25, 0.0), (0.0, 1.25), (-1.25, 0.0)],
    "plus": _PLUS,
    "cross": [(x * _C - y * _S, x * _S + y * _C) for x, y in _PLUS],
    "star": _star(1.45),
    "down-triangle": _regular(3, 1.56, np.pi),
    "hexagon": _regular(6, 1.1),
    "pentagon": _regular(5, 1.18),
}
SHAPES: tuple[str, ...] = tuple(OUTLINES)
POLYS = np.array([p for s in SHAPES for p in OUTLINES[s]], dtype=np.float64).reshape(-1, 2)
FARTHEST = float(np.hypot(*POLYS.T).max())     # the farthest vertex, in radii
STARTS = np.cumsum([0] + [len(OUTLINES[s]) for s in SHAPES]).astype(np.int32)


def marker_shapes(classes: np.ndarray | None, n: int) -> np.ndarray | None:
    """The shape of each of ``n`` points of these ``classes`` (N,) in the look in use: None
    (discs) when its markers are dots or the classes are not known, else (N,) int32 indices
    into :data:`SHAPES` (cycled past the last)."""
    if classes is None or markers_in_use() != "shapes":
        return None
    c = np.asarray(classes).reshape(-1)
    if len(c) != n:
        raise ValueError(f"{n} points but {len(c)} classes")
    return (c.astype(np.int64) % len(SHAPES)).astype(np.int32)


def markers(buf: np.ndarray, xy: np.ndarray, rgba: np.ndarray, radius: float,
            shape: np.ndarray, polys: np.ndarray, starts: np.ndarray, clip: Clip) -> None:
    """Point i as outline ``shape[i]`` of the table (a disc where it is empty or unknown)."""
    n_shapes = len(starts) - 1
    known = (shape >= 0) & (shape < n_shapes)
    s_of = np.where(known, shape, -1)
    counts = np.diff(starts)
    nv = np.where(known, counts[np.clip(s_of, 0, max(n_shapes - 1, 0))], 0)
    far = np.ones(len(xy))
    for s in np.unique(s_of[nv >= 3]):
        far[s_of == s] = max(1.0, float(np.hypot(*polys[starts[s]:starts[s + 1]].T).max()))
    got = _touched(xy, rgba, radius * far + 0.5, clip)
    if got is None:
        return
    pt, rows, cols = got
    dx, dy = cols + 0.5 - xy[pt, 0], rows + 0.5 - xy[pt, 1]
    cov = np.zeros(len(pt))
    disc = nv[pt] < 3
    reach = radius + 0.5
    inner = max(reach - 1.0, 0.0)
    d2 = dx[disc] ** 2 + dy[disc] ** 2
    cov[disc] = np.where(d2 >= reach * reach, 0.0,
                         np.where(d2 <= inner * inner, 1.0, reach - np.sqrt(d2)))
    for s in np.unique(s_of[pt[~disc]]):
        m = ~disc & (s_of[pt] == s)
        cov[m] = _polygon_cover(dx[m], dy[m], radius * polys[starts[s]:starts[s + 1]])
    keep = cov > 0.0
    _blend_in_order(buf, pt[keep], rows[keep], cols[keep], cov[keep], rgba)


def _polygon_cover(dx: np.ndarray, dy: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """clamp(0.5 - signed distance) of points (dx, dy) to the closed outline ``poly`` (V, 2)."""
    a, e = np.roll(poly, 1, axis=0), poly - np.roll(poly, 1, axis=0)   # edge j: a[j] + t e[j]
    fx, fy = dx[:, None] - a[:, 0], dy[:, None] - a[:, 1]              # (M, V)
    ee = (e * e).sum(axis=1)
    t = np.clip((fx * e[:, 0] + fy * e[:, 1]) / np.where(ee > 0, ee, 1.0), 0.0, 1.0)
    t = np.where(ee > 0, t, 0.0)
    gx, gy = fx - t * e[:, 0], fy - t * e[:, 1]
    d = np.sqrt((gx * gx + gy * gy).min(axis=1))
    ay, by = a[:, 1], a[:, 1] + e[:, 1]
    crosses = (ay > dy[:, None]) != (by > dy[:, None])
    x_at = a[:, 0] + (dy[:, None] - ay) * e[:, 0] / np.where(e[:, 1] != 0, e[:, 1], 1.0)
    inside = (crosses & (dx[:, None] < x_at)).sum(axis=1) % 2 == 1
    return np.clip(0.5 + np.where(inside, d, -d), 0.0, 1.0)
