"""A session's config: everything a run depends on, bounded, and the one source of the app's
form (:func:`fields`, served as ``GET /api/fields``).

Each field says its label, and whether changing it retunes the running network (training
hyper-parameters) or starts a new one (data, architecture, activations, seed).
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.json_schema import JsonDict

import spacefold.limits as limits
from spacefold.data import DATASETS, Dataset
from spacefold.errors import SpacefoldError
from spacefold.model.recipe import generator_params
from spacefold.model.spec import ACTIVATION_NAMES, ArchSpec
from spacefold.server.guard import BadInput
from spacefold.server.uploads import is_upload, uploaded

APP_DATASETS = tuple(sorted(DATASETS))   # the 2-D ones and digits (64-D, shown through PCA)
_RETUNE: JsonDict = {"retune": True}     # a field the running network takes on


class Config(BaseModel):
    """Everything a run depends on; the app keeps it in the URL.

    Strict: an int field takes a whole number (not 5.0, true or "5"), a float field any
    number (not true or "0.1"), a text field a string; pydantic's lax mode would convert
    them, so the page and a script could disagree about what was sent.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    dataset: str = Field(default="spiral", title="dataset")
    classes: int = Field(default=5, ge=2, le=limits.APP_MAX_CLASSES, title="classes")
    n: int = Field(default=1000, ge=limits.APP_MIN_POINTS, le=limits.APP_MAX_POINTS,
                   title="points")
    noise: float = Field(default=0.2, ge=0.0, le=1.0, allow_inf_nan=False, title="noise")
    test: float = Field(default=0.2, ge=0.0, le=0.5, allow_inf_nan=False,
                        title="test fraction")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, title="seed")
    arch: str = Field(default="2-100-5", max_length=limits.APP_MAX_ARCH_CHARS,
                      title="architecture")
    activation: str = Field(default="relu", max_length=limits.APP_MAX_ACTIVATION_CHARS,
                            title="activation")
    lr: float = Field(default=0.01, gt=0.0, le=1.0, allow_inf_nan=False,
                      title="learning rate", json_schema_extra=_RETUNE)
    batch_size: int | None = Field(default=None, ge=1, le=limits.APP_MAX_POINTS,
                                   title="batch size (empty: full)", json_schema_extra=_RETUNE)
    l2: float = Field(default=0.0, ge=0.0, le=0.1, allow_inf_nan=False, title="L2",
                      json_schema_extra=_RETUNE)
    epochs: int = Field(default=5000, ge=1, le=limits.APP_MAX_EPOCHS, title="epochs",
                        json_schema_extra=_RETUNE)

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, v: str) -> str:
        if is_upload(v):
            if uploaded(v) is None:
                raise ValueError(f"no uploaded data {v!r} on this server (uploads live until "
                                 f"it restarts); upload the CSV again")
            return v
        if v not in APP_DATASETS:
            raise ValueError(f"unknown dataset {v!r}; choose one of: {', '.join(APP_DATASETS)}"
                             f", or an uploaded CSV")
        return v

    @model_validator(mode="after")
    def _spec(self) -> Config:
        self.spec()   # raises ValueError with the one-line message
        return self

    def spec(self) -> ArchSpec:
        try:
            spec = ArchSpec.parse(self.arch, self.activation)
        except SpacefoldError as e:
            raise ValueError(str(e)) from None
        w = spec.widths
        dim = self.data_dim()
        if w[0] != dim:
            what = "the plane's 2 inputs" if dim == 2 else f"{self.dataset}'s {dim} inputs"
            raise ValueError(f"arch {self.arch!r} must start with {dim} ({what})")
        if max(w[1:]) > limits.APP_MAX_WIDTH:
            raise ValueError(f"arch {self.arch!r}: widths must be at most "
                             f"{limits.APP_MAX_WIDTH} here")
        if len(w) - 2 > limits.APP_MAX_HIDDEN:
            raise ValueError(f"arch {self.arch!r}: at most {limits.APP_MAX_HIDDEN} hidden layers "
                             f"here")
        classes = self.data_classes()
        if w[-1] < classes:
            raise ValueError(f"arch {self.arch!r} has {w[-1]} outputs for {classes} "
                             f"classes; end it with {classes}")
        return spec

    def make_data(self) -> Dataset:
        """The dataset this config names: generated, or an upload."""
        up = uploaded(self.dataset)
        if up is not None:
            return up
        from spacefold.data import dataset

        return dataset(self.dataset, **self.data_params())

    def data_params(self) -> dict[str, Any]:
        """The dataset options this dataset's generator takes (xor has no ``classes``)."""
        if is_upload(self.dataset):
            return {}
        return generator_params(self.dataset, {"classes": self.classes, "n": self.n,
                                               "noise": self.noise, "seed": self.seed})

    def data_classes(self) -> int:
        if is_upload(self.dataset):
            return self.make_data().classes
        if "classes" in self.data_params():
            return self.classes
        return probe(self.dataset)[1]

    def data_dim(self) -> int:
        """Input features of this config's data (2, or 64 for digits)."""
        return 2 if is_upload(self.dataset) else probe(self.dataset)[0]


