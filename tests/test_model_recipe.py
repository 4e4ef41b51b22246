"""spacefold.model.recipe: what a checkpoint remembers of its data and training makes the same
data again, refuses a recipe that no longer holds, and the checkpoint bytes load back as the
same network."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import spacefold as sf
from spacefold.errors import DataError
from spacefold.model import recipe
from spacefold.model.checkpoint import load_network


def test_a_recipe_keeps_only_what_the_generator_takes() -> None:
    assert recipe.named("xor", {"classes": 3, "n": 200, "noise": 0.1, "seed": 1}) == \
        {"name": "xor", "params": {"n": 200, "noise": 0.1, "seed": 1}}
    assert recipe.generator_params("spiral", {"classes": 3, "factor": 2}) == {"classes": 3}


def test_data_recipe_keeps_classes_and_command_line_overrides() -> None:
    d = sf.dataset("spiral", classes=3, n=90, noise=0.1, seed=4)
    r = recipe.data_recipe(d, "spiral")
    assert r == {"name": "spiral", "params": {"n": 90, "classes": 3, "noise": 0.1, "seed": 4}}
    same = recipe.remake("spiral", r)
    np.testing.assert_array_equal(same.x, d.x)
    np.testing.assert_array_equal(same.y, d.y)
    more = recipe.remake("spiral", r, n=120, classes=None)
    assert len(more) == 120 and more.classes == 3
    other = recipe.remake("gauss", r)   # another dataset: the recipe does not apply
    assert other.name == "gauss" and len(other) == 1000 and other.classes == 3


def test_a_file_recipe_is_its_resolved_path_and_sha256(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "pts.csv"
    p.write_text("0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    monkeypatch.chdir(tmp_path)
    r = recipe.data_recipe(sf.from_csv(p), "pts.csv")
    assert r == {"file": str(p.resolve()), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    again = recipe.data_from_meta({"data": r}, "model file 'm'")
    assert again is not None
    np.testing.assert_array_equal(again.x, sf.from_csv(p).x)


def test_a_checkpoint_recipe_remakes_the_data_or_says_why_not(tmp_path: Path) -> None:
    where = "model file 'm.safetensors'"
    assert recipe.data_from_meta({}, where) is None
    assert recipe.data_from_meta({"data": "spiral"}, where) is None
    d = recipe.data_from_meta({"data": recipe.named("moons", {"n": 50, "seed": 2})}, where)
    assert d is not None
    np.testing.assert_array_equal(d.x, sf.dataset("moons", n=50, seed=2).x)
    p = tmp_path / "pts.csv"
    p.write_text("0,0,0\n1,1,1\n")
    good = {"file": str(p), "sha256": recipe.sha256(p)}
    p.write_text("0,0,0\n1,1,1\n2,2,0\n")
    cases = [({"file": str(p), "sha256": good["sha256"]}, "has changed since"),
             ({"file": str(tmp_path / "gone.csv")}, "no longer exists"),
             ({"file": str(tmp_path / "x.txt")}, "no .csv / .npz file"),
             ({"name": "nope"}, "names dataset 'nope'"),
             ({"name": "spiral", "params": [1, 2]}, "not an object"),
             ({"name": "spiral", "params": {"n": -5}}, "its data recipe: n -5")]
    for bad, says in cases:
        with pytest.raises(DataError, match=says) as e:
            recipe.data_from_meta({"data": bad}, where)
        assert str(e.value).startswith(where) and "--data" in str(e.value)


def test_the_training_recipe_has_its_entries_and_the_callers() -> None:
    t = recipe.training(epochs=3, lr=0.1, batch_size=None, weight_decay=0.0, seed=1,
                        accuracy=0.5, source="spacefold serve")
    assert t == {"epochs": 3, "lr": 0.1, "batch_size": None, "weight_decay": 0.0, "seed": 1,
                 "accuracy": 0.5, "source": "spacefold serve"}
    assert json.loads(json.dumps(t)) == t


def test_checkpoint_bytes_load_back_as_the_same_network(tmp_path: Path) -> None:
    net = sf.build("2-5-3", "tanh", seed=3)
    spec = sf.ArchSpec.parse("2-5-3", "tanh")
    meta = {"data": recipe.named("gauss", {"n": 30}), "train": {"epochs": 0}}
    blob = recipe.checkpoint_bytes(net, spec, meta)
    with torch.no_grad():
        net[0].weight.add_(1.0)         # the bytes were taken before: a copy, not a view
    (tmp_path / "m.safetensors").write_bytes(blob)
    back = load_network(tmp_path / "m.safetensors")
    assert back.spec == spec and back.meta == meta
    x = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    with torch.no_grad():
        net[0].weight.sub_(1.0)
        want = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(back.to_torch()(torch.from_numpy(x)).detach().numpy(), want,
                               rtol=1e-6, atol=1e-6)
    assert list(tmp_path.iterdir()) == [tmp_path / "m.safetensors"]   # no temp left here
