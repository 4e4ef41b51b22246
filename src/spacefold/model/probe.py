"""Which spec activation (with which parameters) a module applies between two Linear layers,
told from values alone: what the Recorder uses on a user's module it cannot read as a spec.

The candidates are every spec activation with its spec defaults and with torch's, with the
parameters of each activation module the user's model holds (``nn.LeakyReLU(0.2)``,
``nn.ELU(alpha=0.5)``), and a leaky ReLU with the slope the values show (a functional
``F.leaky_relu(x, 0.2)`` holds no module to read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.activations import ACTIVATIONS, SPEC_ACTIVATIONS
from spacefold.model.spec import Params, bind_params, spec_params, write_activation

Candidate = tuple[str, Params]


def candidates(model: Any) -> list[Candidate]:
    """The (activation, parameters) pairs worth trying on ``model``, in the table's order."""
    from spacefold.model.torch_build import module_class

    found: list[Candidate] = []

    def add(name: str, given: dict[str, Any]) -> None:
        try:
            c = (name, bind_params(name, given, name, text=False))
        except SpecError:           # a module a spec cannot hold: no candidate
            return
        if c not in found:
            found.append(c)

    classes = {name: module_class(name) for name in SPEC_ACTIVATIONS}
    mods = list(model.modules())
    for name in SPEC_ACTIVATIONS:
        add(name, {})
        add(name, dict(ACTIVATIONS[name].params))
        for m in mods:
            if type(m) is classes[name]:
                add(name, {k: getattr(m, k) for k in ACTIVATIONS[name].params if hasattr(m, k)})
    return found


def leaky_slope(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> Candidate | None:
    """A leaky ReLU with the slope the most negative input shows (6 digits), if any."""
    z, out = pairs[0]
    i = np.unravel_index(np.argmin(z), z.shape)
    if z[i] >= -1:
        return None
    slope = float(f"{out[i] / z[i]:.6g}")
    try:
        return "leaky_relu", bind_params("leaky_relu", {"negative_slope": slope}, "leaky_relu")
    except SpecError:
        return None


def which(pairs: Sequence[tuple[Any, Any]], name: str, layer: int,
          tried: Sequence[Candidate]) -> Candidate:
    """The candidate that maps each pair's Linear output to the next Linear's input."""
    for z, nxt in pairs:
        if z.shape != nxt.shape:
            raise SpecError(f"Recorder: in {name}, Linear {layer} gives width {z.shape[-1]} "
                            f"but the next Linear takes {nxt.shape[-1]}; not a chain")
    arrays = [(z.double().numpy(), nxt.double().numpy()) for z, nxt in pairs]

    def f(c: Candidate, z: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[c[0]](z, {**spec_params(c[0]), **dict(c[1])})

    def fitting(cs: Sequence[Candidate | None]) -> list[Candidate]:
        return [c for c in cs if c is not None and all(
            np.allclose(f(c, z), want, rtol=1e-4, atol=1e-5) for z, want in arrays)]

    # the slope read off the values only when nothing else fits: it is rounded, and would
    # otherwise stand beside the module's own slope as a second, slightly other answer
    fits = fitting(tried) or fitting([leaky_slope(arrays)])
    if not fits:
        raise SpecError(f"Recorder: in {name}, what happens between Linear {layer} and "
                        f"{layer + 1} is no activation a spec can name "
                        f"({', '.join(SPEC_ACTIVATIONS)}); pass spec= or use one of those")
    wide = np.linspace(-60.0, 60.0, 24001)[:, None]
    ref = f(fits[0], wide)
    if all(np.allclose(f(c, wide), ref, rtol=1e-9, atol=1e-12)
           for c in fits):          # one function under several names (celu(1) is elu(1)):
        return min(fits, key=lambda c: list(ACTIVATIONS).index(c[0]))   # the table's first
    raise SpecError(f"Recorder: in {name}, the activation after Linear {layer} could be any "
                    f"of {', '.join(write_activation(*c) for c in fits)}; "
                    f"pass spec=ArchSpec.parse(...)")


def head(pairs: Sequence[tuple[Any, Any]], name: str) -> str | None:
    """The head (softmax, sigmoid or none) that maps the last Linear's output to the model's."""
    import torch

    for z, y in pairs:
        if not isinstance(y, torch.Tensor) or y.shape != z.shape:
            raise SpecError(f"Recorder: {name}.forward does not return its last Linear's "
                            f"output (or softmax / sigmoid of it)")
    if all(torch.equal(z, y) for z, y in pairs):
        return None
    for h, fn in (("softmax", lambda t: torch.softmax(t, dim=-1)), ("sigmoid", torch.sigmoid)):
        if all(torch.allclose(fn(z), y, rtol=1e-5, atol=1e-6) for z, y in pairs):
            return h
    raise SpecError(f"Recorder: {name}.forward changes the last Linear's output with "
                    f"something other than softmax or sigmoid")
