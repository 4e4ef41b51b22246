"""Exact geometry of K score planes ``y_k = w_k·h + b_k`` over a rectangle of the plane h
(the argmax surfaces of an affine tail): the planes cut into flat convex pieces along their
pairwise intersection lines, the decision regions (where plane k is highest) as convex
polygons, and the segments where two planes are equal and highest (the decision boundaries
lifted onto the upper envelope). No sampling: every vertex is on its plane to rounding.

A line here is ``(a, c)`` with a (2,) and c a float: the points p with ``a·p + c = 0``; a
half-plane is where ``a·p + c >= 0``.
"""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]


def _rect(box: Box) -> np.ndarray:
    x0, x1, y0, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _tol(box: Box) -> float:
    return 1e-9 * max(box[1] - box[0], box[3] - box[2], 1e-300)


def clip(poly: np.ndarray, a: np.ndarray, c: float, eps: float = 0.0) -> np.ndarray:
    """The part of the convex polygon ``poly`` (P, 2), counter-clockwise, where
    ``a·p + c >= 0`` (Sutherland–Hodgman against one line); (0, 2) when nothing is left."""
    if len(poly) == 0:
        return poly
    s = poly @ a + c
    if (s >= -eps).all():
        return poly
    if (s <= eps).all():
        return poly[:0]
    out = []
    n = len(poly)
    for i in range(n):
        p, q, sp, sq = poly[i], poly[(i + 1) % n], s[i], s[(i + 1) % n]
        if sp >= 0:
            out.append(p)
        if (sp >= 0) != (sq >= 0):
            out.append(p + (sp / (sp - sq)) * (q - p))
    res = np.array(out, dtype=np.float64).reshape(-1, 2)
    return res if len(res) >= 3 else poly[:0]


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    x2, y2 = np.concatenate([x[1:], x[:1]]), np.concatenate([y[1:], y[:1]])
    return 0.5 * float(x @ y2 - y @ x2)


def cells(box: Box, lines: list[tuple[np.ndarray, float]]) -> list[np.ndarray]:
    """The rectangle ``box`` cut by every line into convex cells (each (P, 2),
    counter-clockwise); lines missing the box, and slivers of no area, are dropped."""
    tol = _tol(box)
    amin = tol * max(box[1] - box[0], box[3] - box[2])
    out = [_rect(box)]
    for a, c in lines:
        a = np.asarray(a, dtype=np.float64)
        if not np.any(a):
            continue
        nxt = []
        for poly in out:
            s = poly @ a + c
            if (s >= 0).all() or (s <= 0).all():      # not crossed: the cell stays whole
                nxt.append(poly)
                continue
            for sa, sc in ((a, c), (-a, -c)):
                part = clip(poly, sa, float(sc))
                if len(part) and _area(part) > amin:
                    nxt.append(part)
        out = nxt
    return out


def _slices(poly: np.ndarray, axis: int, cuts: np.ndarray, amin: float) -> list[np.ndarray]:
    """The convex ``poly`` cut at the sorted coordinates ``cuts`` along ``axis``, swept from
    low to high (each cut splits only what is left)."""
    out = []
    rest = poly
    a = np.zeros(2)
    a[axis] = 1.0
    for x in cuts:
        if len(rest) == 0:
            break
        lo, hi = rest[:, axis].min(), rest[:, axis].max()
        if x <= lo:
            continue
        if x >= hi:
            break
        low = clip(rest, -a, float(x))
        rest = clip(rest, a, -float(x))
        if len(low) and _area(low) > amin:
            out.append(low)
    if len(rest) and _area(rest) > amin:
        out.append(rest)
    return out


def lattice(polys: list[np.ndarray], box: Box, grid: int) -> list[np.ndarray]:
    """Each convex polygon cut by a ``grid``×``grid`` lattice of ``box``."""
    x0, x1, y0, y1 = box
    amin = _tol(box) * max(x1 - x0, y1 - y0)
    xs = np.linspace(x0, x1, grid + 1)[1:-1]
    ys = np.linspace(y0, y1, grid + 1)[1:-1]
    return [cell for poly in polys for strip in _slices(poly, 0, xs, amin)
            for cell in _slices(strip, 1, ys, amin)]


