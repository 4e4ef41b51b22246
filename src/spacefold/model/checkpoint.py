"""Weights on disk: safetensors with the JSON spec in its metadata. Never unpickles."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacefold._atomic import atomic_path
from spacefold.errors import SpacefoldError, SpecError
from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec, Params
from spacefold.model.tensor_files import check_weights, read_safetensors

if TYPE_CHECKING:
    from torch import nn


def save(model: nn.Module, path: str | Path, spec: ArchSpec | None = None,
         meta: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s weights and its spec to ``path`` atomically (temp file, rename).

    ``spec`` defaults to the spec inferred from an ``nn.Sequential`` that ``build`` made.
    """
    from safetensors.torch import save as to_bytes

    p = Path(path)
    spec = spec or infer_spec(model)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"spacefold.spec": json.dumps(spec.to_dict()),
                "spacefold.meta": json.dumps(meta or {})}
    # serialised in memory and written to our one temp file: safetensors' own save_file
    # makes a second temp file (.tmpXXXX) that a killed run would leave behind
    blob = to_bytes(tensors, metadata=metadata)
    with atomic_path(p) as tmp, open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    return p


def load_network(path: str | Path) -> Network:
    """Read a checkpoint as a torch-free :class:`Network` (numpy weights + spec + meta)."""
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"model file {str(p)!r} does not exist")
    arrays, md = read_safetensors(p, f"model file {str(p)!r} is not a safetensors checkpoint")
    if "spacefold.spec" not in md:
        raise SpecError(f"model file {str(p)!r} has no spacefold spec in its metadata")
    try:
        spec_json = json.loads(md["spacefold.spec"])
        meta = json.loads(md.get("spacefold.meta", "{}"))
    except (json.JSONDecodeError, RecursionError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise SpecError(f"model file {str(p)!r}: bad metadata ({why})") from None
    if not isinstance(spec_json, dict):
        raise SpecError(f"model file {str(p)!r}: its spec is not a JSON object")
    if not isinstance(meta, dict):
        raise SpecError(f"model file {str(p)!r}: its metadata is not a JSON object")
    try:
        spec = ArchSpec.from_dict(spec_json)
    except SpacefoldError as e:
        raise SpecError(f"model file {str(p)!r}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as e:
        raise SpecError(f"model file {str(p)!r}: bad spec in its metadata "
                        f"({type(e).__name__}: {str(e)[:80]})") from None
    expected = {f"{idx}.{k}" for idx, _ in spec.module_layout() for k in ("weight", "bias")}
    if set(arrays) != expected:
        raise SpecError(f"model file {str(p)!r}: weights do not match spec {spec.arch}: "
                        f"has {sorted(arrays)}, expected {sorted(expected)}")
    check_weights(arrays, f"model file {str(p)!r}", kinds="fiu")
    try:
        return Network(spec, arrays, meta)
    except SpecError as e:
        raise SpecError(f"model file {str(p)!r}: {e}") from None


def load(path: str | Path) -> tuple[nn.Sequential, ArchSpec, dict[str, Any]]:
    """Read a checkpoint: ``(model, spec, meta)``; the model is in eval mode.

    Use :func:`load_network` to skip torch (tracing and rendering need only numpy).
    """
    net = load_network(path)
    return net.to_torch(), net.spec, net.meta


def infer_spec(model: nn.Module) -> ArchSpec:
    """The spec of an ``nn.Sequential`` of Linear + registered activations (+ optional head),
    with each activation's parameters: ``nn.LeakyReLU(0.2)`` is ``leaky_relu:0.2``."""
    from torch import nn

    from spacefold.model.activations import ACTIVATIONS as TABLE
    from spacefold.model.spec import ACTIVATION_NAMES, bind_params, spec_params
    from spacefold.model.torch_build import module_class

    def spec_name(m: nn.Module) -> tuple[str, Params] | None:
        """The spec activation ``m`` is, with its parameters (a softmax head over dim -1)."""
        for name in (*ACTIVATION_NAMES, "softmax"):
            if type(m) is not module_class(name):
                continue
            if name == "softmax":
                return (name, ()) if getattr(m, "dim", None) in (-1, 1) else None
            given = {k: getattr(m, k) for k in spec_params(name) if hasattr(m, k)}
            return name, bind_params(name, given, repr(m), text=False)
        return None

    if not isinstance(model, nn.Sequential):
        raise SpecError(f"cannot infer a spec for {type(model).__name__}; pass spec=")
    mods = list(model)
    widths: list[int] = []
    acts: list[tuple[str, Params]] = []
    head = None
    for i, m in enumerate(mods):
        if isinstance(m, nn.Linear):
            if not widths:
                widths.append(m.in_features)
            widths.append(m.out_features)
            continue
        found = spec_name(m)
        if i == len(mods) - 1 and found is not None and found[0] in ("softmax", "sigmoid") \
                and isinstance(mods[i - 1], nn.Linear):
            head = found[0]
        elif found is not None and found[0] in ACTIVATION_NAMES:
            acts.append(found)
        else:
            known = ", ".join(TABLE[a].label for a in ACTIVATION_NAMES)
            raise SpecError(f"cannot save module {m!r} in a spacefold spec; specs hold Linear "
                            f"layers and {known}")
    spec = ArchSpec.parse("-".join(map(str, widths)), [a for a, _ in acts], head)
    return ArchSpec(spec.widths, spec.activations, spec.head, tuple(p for _, p in acts))
