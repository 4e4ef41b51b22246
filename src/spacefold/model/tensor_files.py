"""Weight files as numpy arrays: safetensors, and PyTorch state dicts read with
``torch.load(weights_only=True)``. Nothing here unpickles: a pickled full model is refused.

The format is sniffed from the first bytes, not the suffix. Every problem is a one-line
:class:`SpecError`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.errors import SpecError

TORCH_SUFFIXES = (".pt", ".pth", ".bin")
# a training checkpoint often nests the state dict under one of these keys
_NESTED_KEYS = ("state_dict", "model_state_dict", "model")


def read_tensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The file's tensors as numpy arrays in layer order, and its safetensors metadata
    (empty for PyTorch files). The format is sniffed from the first bytes."""
    if not path.exists():
        raise SpecError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise SpecError(f"model file {str(path)!r} is not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as e:
        raise SpecError(f"cannot read model file {str(path)!r}: {e.strerror or e}") from None
    if _safetensors_head(head):
        arrays, md = read_safetensors(path, f"model file {str(path)!r} is not a readable "
                                            f"safetensors file")
        return check_weights(arrays, f"model file {str(path)!r}"), md
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":     # torch zip / legacy pickle
        return check_weights(_read_torch(path), f"model file {str(path)!r}"), {}
    raise SpecError(f"model file {str(path)!r} is neither a safetensors file nor a PyTorch "
                    f"state dict ({', '.join(TORCH_SUFFIXES)} written by torch.save)")


def _safetensors_head(head: bytes) -> bool:
    # its header length is any 8 bytes (0x80 first for a 384-byte header), then its JSON
    return len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < 1 << 27


def is_safetensors(path: Path) -> bool:
    """Whether ``path`` holds a safetensors file (which keeps its tensors sorted by name, not
    in the order of the layers)."""
    try:
        with open(path, "rb") as f:
            return _safetensors_head(f.read(9))
    except OSError:
        return False


def read_safetensors(path: Path, failure: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A safetensors file's arrays (keys in layer order: "fc.2" before "fc.10") and its
    metadata. A file the library cannot read is a one-line :class:`SpecError`: ``failure``
    ("model file 'm.pt' is not a safetensors checkpoint"), then the library's first line."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            md = dict(f.metadata() or {})
            keys = sorted(f.keys(), key=natural)     # the file stores them sorted by name
            wide = [k for k in keys if f.get_slice(k).get_dtype() in _NOT_NUMPY]
            arrays = {k: f.get_tensor(k) for k in keys if k not in wide}
        if wide:
            arrays.update(_through_torch(path, wide))
            arrays = {k: arrays[k] for k in keys}
    except (SafetensorError, OSError, ValueError, TypeError, AttributeError, RuntimeError) as e:
        raise SpecError(f"{failure}: {first_line(e)}") from None
    return arrays, md


# safetensors dtypes numpy has no type for: read through torch, as float32
_NOT_NUMPY = ("BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2")


def _through_torch(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k).float().numpy() for k in keys}


def check_weights(arrays: dict[str, np.ndarray], where: str,
                  kinds: str = "biuf") -> dict[str, np.ndarray]:
    """Weights must be real (numpy kinds ``kinds``), finite numbers a float32 network can
    hold: one line naming the tensors that are not (``where`` names the file). Plain weight
    files, spacefold checkpoints and recordings are all held to it."""
    for why, bad in (
            ("are not real numbers", [k for k, a in arrays.items() if a.dtype.kind not in kinds]),
            ("hold NaN or infinite values", [k for k, a in arrays.items() if a.dtype.kind == "f"
                                             and not np.isfinite(a).all()]),
            ("hold values beyond float32's range", [
                k for k, a in arrays.items() if a.dtype.kind == "f" and a.size
                and float(np.abs(a).max()) > _F32_MAX])):
        if bad:
            bad = sorted(bad, key=natural)
            shown = ", ".join(bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
            raise SpecError(f"{where}: weights {shown} {why}")
    return arrays


_F32_MAX = float(np.finfo(np.float32).max)


def _read_torch(path: Path) -> dict[str, np.ndarray]:
    import pickle

    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        m = re.search(r"GLOBAL (\S+) was not an allowed global", str(e))
        what = f" ({m.group(1)})" if m else ""
        raise SpecError(
            f"model file {str(path)!r} is a pickled Python object{what}, not a state dict; "
            f"spacefold never unpickles (it would run code): save the weights with "
            f"torch.save(model.state_dict(), {path.name!r})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as e:
        if _is_npz(path):
            raise SpecError(f"model file {str(path)!r} is a NumPy .npz archive; spacefold "
                            f"reads weights from safetensors files and PyTorch state dicts "
                            f"({', '.join(TORCH_SUFFIXES)} written by torch.save)") from None
        raise SpecError(f"model file {str(path)!r} is not a readable PyTorch file: "
                        f"{first_line(e)}") from None
    state = _state_dict_in(obj, path)
    out: dict[str, np.ndarray] = {}
    for k, v in state.items():
        t = v.detach()
        if t.is_meta:
            raise SpecError(f"model file {str(path)!r}: tensor {k} has no values (it lives on "
                            f"the 'meta' device); save the weights after they are made")
        try:
            t = t.cpu()
            if t.is_quantized:
                t = t.dequantize()
            if t.layout != torch.strided:           # sparse COO / CSR / ...
                t = t.to_dense()
            if t.is_floating_point() and t.dtype not in (torch.float32, torch.float64):
                t = t.float()
            out[str(k)] = t.numpy()
        except (RuntimeError, TypeError, NotImplementedError, ValueError) as e:
            raise SpecError(f"model file {str(path)!r}: tensor {k} cannot be read as numbers "
                            f"({first_line(e)})") from None
    return out


def _is_npz(path: Path) -> bool:
    """A zip of top-level .npy files (np.savez), which torch's zip reader cannot place."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return bool(names) and all(n.endswith(".npy") and "/" not in n for n in names)


def _state_dict_in(obj: Any, path: Path) -> Mapping[str, Any]:
    import torch

    def tensors_only(d: Any) -> bool:
        return isinstance(d, Mapping) and bool(d) and \
            all(isinstance(v, torch.Tensor) for v in d.values())

    if tensors_only(obj):
        return obj
    if isinstance(obj, Mapping):
        for k in _NESTED_KEYS:
            if tensors_only(obj.get(k)):
                return obj[k]
        # a checkpoint of its own layout ({"net": ..., "epoch": 3}): its one state dict
        nested = [k for k, v in obj.items() if tensors_only(v)]
        if len(nested) == 1:
            return obj[nested[0]]
        keys = ", ".join(map(str, list(obj)[:6]))
        if nested:
            raise SpecError(f"model file {str(path)!r} holds {len(nested)} state dicts "
                            f"({', '.join(map(str, nested[:6]))}); save the one to draw: "
                            f"torch.save(model.state_dict(), {path.name!r})")
        raise SpecError(f"model file {str(path)!r} holds a dict ({keys}) that is not a state "
                        f"dict of tensors; save torch.save(model.state_dict(), {path.name!r})")
    raise SpecError(f"model file {str(path)!r} holds a {type(obj).__name__}, not a state dict; "
                    f"save torch.save(model.state_dict(), {path.name!r})")


def natural(key: str) -> list[Any]:
    """"fc.10.weight" after "fc.2.weight": digit runs compare as numbers."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", key) if t]


def first_line(e: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__
