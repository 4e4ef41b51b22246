"""The edges of a piecewise-linear network's exact linear regions, for the viewer's toggle:
each edge once, as segments of the input plane whose ends, carried through the network, draw
them exactly at every stage (issue 11)."""

from __future__ import annotations

from typing import Any

import numpy as np

import spacefold.limits as limits
from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace import Trace
from spacefold.trace.linear_parts import HEADS
from spacefold.trace.pieces import pieces_by_layer


def reason(trace: Trace) -> str:
    """Why the activation table says ``trace``'s network has no linear regions to draw, or ""
    (:func:`edges` may find another reason: a norm layer, a skip connection)."""
    if trace.extent is None or trace.stages[0].dim != 2:
        return f"linear regions need a 2-D input; this network takes {trace.stages[0].dim}-D"
    for i, op in enumerate(trace.ops):
        act = ACTIVATIONS.get(op.kind)
        if act is not None and not act.piecewise_linear and not (
                i == len(trace.ops) - 1 and op.kind in HEADS):
            where = f"layer {op.layer}" if op.layer else "the input"
            return f"linear regions need piecewise-linear activations; {where} is {act.label}"
    return ""


def edges(trace: Trace, cap: int) -> tuple[dict[str, Any], np.ndarray | None]:
    """The edges of ``trace.linear_regions(extent)`` inside the extent, each once, as
    (E, 2, 2) segments of the input plane; the longest ``cap`` when there are more. An edge
    shared by two pieces is one segment, split wherever a vertex of either piece lies on it,
    so each segment lies on the edge of one piece, where every stage is affine: its two ends
    carried through the network draw it exactly at every stage (before a softmax head)."""
    why = reason(trace)
    if not why:
        try:                  # Trace.linear_regions, layer by layer within the budget
            for step in pieces_by_layer(trace, trace.extent):   # type: ignore[arg-type]
                pieces = step.pieces
                if len(pieces) > limits.VIEWER_MAX_PIECES:
                    why = (f"linear regions: more than {limits.VIEWER_MAX_PIECES} pieces "
                           f"after layer {step.layer}, too many to draw")
                    break
        except TraceError as e:
            why = str(e)
    if why:
        return {"reason": why}, None
    x0, x1, y0, y1 = trace.extent                        # type: ignore[misc]
    tol = 1e-9 * max(x1 - x0, y1 - y0)
    a = np.concatenate([p.polygon for p in pieces])
    b = np.concatenate([np.roll(p.polygon, -1, axis=0) for p in pieces])
    side = np.zeros(len(a), dtype=bool)                  # on a side of the extent's box
    for j, v in ((0, x0), (0, x1), (1, y0), (1, y1)):
        side |= (np.abs(a[:, j] - v) < tol) & (np.abs(b[:, j] - v) < tol)
    a, b = a[~side], b[~side]
    d = b - a
    n = np.hypot(d[:, 0], d[:, 1])
    a, u = a[n > tol], d[n > tol] / n[n > tol, None]
    u[(u[:, 0] < -1e-12) | ((np.abs(u[:, 0]) <= 1e-12) & (u[:, 1] < 0))] *= -1
    nrm = np.stack([-u[:, 1], u[:, 0]], axis=1)          # each edge's line: nrm·x = off
    off = (nrm * a).sum(axis=1)
    sa, sb = (u * a).sum(axis=1), (u * (a + d[n > tol])).sum(axis=1)
    key = np.round(np.column_stack([nrm * 1e8, off / tol * 0.1])).astype(np.int64)
    gid = np.unique(key, axis=0, return_inverse=True)[1].ravel()
    # along each line, the runs between consecutive ends that some edge covers
    m = len(a)
    s = np.concatenate([np.minimum(sa, sb), np.maximum(sa, sb)])
    g, ed = np.tile(gid, 2), np.tile(np.arange(m), 2)
    delta = np.repeat([1, -1], m)
    order = np.lexsort((s, g))
    s, g, ed, cover = s[order], g[order], ed[order], np.cumsum(delta[order])
    run = (g[:-1] == g[1:]) & (s[1:] - s[:-1] > tol) & (cover[:-1] > 0)
    i = np.flatnonzero(run)
    foot = nrm[ed[i]] * off[ed[i], None]                   # the line's point at s = 0
    seg = np.stack([foot + u[ed[i]] * s[j, None] for j in (i, i + 1)], axis=1)   # (E, 2, 2)
    info = {"reason": "", "pieces": len(pieces), "edges": len(seg), "shown": min(len(seg), cap)}
    if len(seg) > cap:
        seg = seg[np.sort(np.argsort(-(s[i + 1] - s[i]), kind="stable")[:cap])]
    return info, seg
