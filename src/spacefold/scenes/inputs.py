"""What a network scene is told about: the user's model and data, or the zoo's defaults.

``model`` is an ``nn.Module``, a :class:`~spacefold.model.network.Network` or a path to a
weights file; ``data`` a :class:`~spacefold.data.datasets.Dataset`, a dataset name or an
``(x, y)`` pair of arrays or tensors. Every scene resolves them here, names the network from
its own trace (never the zoo's), and refuses a model that cannot tell its story with one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset, as_dataset, dataset
from spacefold.errors import SpacefoldError
from spacefold.trace import Trace
from spacefold.trace.ops import PRETTY, STRUCTURAL


class SceneError(SpacefoldError):
    """A model, data or option that cannot tell a scene's story (the message says why)."""


# -- the model -------------------------------------------------------------------------------------

def resolve_model(model: Any, scene: str) -> Any:
    """An ``nn.Module`` or ``Network`` as given; a path loaded (never unpickled). A module
    in training mode stays in it: the trace reads it as in eval mode, and says so."""
    if isinstance(model, (str, os.PathLike)):
        return load_path(Path(model))
    from spacefold.model.network import Network

    if isinstance(model, Network):
        return model
    torch = sys.modules.get("torch")          # a module means torch is loaded already
    if torch is not None and isinstance(model, torch.nn.Module):
        return model
    raise SceneError(f"scene {scene!r}: model must be an nn.Module, a spacefold Network or a "
                     f"path to a weights file, got {type(model).__name__}")


def load_path(path: Path) -> Any:
    """A model file through the one loader (:func:`spacefold.model.intake.load_model`): a
    spacefold checkpoint or a file with a spec; a bare state dict needs its architecture, so
    load it with ``sf.load_model(path, arch=...)`` and pass the result."""
    from spacefold.model.intake import load_model

    return load_model(path)


# -- the data --------------------------------------------------------------------------------------

def resolve_data(data: Any, scene: str) -> Dataset:
    """A Dataset as given, a registered dataset by name, or ``(x, y)`` arrays/tensors."""
    return as_dataset(data, f"scene {scene!r}", SceneError)


def data_label(d: Dataset) -> str:
    """How the heading names a dataset: "5-class spiral", "moons (2 classes)"."""
    if d.name == "spiral":
        return f"{d.classes}-class spiral"
    if d.name == "data":
        return f"{len(d)} given points ({d.classes} classes)"
    return f"{d.name} ({d.classes} classes)"


def subject(model: Any, data: Any, scene: str,
            default: Callable[[], tuple[Any, Dataset]],
            default_data: str | Callable[[], Dataset] | None = None) -> tuple[Any, Dataset, bool]:
    """``(model, data, is_default)``: the user's model on their data, or the zoo's.

    ``default()`` gives the zoo's network and data when no model is given. With a model and no
    data, ``default_data`` (a dataset name or a function) is used.
    """
    if model is None:
        if data is not None:
            raise SceneError(f"scene {scene!r}: data= needs model= as well (the default "
                             f"network is the one trained for this scene)")
        m, d = default()
        return m, d, True
    m = resolve_model(model, scene)
    if data is None:
        if default_data is None:
            raise SceneError(f"scene {scene!r} needs data= with a model (a Dataset, a "
                             f"dataset name or an (x, y) pair)")
        d = dataset(default_data) if isinstance(default_data, str) else default_data()
    else:
        d = resolve_data(data, scene)
    return m, d, False


# -- naming the network from its own trace ---------------------------------------------------------

def layer_widths(tr: Trace) -> list[int]:
    """The output width of every Linear layer, in order."""
    return [op.d_out for op in tr.ops if op.kind == "linear"]


def arch_of(tr: Trace) -> str:
    """"2-100-2-5": the input width, then each Linear's output width."""
    return "-".join(str(w) for w in [tr.stages[0].dim] + layer_widths(tr))


