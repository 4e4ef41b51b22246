"""The network's decision at every pixel of a view, exactly.

:func:`region_map` labels each pixel centre of an ``extent`` rasterised at ``size`` with the
class ``Trace.predict`` gives there, i.e. ``argmax model(x)``. Pixels go through the network in
float32 batches (one pass, in place, chunked to stay in cache); alongside, a running bound of
the float32 rounding error is carried per pixel, and only the pixels whose top-two margin is
within that bound are evaluated again in float64. So the answer is the float64 network's at
every pixel, at about the cost of one float32 forward pass.

:func:`region_coverage` adds antialiasing: the pixels on a boundary (a 4-neighbour with
another class) are sampled ss×ss times and carry the fraction of each class they cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.errors import TraceError
from spacefold.limits import MAX_MAP_PIXELS
from spacefold.trace.bounds import BoxNet, certified_map
from spacefold.trace.geometry import Extent
from spacefold.trace.ops import threshold_after
from spacefold.trace.project import _one_blas_thread
from spacefold.trace.stage import TraceLike

CHUNK = 4096                 # pixels per float32 batch: a 100-wide layer's chunk fits in L2
U32 = 2.0 ** -24             # float32 unit roundoff
SAFETY = 4.0                 # the error bound below is first order: a generous factor over it
# Kinds whose float32 rounding the bound below follows; any other kind (a normalisation, a
# residual sum, ...) sends the whole map through the float64 ops instead.
STRUCTURAL = ("linear", "bias")
NOT_ELEMENTWISE = ("softmax",)
SKIP = ("input", "affine", "normalise", "add", "concat")
BOUNDED = {"sin": 1.0, "cos": 1.0, "tanh": 1.0, "sigmoid": 1.0, "softsign": 1.0}  # sup |f|


def lipschitz(op: Any) -> float:
    """A bound of |f(a) - f(b)| / |a - b| for an elementwise activation op, from its values on
    a fine grid (×1.25: the grid can miss the steepest point between samples)."""
    if op.kind == "softmax":
        return 1.0
    hit = _LIPSCHITZ.get(id(op))
    if hit is not None and hit[0] is op:
        return hit[1]
    t = np.linspace(-40.0, 40.0, 8_001)
    z = np.repeat(t[:, None], op.d_in, axis=1)
    with np.errstate(all="ignore"):
        f = np.asarray(op(z), dtype=np.float64)
    slope = np.abs(np.diff(f, axis=0)).max() / (t[1] - t[0])
    got = 1.25 * float(max(slope, 1.0)) if np.isfinite(slope) else float("inf")
    if len(_LIPSCHITZ) > 256:
        _LIPSCHITZ.clear()
    _LIPSCHITZ[id(op)] = (op, got)
    return got


_LIPSCHITZ: dict[int, tuple[Any, float]] = {}

def pixel_centres(extent: Extent, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """x (W,) and y (H,) of the pixel centres of ``extent`` rasterised at ``size`` = (W, H)."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    w, h = size
    xs = x0 + (np.arange(w) + 0.5) * ((x1 - x0) / w)
    ys = y0 + (np.arange(h) + 0.5) * ((y1 - y0) / h)
    return xs, ys


def _check(trace: TraceLike, extent: Extent, size: tuple[int, int],
           start: int = 0) -> tuple[int, int]:
    if not 0 <= start < len(trace.stages):
        raise TraceError(f"stage {start} out of range 0..{len(trace.stages) - 1}")
    if trace.stages[start].dim != 2:
        what = "input" if start == 0 else f"stage {start} ({trace.stages[start].name})"
        raise TraceError(f"region maps need a 2-D plane; the {what} is "
                         f"{trace.stages[start].dim}-D")
    try:
        w, h = (int(v) for v in size)
        x0, x1, y0, y1 = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise TraceError("size must be (width, height) and extent (xmin, xmax, ymin, ymax)") \
            from None
    if w < 1 or h < 1 or w * h > MAX_MAP_PIXELS:
        raise TraceError(f"size {w}×{h}: need 1 to {MAX_MAP_PIXELS} pixels")
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise TraceError(f"extent {tuple(extent)} must be finite with xmin < xmax, ymin < ymax")
    return w, h