def parse_config(obj: Any, what: str = "the body") -> Config:
    """A JSON object as a Config; :class:`BadInput` (one line) otherwise."""
    if not isinstance(obj, dict):
        raise BadInput(f"{what} must be a JSON object of config fields, not "
                       f"{type(obj).__name__}")
    try:
        return Config.model_validate(obj)
    except ValidationError as e:
        raise BadInput(validation_message(e)) from None


def validation_message(err: ValidationError | RequestValidationError) -> str:
    """A pydantic error list as one line naming the field, the value and what is allowed."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        val = e.get("input")
        shown = f" (got {val!r})" if val is not None and not isinstance(val, dict) else ""
        parts.append(f"{loc}: {msg}{shown}" if loc else msg)
    return "; ".join(parts)[:500]


@functools.cache
def probe(name: str) -> tuple[int, int]:
    """(input dimension, classes) of a registered dataset, from 20 of its points."""
    from spacefold.data import dataset

    d = dataset(name, n=20)
    return d.dim, d.classes


def dataset_info() -> dict[str, dict[str, int | None]]:
    """For the app's controls: each dataset's input dimension, and its class count when the
    dataset fixes it (xor: 2, digits: 10; None when the ``classes`` control sets it)."""
    out: dict[str, dict[str, int | None]] = {}
    for name in APP_DATASETS:
        dim, classes = probe(name)
        takes = "classes" in inspect.signature(DATASETS[name]).parameters
        out[name] = {"dim": dim, "classes": None if takes else classes}
    return out


def activations() -> list[str]:
    return list(ACTIVATION_NAMES)


# -- the app's form, from the model above ---------------------------------------------------------
_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {   # field → (kind, its choices)
    "dataset": ("choice", APP_DATASETS),               # or an upload:<id> from /api/upload
    "activation": ("activations", ACTIVATION_NAMES),   # one per hidden layer, comma-separated
}


def fields() -> list[dict[str, Any]]:
    """The app's form, one entry per :class:`Config` field in order (``GET /api/fields``).

    Each entry: ``name``; ``kind`` (``"int"``, ``"float"``, ``"text"``, ``"choice"``: one of
    ``choices`` (a dataset may also be an ``upload:<id>``), ``"activations"``: one of
    ``choices`` per hidden layer, comma-separated); ``label``; ``default``; ``min`` and
    ``max`` (numbers or None; ``min_exclusive`` / ``max_exclusive`` say when the bound itself
    is refused); ``max_length`` (text, or None); ``optional`` (empty is allowed and means
    None: the batch size's full batch); ``choices`` (or None); ``retune``: true when changing
    it goes on with the running network, false when it starts a new one.
    """
    out = []
    for name, f in Config.model_fields.items():
        entry: dict[str, Any] = {
            "name": name, "kind": "text", "label": f.title or name, "default": f.default,
            "min": None, "max": None, "min_exclusive": False, "max_exclusive": False,
            "max_length": None, "optional": False, "choices": None,
            "retune": bool(isinstance(f.json_schema_extra, dict)
                           and f.json_schema_extra.get("retune")),
        }
        kinds: tuple[Any, ...] = (f.annotation,)
        if isinstance(f.annotation, types.UnionType):      # int | None
            kinds = f.annotation.__args__
            entry["optional"] = type(None) in kinds
        entry["kind"] = "int" if int in kinds else "float" if float in kinds else "text"
        if name in _CHOICES:
            entry["kind"], choices = _CHOICES[name]
            entry["choices"] = list(choices)
        for m in f.metadata:        # annotated_types' Ge, Gt, Le, Lt, MaxLen
            for attr, key, exclusive in (("ge", "min", False), ("gt", "min", True),
                                         ("le", "max", False), ("lt", "max", True)):
                if hasattr(m, attr):
                    entry[key], entry[f"{key}_exclusive"] = getattr(m, attr), exclusive
            if hasattr(m, "max_length"):
                entry["max_length"] = m.max_length
        out.append(entry)
    return out


RETUNABLE = tuple(f["name"] for f in fields() if f["retune"])   # lr, batch_size, l2, epochs


def same_network(old: Config, new: Config) -> bool:
    """Do two configs differ only in what the running network can take on (training
    hyper-parameters)? Data, architecture, activations and seed make a new network."""
    a, b = old.model_dump(), new.model_dump()
    return all(a[k] == b[k] for k in a if k not in RETUNABLE)

