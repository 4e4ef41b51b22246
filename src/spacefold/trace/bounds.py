"""The network's decision over whole boxes of a plane at once, certified.

For a box of the input plane (centre ``x₀``, half-widths ``h``) every unit is carried as
``z = c + A·(x - x₀) ± e``: a centre value, a slope (d, 2) and an error bound, the tightest
affine enclosure we can keep cheaply (symbolic interval propagation):

- ``W·x``, ``+b``, a per-unit affine, a sum or a concatenation are exact on it (plus a bound of
  float64 rounding);
- a piecewise-linear activation is its line on a unit that stays in one linear part, and the
  chord across the box's range with the largest gap to the function otherwise;
- a smooth activation is its tangent at ``c`` with the Taylor remainder (½·max|f''|·r²);
- any other activation keeps only an interval (its Lipschitz constant times the range).

When the lower bound of one class's score beats the upper bounds of all others by a margin far
above rounding, every point of the box has that class, exactly as ``argmax model(x)`` decides
it point by point. :func:`certified_map` uses it on blocks of pixels (32², then 16², then 8²),
so a region map evaluates pixel by pixel only near the boundaries and still equals the full
map at every pixel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.model.activations import ACTIVATIONS
from spacefold.trace.linear_parts import Parts, linear_parts
from spacefold.trace.ops import threshold_after
from spacefold.trace.stage import TraceLike

EPS = 2.0 ** -52                     # float64 unit roundoff (×2: a generous bound)
MARGIN = 1e-9                        # certified only above this share of the scores' scale
BLOCKS = (32, 16, 8)                 # block sides (pixels) tried in turn; the rest per pixel
# A box costs about this many pixels' evaluation: smaller blocks are tried only while the
# share of boxes certified at the last size, times their pixels, pays for that.
BOX_COST = 24.0
# Activations whose derivative is Lipschitz (so the tangent's error is ½·L₂·r²); the others
# that are not piecewise linear get an interval.
SMOOTH = ("sigmoid", "tanh", "sin", "gelu", "silu", "softsign", "tanhshrink", "celu")
HEADS = ("softmax", "log_softmax")   # at the end: the argmax is the logits' own


def _smooth_constants(op: Any) -> float:
    """max |f''| of an elementwise op, from second differences on a fine grid (×1.25: the
    grid can miss the largest value between samples)."""
    hit = _L2.get(id(op))
    if hit is not None and hit[0] is op:
        return hit[1]
    s = 0.004
    t = np.arange(-40.0, 40.0 + s / 2, s)
    f = np.asarray(op(np.repeat(t[:, None], op.d_in, axis=1)), dtype=np.float64)
    d2 = np.abs(f[2:] - 2 * f[1:-1] + f[:-2]).max() / (s * s)
    got = 1.25 * float(d2) + 1e-6 if np.isfinite(d2) else float("inf")
    if len(_L2) > 256:
        _L2.clear()
    _L2[id(op)] = (op, got)
    return got


_L2: dict[int, tuple[Any, float]] = {}


class BoxNet:
    """A trace's ops (from stage ``start``, whose plane is 2-D) as box-to-enclosure steps;
    ``ok`` is False for a network this cannot follow (a normalisation, softmin, ...), whose
    boxes are then never certified. ``lipschitz(op)`` bounds an activation's slope
    (:func:`spacefold.trace.regions.box_net` passes it: regions reads this module)."""

    def __init__(self, trace: TraceLike, start: int,
                 lipschitz: Callable[[Any], float]) -> None:
        self.start = start
        self.ok = trace.stages[start].dim == 2
        self.steps: list[tuple[str, Any, tuple[int, ...]]] = []
        ops = trace.ops[start:]
        end = len(ops)
        if ops and ops[-1].kind in HEADS and trace.ops[-1].d_out > 1:
            end -= 1                               # a monotone head keeps every argmax
        for op in ops[:end]:
            parents = tuple(p - start for p in getattr(op, "parents", ()))
            if any(p < 0 for p in parents):
                self.ok = False
            kind = op.kind
            if kind == "linear":
                w = np.asarray(op.params["W"], dtype=np.float64)
                self.steps.append(("linear", (np.ascontiguousarray(w.T),
                                              np.ascontiguousarray(np.abs(w).T)), parents))
            elif kind == "bias":
                self.steps.append(("bias", np.asarray(op.params["b"], np.float64), parents))
            elif kind == "affine":
                self.steps.append(("affine", (np.asarray(op.params["scale"], np.float64),
                                              np.asarray(op.params["shift"], np.float64)),
                                   parents))
            elif kind in ("add", "concat"):
                self.steps.append((kind, None, parents))
            elif kind in ACTIVATIONS and not ACTIVATIONS[kind].over_classes:
                if kind == "relu":
                    self.steps.append(("relu", None, parents))
                elif ACTIVATIONS[kind].piecewise_linear:
                    self.steps.append(("pl", linear_parts(op), parents))
                elif kind in SMOOTH and np.isfinite(_smooth_constants(op)):
                    self.steps.append(("smooth", (op, _smooth_constants(op)), parents))
                elif np.isfinite(lipschitz(op)):
                    self.steps.append(("interval", (op, lipschitz(op)), parents))
                else:
                    self.ok = False
            else:
                self.ok = False
        self.one_out = trace.ops[-1].d_out == 1
        self.threshold = threshold_after(trace.ops[-1].kind)

    def classify(self, centres: np.ndarray, half: np.ndarray) -> np.ndarray:
        """(M,) the class of every point of each box (centres (M, 2), half-widths (M, 2)),
        or -1 where it is not certain to be one class."""
        m = len(centres)
        if not self.ok or m == 0:
            return np.full(m, -1, dtype=np.int64)
        hx, hy = half[:, :1], half[:, 1:]
        # one state per stage: centre c, slopes ax / ay (per unit, per input axis), error e
        c = np.asarray(centres, dtype=np.float64)
        ax = np.broadcast_to(np.array([1.0, 0.0]), (m, 2)).copy()
        ay = np.broadcast_to(np.array([0.0, 1.0]), (m, 2)).copy()
        e = np.zeros((m, 2))
        states = [(c, ax, ay, e)]
        for kind, param, parents in self.steps:
            c, ax, ay, e = states[parents[0] if parents else -1]
            if kind == "linear":
                wt, awt = param
                mag = np.abs(c) + np.abs(ax) * hx + np.abs(ay) * hy + e
                kappa = (wt.shape[0] + 2) * EPS
                c, ax, ay = c @ wt, ax @ wt, ay @ wt                  # (M, d_out) each
                e = (e + kappa * mag) @ awt
            elif kind == "bias":
                c = c + param
                e = e + EPS * (np.abs(c) + 1e-300)
            elif kind == "affine":
                s, t = param
                c = c * s + t
                ax, ay = ax * s, ay * s
                e = e * np.abs(s) + 2 * EPS * np.abs(c)
            elif kind in ("add", "concat"):
                got = [states[p] for p in parents]
                join = (lambda xs: sum(xs[1:], xs[0])) if kind == "add" else \
                    (lambda xs: np.concatenate(xs, axis=1))
                c, ax, ay, e = (join([g[i] for g in got]) for i in range(4))
                if kind == "add":
                    e = e + len(got) * EPS * np.abs(c)
            else:
                r = np.abs(ax) * hx + np.abs(ay) * hy + e             # (M, d) half-range
                if kind == "relu":
                    c, ax, ay, e = _relu(c, ax, ay, e, r)
                elif kind == "pl":
                    c, ax, ay, e = _chord(param, c, ax, ay, e, r)
                elif kind == "smooth":
                    c, ax, ay, e = _tangent(param, c, ax, ay, e, r)
                else:
                    op, lip = param
                    c = np.asarray(op(c), dtype=np.float64)
                    ax, ay = np.zeros_like(c), np.zeros_like(c)
                    e = lip * r + 4 * EPS * np.abs(c)
            states.append((c, ax, ay, e))
        c, ax, ay, e = states[-1]
        r = np.abs(ax) * hx + np.abs(ay) * hy + e
        lo, hi = c - r, c + r
        scale = MARGIN * (1.0 + np.abs(c).max(axis=1) + r.max(axis=1))
        if self.one_out:
            out = np.full(m, -1, dtype=np.int64)
            out[lo[:, 0] > self.threshold + scale] = 1
            out[hi[:, 0] < self.threshold - scale] = 0
            return out
        best = c.argmax(axis=1)
        rows = np.arange(m)
        lo_best = lo[rows, best]
        hi[rows, best] = -np.inf
        sure = lo_best > hi.max(axis=1) + scale
        return np.where(sure, best, -1).astype(np.int64)


def _relu(c: np.ndarray, ax: np.ndarray, ay: np.ndarray, e: np.ndarray,
          r: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`_chord` for ReLU, in fewer passes: the chord's slope is 1 (on), 0 (off) or
    hi / (hi - lo); its offset ``off`` = relu(lo) - slope·lo, and ReLU lies between the chord
    and the chord minus ``off`` (0 for a unit that stays on or off)."""
    lo = c - r
    lam = c + r
    lam /= np.maximum(2 * r, 1e-300)
    np.clip(lam, 0.0, 1.0, out=lam)
    off = np.maximum(lo, 0.0)
    off -= lam * lo
    off *= 0.5
    c_new = lam * c
    c_new += off
    e_new = lam * e
    e_new += off
    e_new += 4 * EPS * np.abs(c_new)
    return c_new, lam * ax, lam * ay, e_new


