"""The maths the scenes repeat, once: plane rasters, the regions of a stage, the affine tail
after a stage, exact decision boundaries, region contours, softmax, cross-entropy, periods.

Everything reads a :class:`~spacefold.trace.core.Trace` through its public API (``stages``,
``ops``, ``carry``, ``predict``) and returns numpy arrays; nothing here draws.

>>> import spacefold as sf
>>> d = sf.dataset("cloud", n=100)
>>> t = sf.trace(sf.build("2-2-2", activation="relu"), d.x, labels=d.y)
>>> tail = affine_tail(t, 3)          # after "layer 1 · ReLU" comes one Linear: affine
>>> tail.W.shape, tail.b.shape
((2, 2), (2,))
>>> affine_tail(t, 0) is None         # from the input, the ReLU is in the way
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spacefold.errors import TraceError
from spacefold.trace.core import Trace
from spacefold.trace.geometry import Extent
from spacefold.trace.ops import threshold_after
from spacefold.trace.project import pad

# Op kinds that are affine maps of their input, and elementwise strictly increasing heads
# (they keep every argmax, and the sign of a single output around its threshold).
AFFINE_KINDS = ("linear", "bias", "affine", "identity")
MONOTONE_HEADS = ("softmax", "sigmoid", "tanh")


# -- sampling the plane --------------------------------------------------------------------------

def raster(extent: Extent, nx: int, ny: int | None = None) -> np.ndarray:
    """(ny·nx, 2) pixel centres of an nx×ny raster over ``extent``; row 0 is ymin."""
    ny = nx if ny is None else ny
    if nx < 1 or ny < 1:
        raise TraceError(f"raster {nx}×{ny} needs at least one pixel per side")
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / nx / 2, (y1 - y0) / ny / 2
    gx, gy = np.meshgrid(np.linspace(x0 + hx, x1 - hx, nx), np.linspace(y0 + hy, y1 - hy, ny))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def check_plane(tr: Trace, k: int) -> None:
    if not 0 <= k < len(tr.stages):
        raise TraceError(f"stage {k} out of range 0..{len(tr.stages) - 1}")
    if tr.stages[k].dim != 2:
        raise TraceError(f"stage {k} ({tr.stages[k].name}) is {tr.stages[k].dim}-D, not a plane")


# -- decisions -------------------------------------------------------------------------------------

def threshold(tr: Trace) -> float:
    """The decision threshold of a single output (the rule of :meth:`Trace.predict`)."""
    return threshold_after(tr.ops[-1].kind)


def decision_scores(tr: Trace, out: np.ndarray) -> np.ndarray:
    """(M, C) scores whose argmax is ``tr.predict(out)`` and whose ties are the decision
    boundaries: the outputs themselves, or for one output (t − y, y − t) around its
    threshold t."""
    out = np.asarray(out, dtype=np.float64)
    if out.shape[1] == 1:
        t = threshold(tr)
        return np.concatenate([t - out, out - t], axis=1)
    return out


def stage_outputs(tr: Trace, k: int, points: np.ndarray) -> np.ndarray:
    """(M, d_out): the rest of the network (stages k+1 … last) on ``points`` (M, d_k)."""
    return tr.carry(points, start=k)[-1]


def stage_regions(tr: Trace, k: int, extent: Extent, nx: int, ny: int | None = None
                  ) -> np.ndarray:
    """(ny, nx) class per pixel of a raster over ``extent`` in stage ``k``'s plane: the rest
    of the network carried over the pixel centres, then the network's decision."""
    check_plane(tr, k)
    ny = nx if ny is None else ny
    out = stage_outputs(tr, k, raster(extent, nx, ny))
    return tr.predict(out).reshape(ny, nx)


# -- the affine tail -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AffineTail:
    """The network after stage ``k`` is ``head(W·h + b)``: ``W`` (d_out, d_k), ``b`` (d_out,),
    ``head`` the trailing elementwise-increasing ops ("softmax", "sigmoid", ...) or ()."""

    k: int
    W: np.ndarray
    b: np.ndarray
    head: tuple[str, ...] = ()
    layers: int = 0                 # how many Linear layers were composed

    def logits(self, h: np.ndarray) -> np.ndarray:
        """(M, d_out) ``W·h + b`` for points h (M, d_k): the scores before the head."""
        return np.asarray(h, dtype=np.float64) @ self.W.T + self.b


