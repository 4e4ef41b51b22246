"""The front door: any supported model → its ops (:func:`decompose`).

A :class:`~spacefold.model.network.Network` (numpy weights, e.g. from a checkpoint) is read
here with numpy alone; a torch module goes through :mod:`spacefold.trace.torch_front`, imported
only then.
"""

from __future__ import annotations

from typing import Any

from spacefold.errors import TraceError
from spacefold.model.network import Network
from spacefold.trace.chain import Chain
from spacefold.trace.ops import Op


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
                chain.activation(act, model.activation_params(i), source=str(idx + 1))
        if not chain.ops:
            raise TraceError("the network has no layers to trace")
        return chain.ops
    from spacefold.trace.torch_front import decompose_torch

    return decompose_torch(model, d_in)