def _chord(p: Parts, c: np.ndarray, ax: np.ndarray, ay: np.ndarray, e: np.ndarray,
           r: np.ndarray) -> tuple[np.ndarray, ...]:
    """A piecewise-linear activation over z ∈ [c - r, c + r]: the line through its values at
    both ends, and half the spread of its gaps to that line (0 where one part holds)."""
    lo, hi = c - r, c + r
    d = c.shape[1]
    cols = np.arange(d)
    j_lo = np.searchsorted(p.breaks, lo, side="right") if len(p.breaks) else \
        np.zeros(lo.shape, dtype=np.int64)
    j_hi = np.searchsorted(p.breaks, hi, side="left") if len(p.breaks) else j_lo
    s_lo, o_lo = p.slope[j_lo, cols], p.offset[j_lo, cols]
    stable = j_lo >= j_hi
    f_lo = s_lo * lo + o_lo
    f_hi = p.slope[j_hi, cols] * hi + p.offset[j_hi, cols]
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(stable, s_lo, (f_hi - f_lo) / np.where(width > 0, width, 1.0))
    off = np.where(stable, o_lo, f_lo - lam * lo)
    gmin = np.zeros_like(c)
    gmax = np.zeros_like(c)
    if not stable.all():
        for i, t in enumerate(p.breaks):            # both sides of every breakpoint inside
            inside = ~stable & (lo < t) & (t < hi)
            if not inside.any():
                continue
            line = lam * t + off
            for part in (i, i + 1):
                g = np.where(inside, p.slope[part, cols] * t + p.offset[part, cols] - line, 0.0)
                np.minimum(gmin, g, out=gmin)
                np.maximum(gmax, g, out=gmax)
    c_new = lam * c + off + (gmin + gmax) / 2
    e_new = np.abs(lam) * e + (gmax - gmin) / 2 + 4 * EPS * (np.abs(lam * c) + np.abs(off)
                                                             + np.abs(c_new))
    return c_new, lam * ax, lam * ay, e_new