def affine_tail(tr: Trace, k: int) -> AffineTail | None:
    """The rest of the network after stage ``k`` as one affine map (then an increasing head),
    or None when something else (ReLU, a residual sum, a norm, ...) is in the way.

    Composes the Linear / +b / per-unit affine (BatchNorm in eval) / identity ops:
    W = W_m ⋯ W_1, b = W_m ⋯ W_2·b_1 + … + b_m.
    """
    if not 0 <= k < len(tr.stages):
        raise TraceError(f"stage {k} out of range 0..{len(tr.stages) - 1}")
    ops = list(tr.ops[k:])
    head: list[str] = []
    while ops and ops[-1].kind in MONOTONE_HEADS:
        head.insert(0, ops.pop().kind)
    if head and "softmax" in head and tr.ops[-1].d_out == 1:
        return None                              # softmax of one output is constant
    for i in range(k, len(tr.ops)):               # a chain from stage k: each op reads the last
        if tuple(getattr(tr.ops[i], "parents", ()) or (i,)) != (i,):
            return None
    d = tr.stages[k].dim
    w, b = np.eye(d), np.zeros(d)
    layers = 0
    for op in ops:
        if op.kind == "linear":
            wk = np.asarray(op.params["W"], dtype=np.float64)
            w, b = wk @ w, wk @ b
            layers += 1
        elif op.kind == "bias":
            b = b + np.asarray(op.params["b"], dtype=np.float64)
        elif op.kind == "affine":                 # per-unit scale and shift (BatchNorm in eval)
            wk = np.asarray(op.params["W"], dtype=np.float64)
            w, b = wk @ w, wk @ b + np.asarray(op.params["b"], dtype=np.float64)
        elif op.kind != "identity":
            return None
    return AffineTail(k, w, b, tuple(head), layers)


def decision_affine(tr: Trace, tail: AffineTail) -> tuple[np.ndarray, np.ndarray]:
    """(W (C, d), b (C,)) whose argmax over ``W·h + b`` is the network's decision at h: the
    tail's own scores, or for one output the two scores (t' − z, z − t') with t' the
    threshold before the head (0 after sigmoid or tanh)."""
    if tail.W.shape[0] > 1:
        return tail.W, tail.b
    t = 0.0 if tail.head else threshold(tr)
    w = np.concatenate([-tail.W, tail.W])
    b = np.array([t - tail.b[0], tail.b[0] - t])
    return w, b


# -- exact boundaries of an affine decision in a plane ---------------------------------------------

@dataclass(frozen=True)
class Boundary:
    """A straight piece of an argmax boundary in a plane h: classes ``k`` and ``j`` tie,
    (w_k − w_j)·h + (b_k − b_j) = 0, and beat every other class.
    Points with (w_k − w_j)·h + (b_k − b_j) > 0 go to ``k``."""

    k: int
    j: int
    start: np.ndarray        # (2,)
    end: np.ndarray          # (2,)
    normal: np.ndarray       # (2,) w_k − w_j
    offset: float            # b_k − b_j

    @property
    def length(self) -> float:
        return float(np.hypot(*(self.end - self.start)))


