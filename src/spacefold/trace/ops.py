"""The trace's computation as a graph of numpy ops.

Every op maps its input stages' ``(M, d)`` float64 arrays to one ``(M, d_out)`` array. A
``Linear`` becomes two ops, ``W·x`` and ``+b``; each elementwise activation one op (from the
one activation table, :mod:`spacefold.model.activations`); BatchNorm one affine op; LayerNorm /
RMSNorm / GroupNorm a "normalise" op and, when they have one, their elementwise affine; a
residual sum ``x + f(x)`` an "add" op and ``torch.cat`` a "concat" op, each reading two (or
more) earlier stages. ``ops[k-1]`` computes stage ``k`` from the stages in ``ops[k-1].parents``.

This module imports no torch. :class:`~spacefold.trace.chain.Chain` builds the graph op by
op; :func:`spacefold.trace.front.decompose` is the front door that turns a model into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import SpecError, TraceError
from spacefold.model.activations import ACTIVATIONS, activation, check_params

# Kinds of stage that are not activations (an activation's kind is its table name).
STRUCTURAL = ("input", "linear", "bias", "affine", "normalise", "add", "concat")
# Display label of each activation kind: a view of the one table, for the scenes.
PRETTY = {name: a.label for name, a in ACTIVATIONS.items()}
# A single output's decision threshold after the network's last op: a probability's 0.5, its
# log after log-sigmoid, else 0 (a logit, tanh, ...). Trace.predict and every scene read it.
THRESHOLDS = {"sigmoid": 0.5, "hardsigmoid": 0.5, "logsigmoid": float(np.log(0.5))}


def threshold_after(kind: str) -> float:
    """The decision threshold of one output whose last op is ``kind``."""
    return THRESHOLDS.get(kind, 0.0)


@dataclass(frozen=True)
class Op:
    """One stage's computation. ``kind`` is "linear", "bias", "affine", "normalise", "add",
    "concat" or an activation's table name; ``parents`` are the stage indices it reads (one,
    or two and more for "add" / "concat"); ``source`` the module (as ``named_modules()``
    names it) or graph node it comes from."""

    kind: str
    layer: int                         # 1-based index of the Linear this op belongs to / follows
    name: str                          # "layer 1 · W·x"
    d_in: int
    d_out: int
    fn: Callable[..., np.ndarray] = field(repr=False, compare=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    parents: tuple[int, ...] = ()
    source: str = ""

    def __call__(self, *z: np.ndarray) -> np.ndarray:
        return self.fn(*z)


def activation_fn(kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The numpy function of table activation ``kind`` with its ``params`` (slope, alpha, ...)."""
    try:
        act = activation(kind)
        bound = act.bind(params)
        check_params(act, bound)
    except SpecError as e:
        raise TraceError(str(e)) from None
    return lambda z: act.fn(z, bound)


def times(wt: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z @ wt       # (M, in) @ (in, out) → (M, out)


def plus(b: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z + b


def scale_shift(scale: np.ndarray, shift: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z * scale + shift


def normalise(mode: str, eps: float, groups: int) -> Callable[[np.ndarray], np.ndarray]:
    """LayerNorm: centre each point and scale it to the sphere of radius √d; RMSNorm: scale
    only; GroupNorm: LayerNorm within each of ``groups`` blocks of units."""

    def fn(z: np.ndarray) -> np.ndarray:
        m, d = z.shape
        g = z.reshape(m, groups, d // groups)                         # (M, G, d/G)
        if mode == "rms":
            return (g / np.sqrt((g * g).mean(axis=2, keepdims=True) + eps)).reshape(m, d)
        c = g - g.mean(axis=2, keepdims=True)
        return (c / np.sqrt((c * c).mean(axis=2, keepdims=True) + eps)).reshape(m, d)

    return fn


def add(*zs: np.ndarray) -> np.ndarray:
    out = zs[0].copy()
    for z in zs[1:]:
        out += z
    return out


def concat(*zs: np.ndarray) -> np.ndarray:
    return np.concatenate(zs, axis=1)


CHUNK = 2048    # rows per float32 chunk: a 64-wide stage's chunk (0.5 MB) stays in cache


def float32_fns(ops: Sequence[Op]) -> list[Callable[..., np.ndarray]]:
    """Each op as a float32 function (its parameters cast once), for the rows that are drawn
    rather than checked: grid vertices and region samples."""
    f32 = np.float32
    out: list[Callable[..., np.ndarray]] = []
    for op in ops:
        if op.kind == "linear":
            out.append(times(np.ascontiguousarray(op.params["W"].T, dtype=f32)))
        elif op.kind == "bias":
            out.append(plus(op.params["b"].astype(f32)))
        elif op.kind == "affine":
            out.append(scale_shift(op.params["scale"].astype(f32),
                                    op.params["shift"].astype(f32)))
        else:
            out.append(lambda *z, op=op: op(*z).astype(f32, copy=False))
    return out


def carry_float32(ops: Sequence[Op], rows: np.ndarray, keep: int,
                  chunk: int = CHUNK) -> tuple[list[np.ndarray], np.ndarray]:
    """Carries ``rows`` (M, d_in) through the op graph in float32, ``chunk`` rows at a time
    (each chunk's stages stay in cache). Returns every stage's values for the first ``keep``
    rows ((keep, d_k) float32 per stage, the input included) and the last stage's values for
    all rows ((M, d_out) float32)."""
    fns = float32_fns(ops)
    dims = [rows.shape[1]] + [op.d_out for op in ops]
    kept = [np.empty((keep, d), dtype=np.float32) for d in dims]
    last = np.empty((rows.shape[0], dims[-1]), dtype=np.float32)
    last_use = {p: k for k, op in enumerate(ops, start=1) for p in op.parents}
    for lo in range(0, rows.shape[0], chunk):
        hi = min(lo + chunk, rows.shape[0])
        z = np.ascontiguousarray(rows[lo:hi], dtype=np.float32)
        live = {0: z}
        if lo < keep:
            kept[0][lo:min(hi, keep)] = z[:keep - lo]
        for k, (op, fn) in enumerate(zip(ops, fns, strict=True), start=1):
            z = fn(*(live[p] for p in op.parents))
            for p in op.parents:
                if last_use.get(p) == k:
                    live.pop(p, None)
            live[k] = z
            if lo < keep:
                kept[k][lo:min(hi, keep)] = z[:keep - lo]
        last[lo:hi] = z
    return kept, last
