"""The app's form comes from the server's Config: every field, its kind, bounds, choices and
default as ``GET /api/fields`` serves them are exactly what Config accepts and refuses, and the
fields it marks ``retune`` are the ones the running network takes on."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from spacefold.server.config import RETUNABLE, Config, dataset_info, fields, same_network

FIELDS = {f["name"]: f for f in fields()}
# a config every numeric bound can be tried on: ten outputs fit any class count
ROOMY = {"arch": "2-16-10"}


def _ok(**changes: Any) -> bool:
    try:
        Config(**{**ROOMY, **changes})
    except ValidationError:
        return False
    return True


def test_the_table_has_every_config_field_in_order_with_its_default() -> None:
    assert list(FIELDS) == list(Config.model_fields)
    defaults = Config().model_dump()
    assert {name: f["default"] for name, f in FIELDS.items()} == defaults
    for f in FIELDS.values():
        assert f["label"] and f["kind"] in ("int", "float", "text", "choice", "activations")


@pytest.mark.parametrize("name", [n for n, f in FIELDS.items() if f["kind"] in ("int", "float")])
def test_each_numeric_bound_is_the_one_config_enforces(name: str) -> None:
    f = FIELDS[name]
    lo, hi = f["min"], f["max"]
    assert lo is not None and hi is not None, f"{name} is unbounded"
    if f["kind"] == "int":
        below, above = lo - 1, hi + 1
        assert isinstance(lo, int) and isinstance(hi, int)
    else:
        below, above = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
    assert _ok(**{name: lo}) is not f["min_exclusive"]
    assert _ok(**{name: hi}) is not f["max_exclusive"]
    assert not _ok(**{name: below})
    assert not _ok(**{name: above})
    if f["min_exclusive"]:
        assert _ok(**{name: math.nextafter(lo, math.inf)})
    assert _ok(**{name: None}) is f["optional"]
    if f["kind"] == "float":
        assert not _ok(**{name: math.nan}) and not _ok(**{name: math.inf})


def test_every_dataset_choice_is_accepted_and_nothing_else() -> None:
    f = FIELDS["dataset"]
    assert f["kind"] == "choice" and f["choices"] == sorted(dataset_info())
    for name in f["choices"]:
        dim = dataset_info()[name]["dim"]
        assert _ok(dataset=name, arch=f"{dim}-16-10"), name
    assert not _ok(dataset="nope")
    assert not _ok(dataset="upload:000000000000")     # an upload this server does not have


def test_every_activation_choice_is_accepted_one_per_hidden_layer() -> None:
    f = FIELDS["activation"]
    assert f["kind"] == "activations" and f["choices"]
    for name in f["choices"]:
        assert _ok(activation=name), name
        assert _ok(activation=f"{name},relu", arch="2-8-8-10"), name
    assert not _ok(activation="nope")
    assert not _ok(activation="x" * (f["max_length"] + 1))


def test_text_lengths_are_the_ones_config_enforces() -> None:
    f = FIELDS["arch"]
    n = f["max_length"]
    assert f["kind"] == "text"
    too_long = "2-" + "1" * (n - 4) + "-10"
    assert len(too_long) == n + 1
    with pytest.raises(ValidationError, match=f"at most {n} characters"):
        Config(arch=too_long)
    with pytest.raises(ValidationError) as e:         # as long as allowed: refused for its
        Config(arch=too_long[1:].lstrip("-"))         # width, not its length
    assert "characters" not in str(e.value)


def test_retune_marks_the_training_hyper_parameters() -> None:
    assert RETUNABLE == tuple(n for n, f in FIELDS.items() if f["retune"])
    assert set(RETUNABLE) == {"lr", "batch_size", "l2", "epochs"}
    base = Config(**ROOMY)
    for name, f in FIELDS.items():
        value = {"int": 2 if name != "seed" else 7, "float": 0.05, "text": "2-12-10",
                 "choice": "moons", "activations": "tanh"}[f["kind"]]
        changed = base.model_copy(update={name: value})
        assert changed.model_dump()[name] != base.model_dump()[name], name
        assert same_network(base, changed) is f["retune"], name


def test_the_server_serves_the_table() -> None:
    from spacefold.server.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8765") as c:
        r = c.get("/api/fields")
    assert r.status_code == 200
    assert r.json() == fields()