def boundary_segments(w: np.ndarray, b: np.ndarray, box: Extent,
                      eps: float = 1e-9) -> list[Boundary]:
    """Where argmax(w·h + b) changes inside ``box``: for every pair k < j, the line where their
    scores tie, clipped to where those two beat all other classes (and to the box).

    ``w`` is (K, 2), ``b`` (K,). Each constraint a·h + c ≥ 0 restricted to the line
    h = p + t·d is an interval of t; their intersection is the segment.
    """
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != 2:
        raise TraceError(f"boundary segments need a (K, 2) matrix, got {w.shape}")
    x0, x1, y0, y1 = box
    box_rows = [(np.array([1.0, 0.0]), -x0), (np.array([-1.0, 0.0]), x1),
                (np.array([0.0, 1.0]), -y0), (np.array([0.0, -1.0]), y1)]
    out = []
    n_cls = len(b)
    for k in range(n_cls):
        for j in range(k + 1, n_cls):
            nrm, c = w[k] - w[j], float(b[k] - b[j])
            nn2 = float(nrm @ nrm)
            if nn2 < eps:
                continue                                     # parallel score planes
            p = -c * nrm / nn2                               # a point on the tie line
            d = np.array([-nrm[1], nrm[0]]) / math.sqrt(nn2)  # its direction
            lo, hi = -math.inf, math.inf
            rows = [(w[k] - w[m], float(b[k] - b[m])) for m in range(n_cls) if m not in (k, j)]
            for a, ca in rows + box_rows:
                ad, val = float(a @ d), float(a @ p) + ca    # a·(p + t·d) + ca = val + ad·t
                if abs(ad) < eps:
                    if val < 0:
                        lo, hi = 0.0, -1.0                   # never satisfied: empty
                    continue
                if ad > 0:
                    lo = max(lo, -val / ad)
                else:
                    hi = min(hi, -val / ad)
            if hi - lo > eps * max(1.0, abs(lo), abs(hi)):
                out.append(Boundary(k, j, p + lo * d, p + hi * d, nrm, c))
    return out


# -- contours of computed regions ------------------------------------------------------------------

def zero_contour(f: np.ndarray, extent: Extent) -> np.ndarray:
    """(M, 2, 2) segments of the curve f = 0, by marching squares over ``f`` (ny, nx) sampled
    at the pixel centres of :func:`raster` over ``extent``; each crossing is placed by linear
    interpolation along its cell edge, saddles are split by the cell's mean."""
    f = np.asarray(f, dtype=np.float64)
    ny, nx = f.shape
    if nx < 2 or ny < 2:
        return np.zeros((0, 2, 2))
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / nx, (y1 - y0) / ny
    xs = x0 + hx * (np.arange(nx) + 0.5)
    ys = y0 + hy * (np.arange(ny) + 0.5)
    pos = f > 0
    bl, br, tr_, tl = f[:-1, :-1], f[:-1, 1:], f[1:, 1:], f[1:, :-1]   # (ny-1, nx-1) corners
    pbl, pbr, ptr, ptl = pos[:-1, :-1], pos[:-1, 1:], pos[1:, 1:], pos[1:, :-1]
    X, Y = np.meshgrid(xs[:-1], ys[:-1])                                # cell's bottom left

    def cross(fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = fa / (fa - fb)
        return np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)

    # crossing point on each edge: bottom, right, top, left  → (ny-1, nx-1, 2)
    e_b = np.stack([X + hx * cross(bl, br), Y], -1)
    e_r = np.stack([X + hx, Y + hy * cross(br, tr_)], -1)
    e_t = np.stack([X + hx * cross(tl, tr_), Y + hy], -1)
    e_l = np.stack([X, Y + hy * cross(bl, tl)], -1)
    c_b, c_r, c_t, c_l = pbl != pbr, pbr != ptr, ptl != ptr, pbl != ptl
    n = c_b.astype(int) + c_r + c_t + c_l
    segs: list[np.ndarray] = []
    two = n == 2
    edges = [(c_b, e_b), (c_r, e_r), (c_t, e_t), (c_l, e_l)]
    for i in range(4):
        for j in range(i + 1, 4):
            m = two & edges[i][0] & edges[j][0]
            if m.any():
                segs.append(np.stack([edges[i][1][m], edges[j][1][m]], 1))
    four = n == 4
    if four.any():
        centre_pos = (bl + br + tr_ + tl) / 4 > 0
        same = four & (centre_pos == pbl)         # centre joins bl and tr: cut off br, tl
        diff = four & (centre_pos != pbl)         # centre joins br and tl: cut off bl, tr
        for m, pairs in ((same, ((e_b, e_r), (e_t, e_l))), (diff, ((e_b, e_l), (e_r, e_t)))):
            if m.any():
                for a, c in pairs:
                    segs.append(np.stack([a[m], c[m]], 1))
    return np.concatenate(segs) if segs else np.zeros((0, 2, 2))


