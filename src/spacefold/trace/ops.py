"""The trace's computation as a chain of numpy ops, and the front door that builds it.

Every op maps ``(M, d_in) → (M, d_out)`` float64 arrays. A ``Linear`` becomes two ops,
``W·x`` and ``+b``; each elementwise activation one op. This module imports no torch: a
torch model is decomposed by :mod:`spacefold.trace.torch_front` (imported on demand), a
:class:`~spacefold.model.network.Network` read from a checkpoint needs numpy alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import TraceError
from spacefold.model.network import Network

PRETTY = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh",
          "sin": "sine", "elu": "ELU", "gelu": "GELU", "softplus": "softplus",
          "identity": "identity", "softmax": "softmax"}


@dataclass(frozen=True)
class Op:
    """One stage's computation. ``kind`` is "linear", "bias" or an activation name."""

    kind: str
    layer: int                         # 1-based index of the Linear this op belongs to / follows
    name: str                          # "layer 1 · W·x"
    d_in: int
    d_out: int
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.fn(z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)



def _gelu_erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * z * (1 + erf(z / math.sqrt(2)))


def activation_fn(kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The numpy function of an activation ``kind`` with its ``params`` (slope, alpha, ...)."""
    if kind == "relu":
        return lambda z: np.maximum(z, 0.0)
    if kind == "leaky_relu":
        s = float(params.get("slope", 0.01))
        return lambda z: np.where(z > 0, z, s * z)
    if kind == "sigmoid":
        return _sigmoid
    if kind == "tanh":
        return np.tanh
    if kind == "sin":
        return np.sin
    if kind == "elu":
        a = float(params.get("alpha", 1.0))
        return lambda z: np.where(z > 0, z, a * np.expm1(np.minimum(z, 0)))
    if kind == "gelu":
        if params.get("approximate") == "tanh":
            c = math.sqrt(2 / math.pi)
            return lambda z: 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z ** 3)))
        return _gelu_erf
    if kind == "softplus":
        beta, thr = float(params.get("beta", 1.0)), float(params.get("threshold", 20.0))
        return lambda z: np.where(beta * z > thr, z,
                                  np.log1p(np.exp(np.minimum(beta * z, thr))) / beta)
    if kind == "identity":
        return lambda z: z.copy()
    if kind == "softmax":
        return _softmax
    raise TraceError(f"unknown activation {kind!r}; known: {', '.join(sorted(PRETTY))}")


def _times(w: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z @ w.T      # (M, in) @ (in, out) → (M, out)


def _plus(b: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z + b



class Chain:
    """Builds the op list layer by layer, checking that widths line up."""

    def __init__(self, d_in: int) -> None:
        self.ops: list[Op] = []
        self.d = d_in
        self.layer = 0

    def linear(self, w: np.ndarray, b: np.ndarray | None) -> None:
        """A Linear layer: ``w`` (out, in), ``b`` (out,) or None."""
        out_f, in_f = w.shape
        if in_f != self.d:
            raise TraceError(f"Linear({in_f}, {out_f}) receives {self.d}-D input "
                             f"(layer {self.layer + 1})")
        self.layer += 1
        w = np.array(w, dtype=np.float64)
        self.ops.append(Op("linear", self.layer, f"layer {self.layer} · W·x", self.d, out_f,
                           _times(w), {"W": w}))
        self.d = out_f
        if b is not None:
            b = np.array(b, dtype=np.float64)
            self.ops.append(Op("bias", self.layer, f"layer {self.layer} · +b", self.d, self.d,
                               _plus(b), {"b": b}))

    def activation(self, kind: str, params: dict[str, Any] | None = None) -> None:
        params = dict(params or {})
        fn = activation_fn(kind, params)
        label = f"layer {self.layer} · {PRETTY[kind]}" if self.layer else PRETTY[kind]
        self.ops.append(Op(kind, self.layer, label, self.d, self.d, fn, params))


def decompose(model: Any, d_in: int) -> list[Op]:
    """``model`` → the ordered list of ops; checks widths line up starting from ``d_in``.

    ``model`` is a :class:`Network` (numpy weights, e.g. from a checkpoint) or a torch module.
    """
    if isinstance(model, Network):
        chain = Chain(d_in)
        for w, b, act in model.layers():
            chain.linear(w, b)
            if act is not None:
                chain.activation(act, model.activation_params(act))
        return chain.ops
    from spacefold.trace.torch_front import decompose_torch

    return decompose_torch(model, d_in)