class _Float32Net:
    """The trace's ops as float32 in-place steps, with a per-pixel rounding-error bound."""

    def __init__(self, trace: TraceLike, start: int = 0) -> None:
        self.steps: list[tuple[str, Any, float, int]] = []   # kind, param, ‖W‖∞ or L, width
        self.exact = True       # False: a kind the bound does not follow; use float64 only
        for i, op in enumerate(trace.ops[start:], start=start):
            parents = getattr(op, "parents", ())
            if op.kind in SKIP or (parents and tuple(parents) != (i,)):
                self.exact = False
            elif op.kind == "linear":
                w = np.asarray(op.params["W"], dtype=np.float64)
                self.steps.append(("linear", np.ascontiguousarray(w.T, dtype=np.float32),
                                   float(np.abs(w).sum(axis=1).max(initial=0.0)), w.shape[1]))
            elif op.kind == "bias":
                b = np.asarray(op.params["b"], dtype=np.float64)
                self.steps.append(("bias", b.astype(np.float32), float(np.abs(b).max()), 0))
            elif op.kind == "relu":
                self.steps.append(("relu", None, 1.0, 0))
            else:
                lip = lipschitz(op)
                self.exact &= np.isfinite(lip)
                self.steps.append((op.kind, (op, BOUNDED.get(op.kind)), lip, 0))
        self.one_out = trace.ops[-1].d_out == 1
        self.threshold = threshold_after(trace.ops[-1].kind)

    def run(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (M,) of the plane's points xy (M, 2), and a flag (M,) for those the float32
        pass cannot decide."""
        if not self.exact:
            return np.zeros(len(xy), dtype=np.int64), np.ones(len(xy), dtype=bool)
        z = xy.astype(np.float32)
        err = np.zeros(len(z), dtype=np.float32)      # bound on ‖z32 - z64‖∞ per pixel
        mag = np.maximum(np.abs(z[:, 0]), np.abs(z[:, 1]))    # bound on ‖z‖∞ per pixel
        for kind, param, norm, n_in in self.steps:
            if kind == "linear":
                z = z @ param
                err *= norm
                err += ((n_in + 2) * U32 * norm) * mag
                mag *= norm
            elif kind == "bias":
                z += param
                mag += norm
                err += U32 * mag
            elif kind == "relu":
                np.maximum(z, 0.0, out=z)
            else:
                op, bound = param
                z = np.asarray(op(z), dtype=np.float32)
                err *= norm
                if bound is None:
                    mag = np.abs(z).max(axis=1)
                else:                              # |f| ≤ bound: no pass over (M, d)
                    mag = np.full(len(z), bound, dtype=np.float32)
                err += 4 * U32 * mag
        err *= SAFETY
        if self.one_out:
            v = z[:, 0]
            return (v > self.threshold).astype(np.int64), np.abs(v - self.threshold) <= err
        if z.shape[1] == 1:
            return np.zeros(len(z), dtype=np.int64), np.zeros(len(z), dtype=bool)
        return z.argmax(axis=1).astype(np.int64), top_two_margin(z) <= 2 * err


def top_two_margin(z: np.ndarray) -> np.ndarray:
    """(M,) largest minus second largest of each row of z (M, K), K ≥ 2: column by column
    for a few classes (a running top two), else by a partial sort."""
    if z.shape[1] > 16:
        top2 = np.partition(z, z.shape[1] - 2, axis=1)[:, -2:]
        return top2[:, 1] - top2[:, 0]
    first = np.maximum(z[:, 0], z[:, 1])
    second = np.minimum(z[:, 0], z[:, 1])
    for j in range(2, z.shape[1]):
        col = z[:, j]
        np.maximum(second, np.minimum(first, col), out=second)
        np.maximum(first, col, out=first)
    return first - second


def decide(trace: TraceLike, points: np.ndarray, start: int = 0) -> np.ndarray:
    """Class (M,) of the network (from stage ``start`` on) at points (M, 2): float32, float64
    where undecided."""
    net = _Float32Net(trace, start)
    pts = np.asarray(points, dtype=np.float64)
    out = np.empty(len(pts), dtype=np.int64)
    with _one_blas_thread():
        _decide(trace, net, pts, out, start)
    return out


def _decide(trace: TraceLike, net: _Float32Net, pts: np.ndarray, out: np.ndarray,
            start: int) -> None:
    for s in range(0, len(pts), CHUNK):
        lab, unsure = net.run(pts[s:s + CHUNK])
        if unsure.any():
            idx = np.flatnonzero(unsure)
            lab[idx] = trace.predict(trace.carry(pts[s:s + CHUNK][idx], start=start)[-1])
        out[s:s + CHUNK] = lab


def region_map(trace: TraceLike, extent: Extent, size: tuple[int, int],
               start: int = 0) -> np.ndarray:
    """(H, W) int64: the class at every pixel centre of ``extent`` at ``size`` = (W, H),
    row 0 = ymin. Equal to ``trace.predict`` of the float64 network at each centre; with
    ``start``, the plane is stage ``start``'s (2-D) and the rest of the network decides."""
    w, h = _check(trace, extent, size, start)
    with _one_blas_thread():     # small batches: more BLAS threads only wait on each other
        return _region_map(trace, extent, (w, h), start)


def _region_map(trace: TraceLike, extent: Extent, size: tuple[int, int],
                start: int) -> np.ndarray:
    """Blocks of pixels the bounds certify to be one class take it; only the other pixels
    go through the network one by one (:mod:`spacefold.trace.bounds`): the same map."""
    xs, ys = pixel_centres(extent, size)
    out = certified_map(box_net(trace, start), xs, ys)
    if out is None:
        return full_region_map(trace, extent, size, start)
    idx = np.flatnonzero(out < 0)
    if len(idx):
        w = size[0]
        pts = np.stack([xs[idx % w], ys[idx // w]], axis=1)
        lab = np.empty(len(idx), dtype=np.int64)
        _decide(trace, _Float32Net(trace, start), pts, lab, start)
        out.ravel()[idx] = lab
    return out


def box_net(trace: TraceLike, start: int = 0) -> BoxNet:
    """The trace's network (from stage ``start``) over boxes of its plane."""
    return BoxNet(trace, start, lipschitz)


def full_region_map(trace: TraceLike, extent: Extent, size: tuple[int, int],
                    start: int = 0) -> np.ndarray:
    """:func:`region_map` with every pixel through the network (no certified blocks)."""
    w, h = size
    xs, ys = pixel_centres(extent, (w, h))
    rows_per = max(1, CHUNK // w)
    out = np.empty((h, w), dtype=np.int64)
    net = _Float32Net(trace, start)
    buf = np.empty((rows_per * w, 2), dtype=np.float64)
    buf[:, 0] = np.tile(xs, rows_per)
    for r in range(0, h, rows_per):
        m = min(rows_per, h - r)
        pts = buf[:m * w]
        pts[:, 1] = np.repeat(ys[r:r + m], w)
        lab, unsure = net.run(pts)
        if unsure.any():
            idx = np.flatnonzero(unsure)
            lab[idx] = trace.predict(trace.carry(pts[idx], start=start)[-1])
        out[r:r + m] = lab.reshape(m, w)
    return out


@dataclass(frozen=True)
class Coverage:
    """A region map with antialiasing: ``labels`` (H, W) at the pixel centres; for the pixels
    on a boundary, their flat indices ``edges`` (P,) and ``fractions`` (P, classes) of their
    area each class covers (ss×ss samples)."""

    labels: np.ndarray
    edges: np.ndarray
    fractions: np.ndarray


def region_coverage(trace: TraceLike, extent: Extent, size: tuple[int, int],
                    ss: int = 4, start: int = 0) -> Coverage:
    """:func:`region_map` plus the class fractions of every boundary pixel (from ss×ss
    subsamples, fewer where boundary pixels are so many that ss² of each would cost more
    than the map itself)."""
    lab = region_map(trace, extent, size, start)
    h, w = lab.shape
    edge = np.zeros((h, w), dtype=bool)
    dx = lab[:, 1:] != lab[:, :-1]
    dy = lab[1:, :] != lab[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    idx = np.flatnonzero(edge)
    classes = max(int(trace.classes), int(lab.max(initial=0)) + 1)
    # subsamples cost at most one more pass over the whole picture: where boundaries are
    # everywhere (a far zoom of a periodic net), fewer per pixel
    while ss > 1 and len(idx) * ss * ss > h * w:
        ss -= 1
    if not len(idx) or ss < 2:
        return Coverage(lab, idx, np.zeros((len(idx), classes)))
    x0, x1, y0, y1 = (float(v) for v in extent)
    px, py = (x1 - x0) / w, (y1 - y0) / h
    off = (np.arange(ss) + 0.5) / ss
    ox, oy = np.meshgrid(off, off)
    cx = x0 + (idx % w)[:, None] * px + ox.ravel()[None] * px      # (P, ss²)
    cy = y0 + (idx // w)[:, None] * py + oy.ravel()[None] * py
    sub = decide(trace, np.stack([cx.ravel(), cy.ravel()], axis=1), start).reshape(len(idx), -1)
    frac = np.zeros((len(idx), classes))
    for c in range(classes):
        frac[:, c] = (sub == c).mean(axis=1)
    return Coverage(lab, idx, frac)