def chain_segments(segs: np.ndarray, tol: float = 1e-9) -> list[np.ndarray]:
    """Segments (M, 2, 2) that share endpoints (as :func:`zero_contour`'s do) joined into
    polylines (each (V, 2)); endpoints closer than ``tol`` times the extent are one point."""
    if len(segs) == 0:
        return []
    span = float(np.ptp(segs.reshape(-1, 2), axis=0).max()) or 1.0
    keys = np.round(segs / (tol * span)).astype(np.int64)            # (M, 2, 2)
    ends: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i in range(len(segs)):
        for e in (0, 1):
            ends.setdefault((int(keys[i, e, 0]), int(keys[i, e, 1])), []).append((i, e))
    used = np.zeros(len(segs), dtype=bool)
    out = []
    for start in range(len(segs)):
        if used[start]:
            continue
        used[start] = True
        line = [segs[start, 0], segs[start, 1]]
        for direction in (1, 0):                  # grow from the end, then from the start
            i, e = start, direction
            while True:
                key = (int(keys[i, e, 0]), int(keys[i, e, 1]))
                nxt = next(((j, f) for j, f in ends[key] if not used[j]), None)
                if nxt is None:
                    break
                j, f = nxt
                used[j] = True
                point = segs[j, 1 - f]
                if direction == 1:
                    line.append(point)
                else:
                    line.insert(0, point)
                i, e = j, 1 - f
        out.append(np.array(line))
    return out


def region_contours(tr: Trace, k: int, extent: Extent, nx: int, ny: int | None = None
                    ) -> np.ndarray:
    """(M, 2, 2) segments of the decision boundaries in stage ``k``'s plane, computed: for
    every class c, the zero contour of (score_c − best other score) over a raster of
    ``extent``. Each boundary is found from both of its sides (the two coincide)."""
    check_plane(tr, k)
    ny = nx if ny is None else ny
    s = decision_scores(tr, stage_outputs(tr, k, raster(extent, nx, ny)))   # (ny·nx, C)
    s = s.reshape(ny, nx, -1)
    out = []
    for c in range(s.shape[-1]):
        others = np.delete(s, c, axis=-1).max(axis=-1)
        out.append(zero_contour(s[..., c] - others, extent))
    return np.concatenate(out) if out else np.zeros((0, 2, 2))


# -- probabilities and loss ------------------------------------------------------------------------

def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (shifted by the max: no overflow)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.asarray(e / e.sum(axis=axis, keepdims=True))


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=axis, keepdims=True)
    return np.asarray(z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True)))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean −log softmax(logits)[label] over the rows of ``logits`` (N, C) (torch's
    ``F.cross_entropy`` with its default mean reduction)."""
    lp = log_softmax(logits, axis=1)
    y = np.asarray(labels, dtype=np.int64)
    return float(-lp[np.arange(len(y)), y].mean())


# -- periods ---------------------------------------------------------------------------------------

def period_vectors(tr: Trace) -> np.ndarray | None:
    """(2, 2) rows p₁, p₂ with f(x + pᵢ) = f(x) for the whole network, or None when it is not
    periodic that way: its first ops must be a Linear of a 2-D input onto 2 units (invertible),
    an optional +b, then sine. Then W₁·pᵢ = 2π·eᵢ and every later stage is unchanged."""
    ops = tr.ops
    if tr.stages[0].dim != 2 or not ops or ops[0].kind != "linear":
        return None
    w = np.asarray(ops[0].params["W"], dtype=np.float64)
    if w.shape != (2, 2) or abs(np.linalg.det(w)) < 1e-9 * max(float(np.abs(w).max()), 1e-300):
        return None
    i = 2 if len(ops) > 1 and ops[1].kind == "bias" else 1
    if i >= len(ops) or ops[i].kind != "sin":
        return None
    return np.asarray(2 * np.pi * np.linalg.inv(w).T)


# -- motion of carried points ----------------------------------------------------------------------

def between(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """Points carried to a stage's base ``a`` (..., d_a) and to the stage ``b`` (..., d_b), at
    ``alpha``: the rule of :meth:`Trace.at` (the smaller zero-padded, straight line) for
    points that are not the trace's own (polygons, creases carried with ``carry``)."""
    d = max(a.shape[-1], b.shape[-1])
    return (1.0 - alpha) * pad(np.asarray(a, dtype=np.float64), d) \
        + alpha * pad(np.asarray(b, dtype=np.float64), d)
