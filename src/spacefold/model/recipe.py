"""What a checkpoint remembers of its training, so that the data can be made again, and the
checkpoint itself as bytes. Shared by ``spacefold train`` / ``render --model`` and the app's
Save button.

A checkpoint's meta is ``{"data": <data recipe>, "train": <training recipe>}``. A data
recipe is one of

- ``{"name": "spiral", "params": {...}}``: a registered dataset and the parameters its
  generator takes (:func:`named`);
- ``{"file": "/abs/path.csv", "sha256": "..."}``: a .csv / .npz file by its resolved path
  (a render from another folder finds it) and the SHA-256 of its bytes (a changed file is
  noticed);
- ``{"upload": "upload:<id>"}``: a CSV uploaded to the app, which lives as long as the server.

Reading a recipe back checks it (:func:`data_from_meta`); its messages name the command
line's ``--data``, the way a user gives the data instead.

>>> named("xor", {"classes": 3, "n": 200, "seed": 1})
{'name': 'xor', 'params': {'n': 200, 'seed': 1}}
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacefold.data import DATASETS, Dataset, dataset, load_file
from spacefold.errors import DataError
from spacefold.model.spec import ArchSpec

if TYPE_CHECKING:
    from torch import nn

DATA_SUFFIXES = (".csv", ".npz")


def is_data_file(source: str) -> bool:
    """Does ``source`` (``--data``) name a file rather than a registered dataset? A registered
    name is the dataset even when a file of that name lies in the current folder."""
    if source in DATASETS:
        return False
    return source.lower().endswith(DATA_SUFFIXES) or os.sep in source or Path(source).is_file()


def generator_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Those of ``params`` that dataset ``name``'s generator takes (xor has no ``classes``)."""
    takes = inspect.signature(DATASETS[name]).parameters
    return {k: v for k, v in params.items() if k in takes}


def named(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The recipe of registered dataset ``name`` made with ``params``."""
    return {"name": name, "params": generator_params(name, params)}


def data_recipe(data: Dataset, source: str) -> dict[str, Any]:
    """The recipe of ``data``, given on the command line as ``source``: a file by its path and
    SHA-256, or a dataset by its name and parameters."""
    if is_data_file(source):
        path = Path(source).resolve()
        return {"file": str(path), "sha256": sha256(path)}
    return named(data.name, {**data.params, "classes": data.classes})


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def remake(name: str, base: dict[str, Any] | None = None, **given: Any) -> Dataset:
    """Registered dataset ``name``: the parameters of ``base`` (a checkpoint's data recipe)
    when it names the same dataset, overridden by those ``given`` that are not None."""
    params: dict[str, Any] = {}
    if base and base.get("name") == name:
        params.update(base.get("params") or {})
    params.update({k: v for k, v in given.items() if v is not None})
    return dataset(name, **params)


def data_from_meta(meta: dict[str, Any], where: str) -> Dataset | None:
    """The training data a checkpoint's meta names (None when it names none), checked: a file
    that still exists and still has the bytes it was trained on, or a registered dataset with
    valid parameters. ``where`` names the checkpoint in messages ("model file 'm.pt'")."""
    recipe = meta.get("data") if isinstance(meta, dict) else None
    if not isinstance(recipe, dict):
        return None
    if "file" in recipe:
        file, digest = recipe["file"], recipe.get("sha256")
        if not isinstance(file, str) or not file.lower().endswith(DATA_SUFFIXES):
            raise DataError(f"{where}: its data recipe names no .csv / .npz file; pass --data")
        path = Path(file)
        if not path.is_file():
            raise DataError(f"{where} was trained on {_short(path)!r}, which no longer exists; "
                            f"pass --data")
        if isinstance(digest, str) and sha256(path) != digest:
            raise DataError(f"{where} was trained on {_short(path)!r}, which has changed since "
                            f"(its SHA-256 differs); pass --data {_short(path)!r} to use it "
                            f"as it is now")
        return load_file(path)
    name = recipe.get("name")
    if not isinstance(name, str) or name not in DATASETS:
        shown = repr(name) if len(repr(name)) <= 40 else f"{repr(name)[:37]}..."
        raise DataError(f"{where} names dataset {shown}, which is not one of: "
                        f"{', '.join(sorted(DATASETS))}; pass --data")
    params = recipe.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise DataError(f"{where}: the parameters of its dataset {name!r} are not an object "
                        f"of names and values; pass --data")
    try:
        return dataset(name, **params)
    except DataError as e:
        raise DataError(f"{where}: its data recipe: {e}; pass --data") from None


def training(*, epochs: int, lr: float, batch_size: int | None, weight_decay: float,
             seed: int, accuracy: float, **more: Any) -> dict[str, Any]:
    """The training recipe: what the optimiser was given and what came of it (``more``:
    the caller's own entries, such as the target accuracy or where the training ran)."""
    return {"epochs": epochs, "lr": lr, "batch_size": batch_size,
            "weight_decay": weight_decay, "seed": seed, "accuracy": accuracy, **more}


def checkpoint_bytes(model: nn.Module, spec: ArchSpec, meta: dict[str, Any]) -> bytes:
    """``model`` as a spacefold checkpoint (safetensors + spec + ``meta``), in memory. The
    weights are copied first, so a model that goes on training meanwhile is saved whole."""
    from spacefold.model.checkpoint import save

    net = copy.deepcopy(model)
    with tempfile.TemporaryDirectory(prefix="spacefold-save-") as tmp:
        return save(net, Path(tmp) / "model.safetensors", spec=spec, meta=meta).read_bytes()


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:77]}..."