def triangulate(polys: list[np.ndarray], box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Points (V, 2) and counter-clockwise triangles (T, 3) of the convex polygons, fanned
    from each one's first corner; corners shared by neighbouring polygons are one point (so
    the renderer sees interior edges as seams, not boundaries)."""
    pts = np.concatenate(polys) if polys else np.zeros((0, 2))
    span = max(box[1] - box[0], box[3] - box[2], 1e-300)
    q = np.round((pts - [box[0], box[2]]) / span * 1e8).astype(np.int64)
    _, first, inv = np.unique(q, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    tris = []
    at = 0
    for poly in polys:
        idx = inv[at:at + len(poly)]
        at += len(poly)
        # drop corners that rounding merged (a vertex repeated within one polygon)
        keep = [int(idx[0])]
        for v in idx[1:]:
            if int(v) != keep[-1] and int(v) != keep[0]:
                keep.append(int(v))
        for j in range(1, len(keep) - 1):
            tris.append((keep[0], keep[j], keep[j + 1]))
    return pts[first], np.array(tris, dtype=np.int64).reshape(-1, 3)


def plane_pieces(w: np.ndarray, b: np.ndarray, box: Box, grid: int = 6
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each plane k: vertices (V, 3) on ``z = w_k·h + b_k`` and triangles (T, 3) covering
    ``box``, cut along every line where plane k meets another plane (so no two pieces of
    different planes cross: a per-triangle depth sort blends them right) and by a
    ``grid``×``grid`` lattice (pieces small enough that sorting by centroid is right)."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = []
    for k in range(len(w)):
        meets = [(w[k] - w[j], float(b[k] - b[j])) for j in range(len(w)) if j != k]
        pts, tris = triangulate(lattice(cells(box, meets), box, grid), box)
        z = pts @ w[k] + b[k]
        out.append((np.concatenate([pts, z[:, None]], axis=1), tris))
    return out


def regions(w: np.ndarray, b: np.ndarray, box: Box) -> list[np.ndarray]:
    """For each class k, the convex polygon (P, 2) of ``box`` where plane k is highest
    (ties included), or (0, 2) where it never is."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = []
    for k in range(len(w)):
        poly = _rect(box)
        for j in range(len(w)):
            if j != k:
                poly = clip(poly, w[k] - w[j], float(b[k] - b[j]))
        out.append(poly)
    return out


def boundaries(w: np.ndarray, b: np.ndarray, box: Box
               ) -> list[tuple[int, int, np.ndarray]]:
    """The segments (k, j, (2, 3) endpoints) where planes k < j are equal and no other plane
    is higher, within ``box``: the edges of the upper envelope (the decision boundaries,
    lifted to the height of the two planes there)."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x0, x1, y0, y1 = box
    tol = _tol(box)
    out = []
    for k in range(len(w)):
        for j in range(k + 1, len(w)):
            a, c = w[k] - w[j], float(b[k] - b[j])
            nn = float(a @ a)
            if nn == 0.0:
                continue
            p0 = -c * a / nn                        # the line's point nearest the origin
            d = np.array([-a[1], a[0]]) / np.sqrt(nn)
            lo, hi = -np.inf, np.inf
            # p0 + t·d inside the box, and plane k (= j) at least every other plane m
            cons = [(np.array([1.0, 0.0]), -x0), (np.array([-1.0, 0.0]), x1),
                    (np.array([0.0, 1.0]), -y0), (np.array([0.0, -1.0]), y1)]
            cons += [(w[k] - w[m], float(b[k] - b[m])) for m in range(len(w))
                     if m not in (k, j)]
            for ca, cc in cons:
                s0, s1 = float(ca @ p0 + cc), float(ca @ d)   # s0 + t·s1 >= 0
                if abs(s1) < 1e-15:
                    if s0 < 0:
                        lo, hi = np.inf, -np.inf
                    continue
                t = -s0 / s1
                if s1 > 0:
                    lo = max(lo, t)
                else:
                    hi = min(hi, t)
            if hi - lo <= tol:
                continue
            ends = np.stack([p0 + lo * d, p0 + hi * d])
            z = ends @ w[k] + b[k]
            out.append((k, j, np.concatenate([ends, z[:, None]], axis=1)))
    return out