def net_label(tr: Trace) -> str:
    """"2-100-2-5 ReLU", "2-8-8-3 tanh, sine": the architecture and its activations."""
    acts: list[str] = []
    for op in tr.ops:
        if op.kind in STRUCTURAL or op.kind == "identity":
            continue
        name = PRETTY.get(op.kind, op.kind) + _set_params(op)
        if name not in acts:
            acts.append(name)
    return " ".join([arch_of(tr)] + ([", ".join(acts)] if acts else []))


def _set_params(op: Any) -> str:
    """An activation's parameters that are not torch's defaults, as the heading shows them:
    "(0.2)" for a leaky ReLU of slope 0.2, "(beta=2)" for softplus; "" when none."""
    from spacefold.model.activations import ACTIVATIONS

    a = ACTIVATIONS.get(op.kind)
    if a is None:
        return ""
    differ = {k: v for k, v in op.params.items() if k in a.params and k not in ("dim", "inplace")
              and v != a.params[k]}
    if not differ:
        return ""
    shown = [f"{v:g}" if isinstance(v, int | float) else str(v) for v in differ.values()]
    if len(a.params) > 1:
        shown = [f"{k}={v}" for k, v in zip(differ, shown, strict=True)]
    return f"({', '.join(shown)})"


def accuracy_text(tr: Trace) -> str:
    acc = tr.accuracy()
    return "" if acc is None else f"accuracy {100 * acc:.1f}%"


def heading(tr: Trace, d: Dataset, *extra: str) -> str:
    """"5-class spiral  ·  2-100-2-5 ReLU  ·  accuracy 99.6%" (plus ``extra`` parts)."""
    bits = [data_label(d), net_label(tr), *extra, accuracy_text(tr)]
    return "  ·  ".join(b for b in bits if b)


# -- choosing the stage a story centres on ---------------------------------------------------------

def stage_dims(tr: Trace) -> str:
    return ", ".join(str(w) for w in layer_widths(tr))


def check_stage_arg(stage: Any, tr: Trace, scene: str) -> int | None:
    if stage is None:
        return None
    if isinstance(stage, bool) or not isinstance(stage, int | np.integer):
        raise SceneError(f"scene {scene!r}: stage must be a stage number, got {stage!r}")
    k = int(stage)
    if not 0 <= k < len(tr.stages):
        raise SceneError(f"scene {scene!r}: stage {k} out of range; model {arch_of(tr)} has "
                         f"stages 0..{len(tr.stages) - 1}")
    return k


def pick_stage(tr: Trace, stage: Any, scene: str, fits: Callable[[int], bool], need: str,
               candidates: Sequence[int] | None = None, last: bool = True) -> int:
    """The stage a story centres on: ``stage`` when given (it must ``fit``), else the last
    (or first) of ``candidates`` (default: the hidden stages) that fits.

    ``need`` completes "<scene> needs …", e.g. "a 2-unit hidden stage".
    """
    k = check_stage_arg(stage, tr, scene)
    if k is not None:
        if not fits(k):
            st = tr.stages[k]
            raise SceneError(f"{scene} needs {need}; stage {k} of model {arch_of(tr)} "
                             f"({st.name}) is {st.dim}-D")
        return k
    pool = list(candidates) if candidates is not None else list(range(1, len(tr.stages) - 1))
    ok = [i for i in pool if fits(i)]
    if not ok:
        raise SceneError(f"{scene} needs {need}; model {arch_of(tr)} has stages of width "
                         f"{stage_dims(tr)}")
    return ok[-1] if last else ok[0]

def layer_inputs(tr: Trace) -> list[int]:
    """The hidden stages a Linear reads (after their layer's +b and activation): where a
    layer's output is told as a space."""
    return [k for k in range(1, len(tr.stages) - 1) if tr.ops[k].kind == "linear"
            and tuple(tr.ops[k].parents or (k,)) == (k,)]
