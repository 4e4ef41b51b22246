"""The linear regions of a piecewise-linear network on a 2-D input, exactly.

A network of Linear layers and piecewise-linear activations (ReLU, leaky ReLU, PReLU, ReLU6,
hardtanh, identity, ...) is one affine map on each convex piece of the input plane: the
pieces where every unit stays within one linear part of its activation. :func:`linear_regions`
finds them by splitting polygons layer by layer, in float64: each piece of the layers so far
carries its affine map ``z = A·x + c`` to the current stage, and each unit cuts it along the
line where its pre-activation crosses a breakpoint of the activation. Every piece keeps its
polygon, its activation pattern and its affine map.

:func:`decision_boundaries` intersects, inside every piece, the half-planes where one class's
affine logit beats the others: the exact segments where the top class changes.

>>> import spacefold as sf
>>> t = sf.trace(sf.build("2-3-2", activation="relu", seed=0), sf.dataset("moons", n=20))
>>> pieces = t.linear_regions((-1, 1, -1, 1))
>>> 1 <= len(pieces) <= 7 and abs(sum(p.area for p in pieces) - 4) < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.errors import TraceError
from spacefold.limits import MAX_PIECES
from spacefold.trace.geometry import Extent
from spacefold.trace.linear_parts import HEADS, Parts, piecewise_steps
from spacefold.trace.ops import threshold_after
from spacefold.trace.project import _one_blas_thread
from spacefold.trace.stage import TraceLike


@dataclass(frozen=True)
class Piece:
    """One linear region: a convex ``polygon`` (M, 2) (counter-clockwise), the ``pattern``
    (one int8 per unit of every piecewise-linear activation: which linear part of the
    activation the unit is in, 0 = the lowest; for ReLU 0 = off, 1 = on) and the ``affine``
    map (A (d, 2), c (d,)) with ``output = A·x + c`` on the piece (the logits before a
    softmax / sigmoid head)."""

    polygon: np.ndarray
    pattern: np.ndarray
    affine: tuple[np.ndarray, np.ndarray]
    layer: int = 0              # the last layer whose units cut it

    @property
    def area(self) -> float:
        return polygon_area(self.polygon)

    def interior_point(self) -> np.ndarray:
        return np.asarray(self.polygon.mean(axis=0))


def polygon_area(poly: np.ndarray) -> float:
    """Signed area (positive counter-clockwise) of a polygon (M, 2), by the shoelace formula."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(x[:-1] @ y[1:] + x[-1] * y[0] - y[:-1] @ x[1:] - y[-1] * x[0])


