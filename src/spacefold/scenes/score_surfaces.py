"""A network's class scores over one of its 2-D stages h, as height functions and meshes:
the rest of the network after h as K heights (exact planes when it is affine, else carried
samples), the softmax meshed along its walls (exact tails) or refined where steep (computed
ones), and the highest surface cut into one piece per decision region."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spacefold.trace import Trace
from spacefold.trace.analysis import AffineTail, softmax
from spacefold.trace.planes import boundaries, cells, lattice, triangulate

Box = tuple[float, float, float, float]


def plane_grid(box: Box, res: int) -> tuple[np.ndarray, np.ndarray]:
    """(res, res) sample coordinates h1, h2 over ``box`` (row 0 = h2 min)."""
    x0, x1, y0, y1 = box
    return np.meshgrid(np.linspace(x0, x1, res), np.linspace(y0, y1, res))


def steep_mesh(layer: Tail, box: Box, base: int = 24, sub: int = 2, tol: float = 0.1,
               levels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Points (P, 2) and triangles (T, 3) over ``box`` for the heights of ``layer``: a base×base
    grid, then ``levels`` rounds of a sub×sub grid inside every cell where some surface
    still changes by more than ``tol`` (the softmax walls: a wall is a curve, so each round
    adds points along it only, not over the plane), joined by one Delaunay triangulation (no
    cracks between fine and coarse cells)."""
    from scipy.spatial import Delaunay

    gx, gy = plane_grid(box, base)
    z = layer.heights(gx, gy)                                        # (base, base, K)
    corners = np.stack([z[:-1, :-1], z[1:, :-1], z[:-1, 1:], z[1:, 1:]])
    steep = (corners.max(axis=0) - corners.min(axis=0)).max(axis=-1) > tol   # (b-1, b-1)
    pts = [np.stack([gx.ravel(), gy.ravel()], axis=1)]
    dx, dy = gx[0, 1] - gx[0, 0], gy[1, 0] - gy[0, 0]
    ii, jj = np.nonzero(steep)
    cx, cy = gx[ii, jj], gy[ii, jj]                                  # lower-left corners
    f = np.linspace(0.0, 1.0, sub + 1)
    fx, fy = (g.ravel() for g in np.meshgrid(f, f))
    for _ in range(levels):
        if not len(cx):
            break
        px = cx[:, None] + fx[None] * dx                             # (C, (sub+1)²)
        py = cy[:, None] + fy[None] * dy
        pts.append(np.stack([px.ravel(), py.ravel()], axis=1))
        zz = layer.heights(px, py)                                   # (C, (sub+1)², K)
        zz = zz.reshape(len(cx), sub + 1, sub + 1, -1)
        cz = np.stack([zz[:, :-1, :-1], zz[:, 1:, :-1], zz[:, :-1, 1:], zz[:, 1:, 1:]])
        st = (cz.max(axis=0) - cz.min(axis=0)).max(axis=-1) > tol     # (C, sub, sub)
        c, r, q = np.nonzero(st)                                     # cell, row (y), col (x)
        dx, dy = dx / sub, dy / sub
        cx, cy = cx[c] + q * dx, cy[c] + r * dy
    allp = np.concatenate(pts)
    # shared cell edges give the same points twice: one of each (to a millionth of the finest)
    q = np.round((allp - [box[0], box[2]]) / [dx, dy] * 1000).astype(np.int64)
    _, keep = np.unique(q, axis=0, return_index=True)
    allp = allp[np.sort(keep)]
    tris = Delaunay(allp).simplices.astype(np.int64)
    a, b, c = allp[tris[:, 0]], allp[tris[:, 1]], allp[tris[:, 2]]
    cw = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]) < 0
    tris[cw] = tris[cw][:, [0, 2, 1]]                 # all counter-clockwise seen from above
    return allp, tris


def wall_mesh(tail: AffineTail, box: Box, tol: float = 0.1, grid: int = 8,
              cut: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Points (P, 2) and triangles (T, 3) for the softmax of exact score planes: its walls
    are where two scores are equal, and across one, p_k ≈ σ(y_k − y_j) — so the mesh is the
    box cut by lines parallel to each decision boundary, at the score differences where that
    σ passes 0.5 ± steps of ``tol`` (edges along a wall, where p barely changes; steps
    across it of at most ``tol``), and by a ``grid``×``grid`` lattice (for the depth sort).
    ``cut``: also along the boundaries themselves, so every triangle is in one region."""
    lines: list[tuple[np.ndarray, float]] = []
    p = np.arange(tol / 2, 1.0, tol)
    p = p[(p > 0) & (p < 1)]
    offsets = np.log(p / (1 - p))                                    # σ⁻¹ of each level
    if cut:
        offsets = np.append(offsets, 0.0)
    for k, j, _ in boundaries(tail.W, tail.b, box):
        a, c = tail.W[k] - tail.W[j], float(tail.b[k] - tail.b[j])
        lines += [(a, c - float(o)) for o in offsets]
    return triangulate(lattice(cells(box, lines), box, grid), box)


@dataclass
class TopPieces:
    """The highest surface of an exact tail: points (V, 2), their height (V,), and per
    decision region its class and triangles (T_k, 3) into the points."""

    points: np.ndarray
    z: np.ndarray
    regions: list[tuple[int, np.ndarray]]


@dataclass
class Tail:
    """The network after the plane h (stage ``k``) as K height functions over h: exact planes
    ``W·h + b`` when that part is affine (``affine`` set), else computed by carrying the
    samples through it. ``mode`` "argmax": the scores before any softmax head; "softmax":
    their softmax."""

    tr: Trace
    k: int
    box: Box
    mode: str
    affine: AffineTail | None

    @property
    def exact(self) -> bool:
        return self.affine is not None

    def scores(self, h: np.ndarray) -> np.ndarray:
        """(M, K) the scores (logits) at points h (M, 2)."""
        if self.affine is not None:
            return self.affine.logits(h)
        last = len(self.tr.stages) - 1
        stop = last - 1 if self.tr.ops[-1].kind == "softmax" else last
        return self.tr.carry(h, start=self.k, stop=stop)[-1]

    def heights(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """(..., K): each class's score (or probability) at h = (h1, h2)."""
        shape = np.shape(h1)
        z = self.scores(np.stack([np.ravel(h1), np.ravel(h2)], axis=-1))
        z = softmax(z) if self.mode == "softmax" else z
        return z.reshape(shape + (z.shape[-1],))


def h_box(h: np.ndarray, margin: float = 0.12) -> Box:
    lo, hi = h.min(axis=0), h.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
