"""The zoo's weights on disk: a recipe, what training it gave (the weights at each kept
epoch, the training record, facts), and the safetensors file that ships it (read torch-free
through :mod:`spacefold.model`). See :mod:`spacefold.scenes.zoo`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec

WEIGHTS = Path(__file__).with_name("zoo_weights")
META_KEY = "spacefold.zoo"


@dataclass(frozen=True)
class Record:
    """What training reported, per epoch (the numbers of ``model.training.History``)."""

    loss: tuple[float, ...] = ()
    accuracy: tuple[float, ...] = ()
    test_loss: tuple[float, ...] = ()
    test_accuracy: tuple[float, ...] = ()
    stopped: str = ""

    @property
    def epochs(self) -> int:
        return len(self.loss)


@dataclass(frozen=True)
class Recipe:
    """How a zoo network is made: a trainer's name and its arguments."""

    kind: str
    params: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dict(self.params)}

    @property
    def file(self) -> Path:
        """Where its weights ship: named by the kind and a hash of the whole recipe."""
        key = json.dumps(self.as_dict(), sort_keys=True)
        return WEIGHTS / f"{self.kind}-{hashlib.sha256(key.encode()).hexdigest()[:12]}" \
                         f".safetensors"


def recipe(kind: str, **params: Any) -> Recipe:
    return Recipe(kind, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Trained:
    """A recipe's result: the weights at each kept epoch (the trained network last), the
    training record and facts measured on the trained network (``accuracy``)."""

    recipe: Recipe
    snapshots: tuple[tuple[int, Network], ...]
    record: Record
    facts: dict[str, float] = field(default_factory=dict)

    @property
    def network(self) -> Network:
        return self.snapshots[-1][1]

    def to_tensors(self) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """The arrays ("{snapshot}.{param}") and metadata of its safetensors file."""
        arrays = {f"{i}.{k}": np.ascontiguousarray(v) for i, (_, net) in
                  enumerate(self.snapshots) for k, v in net.params.items()}
        meta = {"recipe": self.recipe.as_dict(), "spec": self.network.spec.to_dict(),
                "epochs": [e for e, _ in self.snapshots], "record": asdict(self.record),
                "facts": self.facts}
        return arrays, {META_KEY: json.dumps(meta)}


def load_shipped(r: Recipe) -> Trained | None:
    """The shipped weights of ``r``, or None when the package has none for it (also when
    the file's recipe is not ``r``: a file left from an older recipe is not used)."""
    from spacefold.model.tensor_files import read_safetensors

    if not r.file.is_file():
        return None
    arrays, md = read_safetensors(r.file, f"zoo weights {r.file.name!r} are not readable")
    meta = json.loads(md[META_KEY])
    if meta["recipe"] != r.as_dict():
        return None
    spec = ArchSpec.from_dict(meta["spec"])
    names = [f"{idx}.{p}" for idx, _ in spec.module_layout() for p in ("weight", "bias")]
    snaps = tuple((int(e), Network(spec, {k: arrays[f"{i}.{k}"] for k in names}))
                  for i, e in enumerate(meta["epochs"]))
    rec = meta["record"]

    def floats(k: str) -> tuple[float, ...]:
        return tuple(float(v) for v in rec[k])

    record = Record(floats("loss"), floats("accuracy"), floats("test_loss"),
                    floats("test_accuracy"), str(rec["stopped"]))
    return Trained(r, snaps, record, {k: float(v) for k, v in meta["facts"].items()})
