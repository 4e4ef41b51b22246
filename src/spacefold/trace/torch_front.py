"""Torch models → trace ops: the only place torch meets the trace.

``nn.Sequential`` chains (nested ones flattened) are read module by module; any other module
is traced with ``torch.fx`` and accepted when its forward is a plain chain.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spacefold.errors import TraceError
from spacefold.model.spec import Sine
from spacefold.trace.ops import Chain, Op


def activation_of(m: nn.Module) -> tuple[str, dict[str, Any]]:
    """An activation module → (kind, params) for :func:`spacefold.trace.ops.activation_fn`."""
    if isinstance(m, nn.ReLU):
        return "relu", {}
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", {"slope": float(m.negative_slope)}
    if isinstance(m, nn.Sigmoid):
        return "sigmoid", {}
    if isinstance(m, nn.Tanh):
        return "tanh", {}
    if isinstance(m, Sine):
        return "sin", {}
    if isinstance(m, nn.ELU):
        return "elu", {"alpha": float(m.alpha)}
    if isinstance(m, nn.GELU):
        return "gelu", {"approximate": m.approximate}
    if isinstance(m, nn.Softplus):
        return "softplus", {"beta": float(m.beta), "threshold": float(m.threshold)}
    if isinstance(m, nn.Identity):
        return "identity", {}
    if isinstance(m, nn.Softmax):
        if m.dim not in (-1, 1, None):
            raise TraceError(f"Softmax(dim={m.dim}) is not supported; use dim=-1 (over classes)")
        return "softmax", {}
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



def decompose_torch(model: nn.Module, d_in: int) -> list[Op]:
    """A torch model → the ordered list of ops."""
    chain = Chain(d_in)
    for m in modules_of(model):
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().double().numpy()           # (out, in)
            b = None if m.bias is None else m.bias.detach().cpu().double().numpy()
            chain.linear(w, b)
        else:
            chain.activation(*activation_of(m))
    if not chain.ops:
        raise TraceError(f"{type(model).__name__} has no layers to trace")
    return chain.ops