def _clip(poly: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A convex polygon (M, 2) split by the line where the affine function with vertex values
    ``v`` (M,) is 0: the parts with v ≤ 0 and v ≥ 0 (each counter-clockwise)."""
    m = len(poly)
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    for i in range(m):
        j = (i + 1) % m
        a, b, va, vb = poly[i], poly[j], v[i], v[j]
        if va <= 0:
            lo.append(a)
        if va >= 0:
            hi.append(a)
        if (va < 0 < vb) or (vb < 0 < va):
            p = a + (va / (va - vb)) * (b - a)
            lo.append(p)
            hi.append(p)
    return np.array(lo), np.array(hi)


def _split(poly: np.ndarray, a: np.ndarray, c: np.ndarray, breaks: np.ndarray,
           min_area: float, out: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Split ``poly`` along the lines a_j·x + c_j = t for every unit j (rows of a (k, 2), c (k,))
    and breakpoint t; append (polygon, part index per unit) of every sub-piece to ``out``."""
    z = poly @ a.T + c                                         # (M, k)
    k = len(c)
    if len(breaks):
        vals = z[:, :, None] - breaks[None, None, :]          # (M, k, m)
        # the rounding of a·x + c is relative to its terms, not to its (small) value
        mag = np.abs(a).sum(axis=1) * float(np.abs(poly).max()) + np.abs(c)
        tol = 1e-11 * (mag[:, None] + np.abs(breaks)[None, :]) + 1e-300
        cross = ((vals < -tol).any(axis=0) & (vals > tol).any(axis=0))   # (k, m)
    else:
        cross = np.zeros((k, 0), dtype=bool)
    hit = np.argwhere(cross)
    if not len(hit):
        centre = z.mean(axis=0)                                # inside a convex polygon
        part = np.searchsorted(breaks, centre).astype(np.int8) if len(breaks) \
            else np.zeros(k, dtype=np.int8)
        out.append((poly, part))
        return
    j, b = hit[0]
    v = a[j] @ poly.T + c[j] - breaks[b]
    for sub in _clip(poly, v):
        if len(sub) >= 3 and abs(polygon_area(sub)) > min_area:
            _split(sub, a, c, breaks, min_area, out)


def _box(extent: Extent) -> np.ndarray:
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise TraceError(f"extent {tuple(extent)} must be finite with xmin < xmax, ymin < ymax")
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


@dataclass(frozen=True)
class LayerPieces:
    """The pieces after one layer's activation, and that layer's cuts: ``cuts`` (S, 2, 2)
    segments where its units cross a breakpoint inside the pieces before it (straight lines for
    layer 1, lines that bend at the earlier creases after), ``units`` (S,) which unit."""

    layer: int
    pieces: list[Piece]
    cuts: np.ndarray
    units: np.ndarray


def _cut_segments(poly: np.ndarray, a: np.ndarray, c: np.ndarray,
                  breaks: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
    """The segments where each unit (rows of a, c) meets each breakpoint inside ``poly``."""
    segs: list[np.ndarray] = []
    units: list[int] = []
    if not len(breaks):
        return segs, units
    z = poly @ a.T + c                                         # (M, k)
    after = np.r_[1:len(poly), 0]
    nxt = poly[after]
    for t in breaks:
        v = z - t
        vn = v[after]
        for j in np.flatnonzero((v.min(axis=0) < 0) & (v.max(axis=0) > 0)):
            cross = (v[:, j] < 0) != (vn[:, j] < 0)
            idx = np.flatnonzero(cross)
            if len(idx) < 2:
                continue
            f = v[idx, j] / (v[idx, j] - vn[idx, j])
            pts = poly[idx] + f[:, None] * (nxt[idx] - poly[idx])
            segs.append(pts[:2])
            units.append(int(j))
    return segs, units


Map = tuple[np.ndarray, np.ndarray]      # (A (d, 2), c (d,)): a stage = A·x + c on a piece


def _combine(kind: str, param: Any, ins: list[Map]) -> Map:
    """The affine map of a stage made by a non-activation step from its parents' maps."""
    a, c = ins[0]
    if kind == "linear":
        return param @ a, param @ c
    if kind == "bias":
        return a, c + param
    if kind == "affine":
        w, b = param
        return w @ a, w @ c + b
    if kind == "add":
        return np.sum([m[0] for m in ins], axis=0), np.sum([m[1] for m in ins], axis=0)
    if kind == "concat":
        return np.concatenate([m[0] for m in ins]), np.concatenate([m[1] for m in ins])
    return a, c                                  # a softmax / sigmoid head: the logits


def pieces_by_layer(trace: TraceLike, extent: Extent,
                    start: int = 0) -> Iterator[LayerPieces]:
    """The pieces after each layer's piecewise-linear activation (each with the affine map of
    the stage reached), and last the final pieces with the network's affine maps; with
    ``start``, of the rest of the network in the plane of 2-D stage ``start``. Each piece
    carries the map of every stage so far, so a residual sum or a concatenation reads the
    maps of the stages it sums."""
    steps = piecewise_steps(trace, start)
    box = _box(extent)
    min_area = 1e-15 * polygon_area(box)
    polys: list[np.ndarray] = [box]
    maps: list[list[Map]] = [[(np.eye(2), np.zeros(2))]]      # per piece, per stage from start
    pats: list[np.ndarray] = [np.zeros(0, dtype=np.int8)]
    layer = trace.stages[start].layer
    none = np.zeros((0, 2, 2)), np.zeros(0, dtype=np.int64)
    for kind, param, parents in steps:
        ps = [p - start for p in parents]
        if kind != "act":
            layer += kind == "linear"
            for m in maps:
                m.append(_combine(kind, param, [m[p] for p in ps]))
            continue
        act: Parts = param
        npolys, nmaps, npats = [], [], []
        cut_segs: list[np.ndarray] = []
        cut_units: list[int] = []
        for poly, m, pat in zip(polys, maps, pats, strict=True):
            a, c = m[ps[0]]
            cs, cu = _cut_segments(poly, a, c, act.breaks)
            cut_segs += cs
            cut_units += cu
            subs: list[tuple[np.ndarray, np.ndarray]] = []
            _split(poly, a, c, act.breaks, min_area, subs)
            for sp, part in subs:
                cols = np.arange(len(c))
                s, o = act.slope[part, cols], act.offset[part, cols]
                npolys.append(sp)
                nmaps.append([*m, (a * s[:, None], c * s + o)])
                npats.append(np.concatenate([pat, part]))
        if len(npolys) > MAX_PIECES:
            raise TraceError(f"more than {MAX_PIECES} linear regions; use a smaller extent")
        polys, maps, pats = npolys, nmaps, npats
        yield LayerPieces(layer, [Piece(p, q, m[-1], layer) for p, q, m in
                                  zip(polys, pats, maps, strict=True)],
                          np.array(cut_segs).reshape(-1, 2, 2),
                          np.array(cut_units, dtype=np.int64))
    yield LayerPieces(layer, [Piece(p, q, m[-1], layer) for p, q, m in
                              zip(polys, pats, maps, strict=True)], *none)


def linear_regions(trace: TraceLike, extent: Extent, start: int = 0) -> list[Piece]:
    """The exact linear regions of ``trace``'s network inside ``extent`` (of its input plane,
    or with ``start`` of the plane of 2-D stage ``start``)."""
    last: list[Piece] = []
    for step in pieces_by_layer(trace, extent, start):
        last = step.pieces
    return last


def _cells(piece: Piece, thr: float | None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Inside one piece: (class, polygon, edge label per edge) of each class's cell, where an
    edge's label is the class on its other side (-1: the piece's own boundary)."""
    a, c = piece.affine
    if thr is not None:                       # one output: class 1 where it exceeds thr
        a = np.vstack([np.zeros((1, 2)), a[:1]])
        c = np.array([thr, c[0]])
    k = len(c)
    logits = piece.polygon @ a.T + c                          # (M, k)
    win = logits.argmax(axis=1)
    if (win == win[0]).all():
        return [(int(win[0]), piece.polygon, np.full(len(piece.polygon), -1))]
    out = []
    for cls in range(k):
        poly, lab = piece.polygon, np.full(len(piece.polygon), -1)
        for other in range(k):
            if other == cls or len(poly) < 3:
                continue
            v = poly @ (a[other] - a[cls]) + (c[other] - c[cls])    # ≤ 0: cls beats other
            poly, lab = _clip_labelled(poly, lab, v, other)
        if len(poly) >= 3 and abs(polygon_area(poly)) > 0:
            out.append((cls, poly, lab))
    return out


def _clip_labelled(poly: np.ndarray, lab: np.ndarray, v: np.ndarray,
                   new: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the part of ``poly`` where v ≤ 0; ``lab[i]`` labels the edge from vertex i to
    i + 1, the new edge along v = 0 gets ``new``."""
    pts: list[np.ndarray] = []
    labs: list[int] = []
    m = len(poly)
    for i in range(m):
        j = (i + 1) % m
        va, vb = v[i], v[j]
        if va <= 0:
            pts.append(poly[i])
            labs.append(new if (va == 0 and vb > 0) else int(lab[i]))
        if va < 0 < vb:
            pts.append(poly[i] + (va / (va - vb)) * (poly[j] - poly[i]))
            labs.append(new)
        elif vb < 0 < va:
            pts.append(poly[i] + (va / (va - vb)) * (poly[j] - poly[i]))
            labs.append(int(lab[i]))
    if len(pts) < 3:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return np.array(pts), np.array(labs)


def decision_boundaries(trace: TraceLike, extent: Extent) -> np.ndarray:
    """(S, 2, 2) segments inside ``extent`` where the network's top class changes: in every
    linear region, the edges between the cells of two classes."""
    pieces = linear_regions(trace, extent)
    thr = None
    if trace.ops[-1].d_out == 1:
        # a sigmoid head's 0.5 is its logit's 0; a piecewise-linear last op (hard sigmoid) is
        # in the pieces' maps, so its own threshold; no head: the output's 0
        last = trace.ops[-1].kind
        thr = 0.0 if last in HEADS else threshold_after(last)
    segs = []
    for piece in pieces:
        cells = _cells(piece, thr)
        if len(cells) < 2:
            continue
        for cls, poly, lab in cells:
            for i in np.flatnonzero(lab > cls):   # each boundary once (from its lower class)
                segs.append((poly[i], poly[(i + 1) % len(poly)]))
    return np.array(segs, dtype=np.float64).reshape(-1, 2, 2)


def pattern_map(trace: TraceLike, extent: Extent, size: tuple[int, int],
                layers: int | None = None) -> np.ndarray:
    """(H, W) int64: an id of the activation pattern (of the piecewise-linear layers up to
    ``layers``; None: all) at every pixel centre of ``extent`` at ``size`` = (W, H), row 0 =
    ymin. Pixels in one linear region share the id; neighbouring regions differ."""
    with _one_blas_thread():      # beside other work on 2 cores, BLAS threads only contend
        return _pattern_map(trace, extent, size, layers)


def _pattern_map(trace: TraceLike, extent: Extent, size: tuple[int, int],
                 layers: int | None) -> np.ndarray:
    steps = piecewise_steps(trace)
    w, h = size
    x0, x1, y0, y1 = (float(v) for v in extent)
    xs = x0 + (np.arange(w) + 0.5) * ((x1 - x0) / w)
    ys = y0 + (np.arange(h) + 0.5) * ((y1 - y0) / h)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    rng = np.random.default_rng(12345)
    weights = [rng.uniform(1.0, 2.0, param.slope.shape[1]) if kind == "act" else None
               for kind, param, _ in steps]
    key = np.zeros(len(pts), dtype=np.float64)
    for s in range(0, len(pts), 8192):          # chunks: (8192, width) stays in cache
        zs = [pts[s:s + 8192]]                  # every stage's values, for sums that read back
        k = key[s:s + 8192]
        layer = 0
        for (kind, param, parents), wts in zip(steps, weights, strict=True):
            ins = [zs[p] for p in parents]
            z = ins[0]
            if kind == "linear":
                layer += 1
                if layers is not None and layer > layers:
                    break
                z = z @ param.T
            elif kind == "bias":
                z = z + param
            elif kind == "affine":
                z = z @ param[0].T + param[1]
            elif kind == "add":
                z = sum(ins[1:], ins[0])
            elif kind == "concat":
                z = np.concatenate(ins, axis=1)
            elif kind == "act":
                act: Parts = param
                out = z * act.slope[0] + act.offset[0]
                part = np.zeros(z.shape, dtype=np.float64)
                for i, t in enumerate(act.breaks):
                    above = z > t
                    part += above
                    out = np.where(above, z * act.slope[i + 1] + act.offset[i + 1], out)
                # the pattern as one random projection: equal patterns, equal ids; different
                # ones differ but for a chance of about 2^-52
                k += part @ np.asarray(wts)
                z = out
            zs.append(z)
    return np.frombuffer(key.tobytes(), dtype=np.int64).reshape(h, w)
