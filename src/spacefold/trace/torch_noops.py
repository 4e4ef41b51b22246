"""Steps of a torch forward that leave an ``(N, D)`` stage's numbers as they are, and
``torch.clamp`` as the table activation it equals.

People write ``x.float()``, ``x.view(x.size(0), -1)``, ``torch.flatten(x, 1)`` or end a
one-output classifier with ``.squeeze(-1)``: on the points of a plane these change no number
(a cast to float32/float64, a reshape to the same ``(N, D)``, or ``(N, 1)`` to ``(N,)``), so
they add no stage. :mod:`~spacefold.trace.torch_front` asks :func:`passthrough` and
:func:`clamp_as` before it refuses a node.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import fx


class Size:
    """A value read from a stage's shape (``x.size(0)``, ``x.shape[0]``): not a stage; a
    view or reshape takes it as the batch size."""


_CASTS = ("float", "double", "contiguous", "detach", "clone", "cpu")
_FLOATS = (torch.float32, torch.float64)
_TO_KEYWORDS = ("dtype", "device", "non_blocking", "copy", "memory_format")


def passthrough(node: fx.Node, env: Mapping[fx.Node, Any],
                dims: Sequence[int]) -> int | Size | None:
    """The stage ``node`` equals (its input's), a :class:`Size` for a shape read, or None
    when it is no such step. ``env`` maps nodes to stage indices, ``dims`` their widths."""
    fn = node.target if node.op == "call_function" else None
    method = str(node.target) if node.op == "call_method" else ""
    src = env.get(node.args[0]) if node.args and isinstance(node.args[0], fx.Node) else None
    if isinstance(src, Size) and fn is operator.getitem:
        return Size()
    if not isinstance(src, int):
        return None
    rest: list[Any] = list(node.args[1:])
    kw: dict[str, Any] = dict(node.kwargs)
    if method == "size" or (fn is getattr and rest == ["shape"]):
        return Size()
    if method in _CASTS and not rest and set(kw) <= {"memory_format"}:
        return src
    if method in ("to", "type") and (rest or kw) and set(kw) <= set(_TO_KEYWORDS) and all(
            (isinstance(v, torch.dtype) and v in _FLOATS) or isinstance(v, torch.device)
            or v == "cpu" for v in [*rest, kw.get("dtype", torch.float32)]):
        return src
    if method == "flatten" or fn is torch.flatten:
        start = rest[0] if rest else kw.get("start_dim", 0)
        end = rest[1] if len(rest) > 1 else kw.get("end_dim", -1)
        return src if start in (1, -1) and end in (1, -1) else None
    if method == "squeeze" or fn is torch.squeeze:      # (N, 1) → (N,): the same numbers
        dim = rest[0] if rest else kw.get("dim")
        return src if dim in (None, 1, -1) else None
    if method in ("view", "reshape") or fn is torch.reshape:
        shape: Any = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else \
            kw.get("shape", rest)
        d = dims[src]
        if len(shape) == 2 and (shape[0] == -1 or isinstance(env.get(shape[0]), Size)) \
                and shape[1] in (-1, d):
            return src
        return src if list(shape) == [-1] and d == 1 else None
    return None


_CLAMPS = (torch.clamp, torch.clip, torch.clamp_min)


def clamp_as(node: fx.Node) -> tuple[str, dict[str, float]] | None:
    """``torch.clamp(x, min, max)`` (or ``.clamp`` / ``.clip`` / ``clamp_min``) with numbers as
    the table activation it is: ``min=0`` ReLU, ``[min, max]`` hardtanh, ``min`` alone the
    threshold (x if x > min, else min); None for anything else."""
    fn = node.target if node.op == "call_function" else None
    method = str(node.target) if node.op == "call_method" else ""
    if fn not in _CLAMPS and method not in ("clamp", "clip", "clamp_min"):
        return None
    names = ("min",) if fn is torch.clamp_min or method == "clamp_min" else ("min", "max")
    if len(node.args) - 1 > len(names) or set(node.kwargs) - set(names):
        return None
    given: dict[str, Any] = {**dict(zip(names, node.args[1:], strict=False)),
                             **dict(node.kwargs)}
    lo, hi = given.get("min"), given.get("max")
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
               for v in (lo, hi)) or lo is None:
        return None
    if hi is not None:
        return ("hardtanh", {"min_val": float(lo), "max_val": float(hi)}) if lo < hi else None
    if lo == 0:
        return "relu", {}
    return "threshold", {"threshold": float(lo), "value": float(lo)}
