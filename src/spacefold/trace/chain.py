"""The op graph built stage by stage: :class:`Chain`, which every front (a numpy
:class:`~spacefold.model.network.Network`, a torch module through ``torch.fx``) fills."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace import ops
from spacefold.trace.ops import Op

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
        k = self._push("linear", self._label("W·x"), out_f, ops.times(np.ascontiguousarray(w.T)),
                       {"W": w}, (k,), source)
        if b is not None:
            b = np.array(b, dtype=np.float64)
            k = self._push("bias", self._label("+b"), out_f, ops.plus(b), {"b": b}, (k,), source)
        return k

    def activation(self, kind: str, params: dict[str, Any] | None = None, source: str = "",
                   at: int | None = None) -> int:
        """Table activation ``kind``; "identity" adds no stage (nothing moves)."""
        k = self.last if at is None else at
        params = dict(params or {})
        fn = ops.activation_fn(kind, params)
        if kind == "identity":
            return k
        act = ACTIVATIONS[kind]
        if "weight" in params:          # PReLU: one slope or one per unit
            w = np.asarray(params["weight"], dtype=np.float64).ravel()
            if w.size not in (1, self.dims[k]):
                raise TraceError(f"PReLU{f' {source!r}' if source else ''} has {w.size} "
                                 f"slopes for {self.dims[k]}-D input")
            params["weight"] = w
            fn = ops.activation_fn(kind, params)
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
        return self._push("affine", self._label(label), self.dims[k], ops.scale_shift(scale, shift),
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
                          ops.normalise(mode, float(eps), groups),
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
        return self._push("add", self._label(label), self.dims[main], ops.add, {}, ps, source)

    def concat(self, parents: Sequence[int], source: str = "") -> int:
        ps = tuple(parents)
        d = sum(self.dims[p] for p in ps)
        label = "concat (stages " + ", ".join(str(p) for p in ps) + ")"
        return self._push("concat", self._label(label), d, ops.concat,
                          {"widths": [self.dims[p] for p in ps]}, ps, source)
