"""Linear layers read from a weight file by order and shape, whatever their key names: the
file's 2-D ``*weight`` tensors with their ``*bias``, matched to an architecture's layers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec
from spacefold.model.tensor_files import is_safetensors


@dataclass(frozen=True)
class LinearWeights:
    name: str                     # the weight's key, e.g. "fc.0.weight"
    weight: np.ndarray            # (out, in)
    bias: np.ndarray | None       # (out,)


def linear_layers(tensors: Mapping[str, np.ndarray], path: Path) -> list[LinearWeights]:
    """Every 2-D ``*weight`` with its ``*bias``, in file order; anything else is an error
    (batch norm, embeddings: those need the module's own code)."""
    out: list[LinearWeights] = []
    used: set[str] = set()
    for k, v in tensors.items():
        if not (k == "weight" or k.endswith(".weight") or k.endswith("_weight")) \
                or np.ndim(v) != 2:
            continue
        prefix = k[:-len("weight")]
        b = tensors.get(prefix + "bias")
        if b is not None and (np.ndim(b) != 1 or b.shape[0] != v.shape[0]):
            b = None
        out.append(LinearWeights(k, np.asarray(v), None if b is None else np.asarray(b)))
        used.add(k)
        if b is not None:
            used.add(prefix + "bias")
    rest = [k for k in tensors if k not in used]
    if rest:
        shown = ", ".join(rest[:4]) + (", ..." if len(rest) > 4 else "")
        raise SpecError(f"model file {str(path)!r} has tensors that are not Linear weights "
                        f"({shown}); build the module from its code with "
                        f"--model-code FILE.py:NAME")
    if not out:
        raise SpecError(f"model file {str(path)!r} has no Linear weights")
    return out


def network_from_linears(spec: ArchSpec, linears: list[LinearWeights], path: Path,
                         arch_shown: str) -> Network:
    """The :class:`Network` of ``spec`` with the file's Linear layers, matched in order;
    ``arch_shown`` is how a mismatch names the architecture option ("--arch 2-3-2")."""
    need = [(o, i) for i, o in zip(spec.widths[:-1], spec.widths[1:], strict=True)]
    linears = in_layer_order(linears, need, path, is_safetensors(path))
    have = [tuple(lw.weight.shape) for lw in linears]
    if have != need:
        raise SpecError(f"model file {str(path)!r}: weights have Linear shapes "
                        f"{shapes(linears)}; {arch_shown} needs {', '.join(map(str, need))}")
    params: dict[str, np.ndarray] = {}
    for (idx, _), lw in zip(spec.module_layout(), linears, strict=True):
        w = lw.weight
        params[f"{idx}.weight"] = w
        # nn.Linear(bias=False) is the same map as a zero bias (Network.to_torch needs one)
        params[f"{idx}.bias"] = lw.bias if lw.bias is not None else np.zeros(w.shape[0],
                                                                               w.dtype)
    return Network(spec, params, {})


def in_layer_order(linears: list[LinearWeights], need: list[tuple[int, int]], path: Path,
                   by_name: bool) -> list[LinearWeights]:
    """``linears`` in the order of the layer shapes ``need``. A PyTorch file keeps its
    module's order; a safetensors file (``by_name``) only its names, sorted: they give the
    order when they differ by numbers alone ("fc1", "fc2", "fc10"; "0", "2", "10"), else the
    shapes must (an input/hidden/output naming), and layers of one shape whose names do not
    say their order are one line, never a guess."""
    if not by_name or len({re.sub(r"\d+", "#", lw.name) for lw in linears}) == 1:
        return linears
    fits: list[list[LinearWeights]] = []

    def place(done: list[LinearWeights], left: list[LinearWeights]) -> None:
        if len(fits) > 1:
            return
        if not left:
            fits.append(done)
            return
        want = need[len(done)]
        for i, lw in enumerate(left):
            if tuple(lw.weight.shape) == want:
                place(done + [lw], left[:i] + left[i + 1:])

    if len(need) == len(linears):
        place([], list(linears))
    if len(fits) > 1:
        same = sorted({lw.name for lw in linears
                       if sum(o.weight.shape == lw.weight.shape for o in linears) > 1})
        raise SpecError(f"model file {str(path)!r} is a safetensors file, which keeps no layer "
                        f"order, and its layers {', '.join(same[:4])} have one shape, so their "
                        f"order is unknown; name them in order (fc1, fc2, ...) or save with "
                        f"torch.save(model.state_dict(), ...)")
    return fits[0] if fits else linears


def guess_arch(linears: list[LinearWeights]) -> str | None:
    """"2-100-5" when the layers chain (each one's input is the last one's output), else None."""
    sizes = [lw.weight.shape for lw in linears]
    if any(a[0] != b[1] for a, b in zip(sizes, sizes[1:], strict=False)):
        return None
    return "-".join(str(w) for w in [sizes[0][1], *(s[0] for s in sizes)])


def shapes(linears: list[LinearWeights]) -> str:
    """"(100, 2), (5, 100)": the layers' weight shapes, for messages."""
    return ", ".join(str(tuple(lw.weight.shape)) for lw in linears)