def _tangent(param: tuple[Any, float], c: np.ndarray, ax: np.ndarray, ay: np.ndarray,
             e: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, ...]:
    """A smooth activation over z ∈ [c - r, c + r]: its tangent at c (the slope from a
    central difference, with that estimate's own error) plus ½·max|f''|·r²."""
    op, l2 = param
    fc = np.asarray(op(c), dtype=np.float64)
    delta = 1e-6 * (1.0 + np.abs(c))
    fp, fm = np.asarray(op(c + delta), np.float64), np.asarray(op(c - delta), np.float64)
    g = (fp - fm) / (2 * delta)
    g_err = l2 * delta / 2 + 8 * EPS * (np.abs(fp) + np.abs(fm) + 1e-300) / (2 * delta)
    e_new = np.abs(g) * e + g_err * r + 0.5 * l2 * r * r + 4 * EPS * (np.abs(fc) + 1e-300)
    return fc, g * ax, g * ay, e_new


def certified_map(net: BoxNet, xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """(H, W) int64 over the pixel centres xs (W,) × ys (H,): the class of every pixel in a
    block the bounds certify, -1 elsewhere; None when the network cannot be followed."""
    if not net.ok:
        return None
    w, h = len(xs), len(ys)
    b0 = BLOCKS[0]
    r0 = np.arange(0, h, b0)
    c0 = np.arange(0, w, b0)
    rows, cols = (a.ravel() for a in np.meshgrid(r0, c0, indexing="ij"))
    # the labels by block of the current side: a block's certified class, or -1; each level
    # splits the grid of the one before (every side divides the one before it), and the last
    # grid is spread over the pixels in one gather (writing each level over the whole
    # picture cost more than the bounds: ~3 ms of a 770x580 map's 5)
    grid = np.full((len(r0), len(c0)), -1, dtype=np.int64)
    b = b0
    for i, b in enumerate(BLOCKS):
        if i:
            k = BLOCKS[i - 1] // b
            grid = grid.repeat(k, axis=0).repeat(k, axis=1)
        if not len(rows):
            break
        r1, c1 = np.minimum(rows + b, h) - 1, np.minimum(cols + b, w) - 1  # last pixel in
        cx, cy = (xs[cols] + xs[c1]) / 2, (ys[rows] + ys[r1]) / 2
        half = np.stack([(xs[c1] - xs[cols]) / 2, (ys[r1] - ys[rows]) / 2], axis=1)
        lab = net.classify(np.stack([cx, cy], axis=1), half)
        sure = lab >= 0
        grid[rows[sure] // b, cols[sure] // b] = lab[sure]
        left = ~sure
        rows, cols = rows[left], cols[left]
        if i + 1 < len(BLOCKS):                       # split each into four smaller blocks
            s = BLOCKS[i + 1]
            if sure.mean() * s * s <= BOX_COST:
                break
            rows = np.concatenate([rows, rows, rows + s, rows + s])
            cols = np.concatenate([cols, cols + s, cols, cols + s])
            keep = (rows < h) & (cols < w)
            rows, cols = rows[keep], cols[keep]
    return grid.take(np.arange(h) // b, axis=0).take(np.arange(w) // b, axis=1)
