"""A piecewise-linear network as straight pieces: the breakpoints and linear parts of each
activation (read from the op's own values), and a trace's ops as the steps the exact maths of
:mod:`~spacefold.trace.pieces` walks (``linear`` W, ``bias`` b, ``act`` parts, ``head``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace.stage import TraceLike

HEADS = ("softmax", "log_softmax", "sigmoid")   # monotone per class: the argmax is the logits'
SPAN = 1000.0            # breakpoints of an activation are looked for in [-SPAN, SPAN]


@dataclass(frozen=True)
class Parts:
    """The linear parts of one elementwise activation: breakpoints (m,) ascending and per
    part j (m + 1 of them) slopes (m + 1, d) and offsets (m + 1, d) per unit."""

    breaks: np.ndarray
    slope: np.ndarray
    offset: np.ndarray


def is_piecewise(kind: str) -> bool:
    """True for a table activation made of straight pieces (ReLU, hardtanh, threshold, ...)."""
    entry = ACTIVATIONS.get(kind)
    return entry is not None and entry.piecewise_linear


def linear_parts(op: Any) -> Parts:
    """The breakpoints and linear parts of an elementwise piecewise-linear op, read from its
    own values: kinks where the slope changes on a fine grid, each refined to where the two
    neighbouring lines meet (a jump: by bisection)."""
    hit = _PARTS.get(id(op))
    if hit is not None and hit[0] is op:
        return hit[1]
    d = op.d_in
    fine = np.linspace(-10.0, 10.0, 8_001)                    # step 0.0025 near 0
    t = np.concatenate([np.linspace(-SPAN, -10.0, 1_981)[:-1], fine,
                        np.linspace(10.0, SPAN, 1_981)[1:]])
    f = np.asarray(op(np.repeat(t[:, None], d, axis=1)), dtype=np.float64)   # (T, d)
    s = np.diff(f, axis=0) / np.diff(t)[:, None]              # slope per cell (T-1, d)
    scale = max(1.0, float(np.abs(s).max()))
    change = (np.abs(np.diff(s, axis=0)) > 1e-7 * scale).any(axis=1)   # at grid point i+1
    idx = np.flatnonzero(change) + 1
    # group neighbouring flags (a kink between grid points flags two in a row)
    groups: list[list[int]] = []
    for i in idx:
        if groups and i - groups[-1][-1] <= 2:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    breaks = []
    for g in groups:
        lo, hi = g[0] - 2, g[-1] + 2                           # cells lo-1 and hi are clean
        lo, hi = max(lo, 1), min(hi, len(t) - 2)
        s1, s2 = s[lo - 1, 0], s[hi, 0]
        o1, o2 = f[lo, 0] - s1 * t[lo], f[hi, 0] - s2 * t[hi]
        if abs(s1 - s2) > 1e-12 * scale:
            x = (o2 - o1) / (s1 - s2)
            if t[lo] - 1e-9 <= x <= t[hi] + 1e-9 and abs((s1 * x + o1) - (s2 * x + o2)) \
                    <= 1e-9 * max(1.0, abs(o1)):
                breaks.append(float(x))
                continue
        a, b = t[lo], t[hi]                                    # a jump: bisection
        for _ in range(80):
            m = 0.5 * (a + b)
            fm = float(np.asarray(op(np.full((1, d), m)))[0, 0])
            if abs(fm - (s1 * m + o1)) <= abs(fm - (s2 * m + o2)):
                a = m
            else:
                b = m
        breaks.append(float(b))
    br = np.array(sorted(set(breaks)), dtype=np.float64)
    # each part's line, per unit, from two points inside it
    edges = np.concatenate([[-SPAN], br, [SPAN]])
    slope = np.empty((len(br) + 1, d))
    offset = np.empty((len(br) + 1, d))
    for j in range(len(br) + 1):
        a, b = edges[j], edges[j + 1]
        p, q = a + 0.25 * (b - a), a + 0.75 * (b - a)
        fp = np.asarray(op(np.full((1, d), p)), dtype=np.float64)[0]
        fq = np.asarray(op(np.full((1, d), q)), dtype=np.float64)[0]
        slope[j] = (fq - fp) / (q - p)
        offset[j] = fp - slope[j] * p
    got = Parts(br, slope, offset)
    if len(_PARTS) > 64:
        _PARTS.clear()
    _PARTS[id(op)] = (op, got)
    return got


_PARTS: dict[int, tuple[Any, Parts]] = {}


Step = tuple[str, Any, tuple[int, ...]]


def piecewise_steps(trace: TraceLike, start: int = 0) -> list[Step]:
    """The trace's ops from stage ``start`` on as (kind, param, parents) steps: ("linear", W),
    ("bias", b), ("affine", (W, b)), ("add", None), ("concat", None), ("act", Parts) or
    ("head", None), each reading the stages ``parents`` (the op producing stage k reads k - 1
    in a chain; a residual sum or a concatenation reads several). A one-line error names the
    first op that is not piecewise linear."""
    if not 0 <= start < len(trace.stages):
        raise TraceError(f"stage {start} out of range 0..{len(trace.stages) - 1}")
    if trace.stages[start].dim != 2:
        if start == 0:
            raise TraceError(f"linear regions need a 2-D input; this network takes "
                             f"{trace.stages[0].dim}-D")
        raise TraceError(f"linear regions need a 2-D plane; stage {start} is "
                         f"{trace.stages[start].dim}-D")
    steps: list[Step] = []
    n = len(trace.ops)
    for i, op in enumerate(trace.ops[start:], start=start):
        parents = tuple(getattr(op, "parents", ()) or (i,))
        if min(parents) < start:
            raise TraceError(f"linear regions of the plane of stage {start}: stage {i + 1} "
                             f"({op.name}) also reads stage {min(parents)}, before it")
        if op.kind == "linear":
            steps.append(("linear", np.asarray(op.params["W"], dtype=np.float64), parents))
        elif op.kind == "bias":
            steps.append(("bias", np.asarray(op.params["b"], dtype=np.float64), parents))
        elif op.kind == "affine":                 # BatchNorm in eval: diag(scale), shift
            steps.append(("affine", (np.asarray(op.params["W"], dtype=np.float64),
                                     np.asarray(op.params["b"], dtype=np.float64)), parents))
        elif op.kind in ("add", "concat"):
            steps.append((op.kind, None, parents))
        elif op.kind in HEADS and i == n - 1:
            steps.append(("head", None, parents))
        elif op.kind != "normalise" and is_piecewise(op.kind):
            steps.append(("act", linear_parts(op), parents))
        else:
            label = op.name.split(" · ")[-1]          # "tanh", as the stage is named
            where = f"layer {op.layer} is {label}" if op.layer else f"the input is {label}"
            raise TraceError(f"linear regions need piecewise-linear activations; {where}")
    return steps
