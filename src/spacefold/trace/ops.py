"""Decompose a torch model into a chain of numpy ops — the only place torch meets the trace.

Every op maps ``(M, d_in) → (M, d_out)`` float64 arrays. A ``Linear`` becomes two ops,
``W·x`` and ``+b``; each elementwise activation one op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.special import erf
from torch import nn

from spacefold.errors import TraceError
from spacefold.model.spec import Sine

# Activation name → pretty label for titles.
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


def _activation(m: nn.Module) -> tuple[str, Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    if isinstance(m, nn.ReLU):
        return "relu", lambda z: np.maximum(z, 0.0), {}
    if isinstance(m, nn.LeakyReLU):
        s = float(m.negative_slope)
        return "leaky_relu", lambda z: np.where(z > 0, z, s * z), {"slope": s}
    if isinstance(m, nn.Sigmoid):
        return "sigmoid", _sigmoid, {}
    if isinstance(m, nn.Tanh):
        return "tanh", np.tanh, {}
    if isinstance(m, Sine):
        return "sin", np.sin, {}
    if isinstance(m, nn.ELU):
        a = float(m.alpha)
        return "elu", lambda z: np.where(z > 0, z, a * np.expm1(np.minimum(z, 0))), {"alpha": a}
    if isinstance(m, nn.GELU):
        if m.approximate == "tanh":
            c = math.sqrt(2 / math.pi)
            return "gelu", lambda z: 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z ** 3))), {}
        return "gelu", lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2))), {}
    if isinstance(m, nn.Softplus):
        beta, thr = float(m.beta), float(m.threshold)
        return "softplus", (lambda z: np.where(beta * z > thr, z,
                                               np.log1p(np.exp(np.minimum(beta * z, thr))) / beta)
                            ), {"beta": beta}
    if isinstance(m, nn.Identity):
        return "identity", lambda z: z.copy(), {}
    if isinstance(m, nn.Softmax):
        if m.dim not in (-1, 1, None):
            raise TraceError(f"Softmax(dim={m.dim}) is not supported; use dim=-1 (over classes)")
        return "softmax", _softmax, {}
    raise TraceError(
        f"unsupported module {type(m).__name__}: spacefold traces chains of Linear and "
        f"ReLU, LeakyReLU, Sigmoid, Tanh, Sine, ELU, GELU, Softplus, Identity, Softmax")


_FUNCTIONS: dict[Any, type[nn.Module]] = {
    torch.relu: nn.ReLU, nn.functional.relu: nn.ReLU, torch.sigmoid: nn.Sigmoid,
    nn.functional.sigmoid: nn.Sigmoid, torch.tanh: nn.Tanh, nn.functional.tanh: nn.Tanh,
    torch.sin: Sine, nn.functional.gelu: nn.GELU, nn.functional.elu: nn.ELU,
    nn.functional.softplus: nn.Softplus,
}
# Keyword arguments of those functions that change the values, in positional order after the
# input (``F.elu(x, 2.0)`` is ``nn.ELU(alpha=2.0)``); "inplace" does not change the values.
_FUNCTION_ARGS: dict[Any, tuple[str, ...]] = {
    nn.functional.relu: ("inplace",), nn.functional.gelu: ("approximate",),
    nn.functional.elu: ("alpha", "inplace"), nn.functional.softplus: ("beta", "threshold"),
}
_METHODS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid,
                                        "tanh": nn.Tanh, "sin": Sine}
# identities in eval mode on (N, D) input
_SKIP = (nn.Dropout, nn.Dropout1d, nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Flatten)


def modules_of(model: nn.Module) -> list[nn.Module]:
    """The model as a flat chain of leaf modules (nested Sequentials flattened).

    Non-Sequential modules are traced with ``torch.fx`` and accepted when their forward is a
    plain chain of supported modules / functions.
    """
    if isinstance(model, nn.Sequential):
        out: list[nn.Module] = []
        for m in model:
            out.extend(modules_of(m) if isinstance(m, nn.Sequential) else [m])
        return [m for m in out if not isinstance(m, _SKIP)]
    if not list(model.children()):
        return [] if isinstance(model, _SKIP) else [model]  # a leaf: checked by decompose()
    return _chain_by_fx(model)


def _chain_by_fx(model: nn.Module) -> list[nn.Module]:
    import torch.fx

    name = type(model).__name__
    try:
        gm = torch.fx.symbolic_trace(model)
    except Exception as e:  # noqa: BLE001 - fx raises many kinds; all mean "not a chain"
        raise TraceError(f"cannot trace {name}: its forward is not a plain chain of layers "
                         f"({type(e).__name__}); wrap the layers in nn.Sequential") from None
    chain: list[nn.Module] = []
    prev = None
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if prev is not None:
                raise TraceError(f"{name}.forward takes more than one input")
            prev = node
            continue
        if node.op == "output":
            if node.args[0] is not prev:
                raise TraceError(f"{name}.forward does not return its last layer's output")
            break
        args = [a for a in node.args if isinstance(a, torch.fx.Node)]
        if len(args) != 1 or args[0] is not prev:
            raise TraceError(f"{name}.forward is not a chain: {node.format_node()}")
        if node.op == "call_module":
            chain.extend(modules_of(gm.get_submodule(node.target)))
        elif node.op == "call_function" and node.target in _FUNCTIONS:
            chain.append(_module_for_call(name, node.target, node.args[1:], dict(node.kwargs)))
        elif node.op == "call_method" and node.target in _METHODS and not node.kwargs \
                and len(node.args) == 1:
            chain.append(_METHODS[node.target]())
        else:
            raise TraceError(f"{name}.forward uses {node.target} which spacefold cannot "
                             f"trace; supported: Linear and elementwise activations")
        prev = node
    return [m for m in chain if not isinstance(m, _SKIP)]


def _module_for_call(name: str, fn: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> nn.Module:
    """The module equal to ``fn(x, *args, **kwargs)``, its arguments included, so that
    ``F.gelu(x, approximate="tanh")`` is traced as the tanh GELU and not the exact one."""
    names = _FUNCTION_ARGS.get(fn, ())
    if len(args) > len(names) or any(k not in names for k in kwargs):
        raise TraceError(f"{name}.forward calls {getattr(fn, '__name__', fn)} with arguments "
                         f"spacefold cannot trace ({args}, {kwargs})")
    kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
    kwargs.pop("inplace", None)
    return _FUNCTIONS[fn](**kwargs)


def _times(w: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z @ w.T      # (M, in) @ (in, out) → (M, out)


def _plus(b: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda z: z + b


def decompose(model: nn.Module, d_in: int) -> list[Op]:
    """``model`` → the ordered list of ops; checks widths line up starting from ``d_in``."""
    ops: list[Op] = []
    d = d_in
    layer = 0
    for m in modules_of(model):
        if isinstance(m, nn.Linear):
            if m.in_features != d:
                raise TraceError(f"Linear({m.in_features}, {m.out_features}) receives "
                                 f"{d}-D input (layer {layer + 1})")
            layer += 1
            w = m.weight.detach().cpu().double().numpy().copy()   # (out, in)
            ops.append(Op("linear", layer, f"layer {layer} · W·x", d, m.out_features,
                          _times(w), {"W": w}))
            d = m.out_features
            if m.bias is not None:
                b = m.bias.detach().cpu().double().numpy().copy()  # (out,)
                ops.append(Op("bias", layer, f"layer {layer} · +b", d, d,
                              _plus(b), {"b": b}))
        else:
            kind, fn, params = _activation(m)
            label = f"layer {layer} · {PRETTY[kind]}" if layer else PRETTY[kind]
            ops.append(Op(kind, layer, label, d, d, fn, params))
    if not ops:
        raise TraceError(f"{type(model).__name__} has no layers to trace")
    return ops
