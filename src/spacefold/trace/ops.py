"""The trace's computation as a graph of numpy ops, and the front door that builds it.

Every op maps its input stages' ``(M, d)`` float64 arrays to one ``(M, d_out)`` array. A
``Linear`` becomes two ops, ``W·x`` and ``+b``; each elementwise activation one op (from the
one activation table, :mod:`spacefold.model.activations`); BatchNorm one affine op; LayerNorm /
RMSNorm / GroupNorm a "normalise" op and, when they have one, their elementwise affine; a
residual sum ``x + f(x)`` an "add" op and ``torch.cat`` a "concat" op, each reading two (or
more) earlier stages. ``ops[k-1]`` computes stage ``k`` from the stages in ``ops[k-1].parents``.

This module imports no torch: a torch model is decomposed by
:mod:`spacefold.trace.torch_front` (imported on demand), a
:class:`~spacefold.model.network.Network` read from a checkpoint needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import SpecError, TraceError
from spacefold.model.activations import ACTIVATIONS, activation, check_params
from spacefold.model.network import Network

# Kinds of stage that are not activations (an activation's kind is its table name).
STRUCTURAL = ("input", "linear", "bias", "affine", "normalise", "add", "concat")
# Display label of each activation kind: a view of the one table, for the scenes.
PRETTY = {name: a.label for name, a in ACTIVATIONS.items()}


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


def _times(wt: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z @ wt       # (M, in) @ (in, out) → (M, out)


def _plus(b: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z + b


def _scale_shift(scale: np.ndarray, shift: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z * scale + shift


def _normalise(mode: str, eps: float, groups: int) -> Callable[[np.ndarray], np.ndarray]:
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


def _add(*zs: np.ndarray) -> np.ndarray:
    out = zs[0].copy()
    for z in zs[1:]:
        out += z
    return out


def _concat(*zs: np.ndarray) -> np.ndarray:
    return np.concatenate(zs, axis=1)


NORM_LABELS = {"layer": "LayerNorm", "rms": "RMSNorm", "group": "GroupNorm"}


class Chain:
    """Builds the op graph stage by stage, checking that widths line up.

    Each method takes ``at`` (the stage it reads; default the last one) and returns the new
    stage's index, so DAGs are built in topological order like chains.
    """

    def __init__(self, d_in: int) -> None:
        self.ops: list[Op] = []
        self.dims = [d_in]                 # dims[k]: width of stage k
        self.layer = 0

    @property
    def d(self) -> int:
        return self.dims[-1]

    @property
    def last(self) -> int:
        return len(self.dims) - 1

    def _label(self, short: str) -> str:
        return f"layer {self.layer} · {short}" if self.layer else short

    def _push(self, kind: str, name: str, d_out: int, fn: Callable[..., np.ndarray],
              params: dict[str, Any], parents: tuple[int, ...], source: str) -> int:
        d_in = self.dims[parents[0]]
        self.ops.append(Op(kind, self.layer, name, d_in, d_out, fn, params, parents, source))
        self.dims.append(d_out)
        return self.last

    def linear(self, w: np.ndarray, b: np.ndarray | None, source: str = "",
               at: int | None = None) -> int:
        """A Linear layer: ``w`` (out, in), ``b`` (out,) or None."""
        k = self.last if at is None else at
        out_f, in_f = w.shape
        if in_f != self.dims[k]:
            where = f" ({source!r})" if source else ""
            raise TraceError(f"Linear({in_f}, {out_f}){where} receives {self.dims[k]}-D input "
                             f"(layer {self.layer + 1})")
        self.layer += 1
        w = np.array(w, dtype=np.float64)
        k = self._push("linear", self._label("W·x"), out_f, _times(np.ascontiguousarray(w.T)),
                       {"W": w}, (k,), source)
        if b is not None:
            b = np.array(b, dtype=np.float64)
            k = self._push("bias", self._label("+b"), out_f, _plus(b), {"b": b}, (k,), source)
        return k

    def activation(self, kind: str, params: dict[str, Any] | None = None, source: str = "",
                   at: int | None = None) -> int:
        """Table activation ``kind``; "identity" adds no stage (nothing moves)."""
        k = self.last if at is None else at
        params = dict(params or {})
        fn = activation_fn(kind, params)
        if kind == "identity":
            return k
        act = ACTIVATIONS[kind]
        if "weight" in params:          # PReLU: one slope or one per unit
            w = np.asarray(params["weight"], dtype=np.float64).ravel()
            if w.size not in (1, self.dims[k]):
                raise TraceError(f"PReLU{f' {source!r}' if source else ''} has {w.size} "
                                 f"slopes for {self.dims[k]}-D input")
            params["weight"] = w
            fn = activation_fn(kind, params)
        return self._push(kind, self._label(act.label), self.dims[k], fn, act.bind(params),
                          (k,), source)

    def affine(self, scale: np.ndarray, shift: np.ndarray, label: str, source: str = "",
               at: int | None = None) -> int:
        """Per-unit ``z·scale + shift`` (a diagonal matrix and a shift): BatchNorm in eval mode,
        or the elementwise affine of a LayerNorm / RMSNorm / GroupNorm."""
        k = self.last if at is None else at
        scale = np.asarray(scale, dtype=np.float64).ravel()
        shift = np.asarray(shift, dtype=np.float64).ravel()
        if scale.size != self.dims[k] or shift.size != self.dims[k]:
            raise TraceError(f"{label}{f' {source!r}' if source else ''} has "
                             f"{scale.size} units for {self.dims[k]}-D input")
        return self._push("affine", self._label(label), self.dims[k], _scale_shift(scale, shift),
                          {"scale": scale, "shift": shift, "W": np.diag(scale), "b": shift},
                          (k,), source)

    def normalise(self, mode: str, eps: float, source: str = "", at: int | None = None,
                  groups: int = 1) -> int:
        """LayerNorm ("layer"), RMSNorm ("rms") or GroupNorm ("group") without its affine."""
        k = self.last if at is None else at
        if self.dims[k] % groups:
            raise TraceError(f"GroupNorm{f' {source!r}' if source else ''}: {groups} groups "
                             f"do not divide {self.dims[k]} units")
        return self._push("normalise", self._label(NORM_LABELS[mode]), self.dims[k],
                          _normalise(mode, float(eps), groups),
                          {"mode": mode, "eps": float(eps), "groups": groups}, (k,), source)

    def add(self, parents: Sequence[int], source: str = "") -> int:
        """A sum of stages: ``x + f(x)`` is "+ skip (from stage k)", k the earliest summand."""
        ps = tuple(parents)
        dims = {self.dims[p] for p in ps}
        if len(dims) != 1:
            raise TraceError(f"sum {source!r} adds stages of widths "
                             f"{[self.dims[p] for p in ps]}; spacefold adds equal widths only")
        main = max(ps)                            # the branch just computed
        skip = [p for p in ps if p != main] or [main]
        label = "+ skip (from stage " + ", ".join(str(p) for p in skip) + ")"
        return self._push("add", self._label(label), self.dims[main], _add, {}, ps, source)

    def concat(self, parents: Sequence[int], source: str = "") -> int:
        ps = tuple(parents)
        d = sum(self.dims[p] for p in ps)
        label = "concat (stages " + ", ".join(str(p) for p in ps) + ")"
        return self._push("concat", self._label(label), d, _concat,
                          {"widths": [self.dims[p] for p in ps]}, ps, source)


CHUNK = 2048    # rows per float32 chunk: a 64-wide stage's chunk (0.5 MB) stays in cache


def float32_fns(ops: Sequence[Op]) -> list[Callable[..., np.ndarray]]:
    """Each op as a float32 function (its parameters cast once), for the rows that are drawn
    rather than checked: grid vertices and region samples."""
    f32 = np.float32
    out: list[Callable[..., np.ndarray]] = []
    for op in ops:
        if op.kind == "linear":
            out.append(_times(np.ascontiguousarray(op.params["W"].T, dtype=f32)))
        elif op.kind == "bias":
            out.append(_plus(op.params["b"].astype(f32)))
        elif op.kind == "affine":
            out.append(_scale_shift(op.params["scale"].astype(f32),
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


def decompose(model: Any, d_in: int) -> list[Op]:
    """``model`` → the ordered list of ops; checks widths line up starting from ``d_in``.

    ``model`` is a :class:`Network` (numpy weights, e.g. from a checkpoint) or a torch module.
    """
    if isinstance(model, Network):
        chain = Chain(d_in)
        for i, (w, b, act) in enumerate(model.layers()):
            idx = model.spec.module_layout()[i][0]
            chain.linear(w, b, source=str(idx))
            if act is not None:
                chain.activation(act, model.activation_params(act), source=str(idx + 1))
        if not chain.ops:
            raise TraceError("the network has no layers to trace")
        return chain.ops
    from spacefold.trace.torch_front import decompose_torch

    return decompose_torch(model, d_in)
