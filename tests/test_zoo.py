"""The zoo's shipped weights: present for every default network, loaded without torch, and
what training their recipe again gives (the same accuracy, the same predictions on at least
99% of the data — bitwise equality of a retraining may not hold across CPUs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spacefold.scenes import zoo, zoo_store
from spacefold.scenes.zoo import load_shipped, recipe, shipped
from spacefold.scenes.zoo_training import cloud_data, digits_data, spiral_data
from spacefold.trace import trace

ROOT = Path(__file__).resolve().parents[1]
ZOO_SCENES = ["fold-222", "fold-232", "spiral", "bottleneck", "extrapolation", "digits",
              "training", "linear-regions", "wide-layer", "surfaces-argmax", "surfaces-softmax"]


def _x(r: zoo.Recipe) -> tuple[np.ndarray, np.ndarray]:
    """The points a recipe's network is judged on, and their labels."""
    if r.kind == "digits":
        a, b = digits_data()
        return np.concatenate([a.x, b.x]), np.concatenate([a.y, b.y])
    d = cloud_data() if r.kind == "fold" else spiral_data()
    return d.x, d.y


def _predict(net: zoo.Network, x: np.ndarray) -> np.ndarray:
    return trace(net, x, grid=False).output.argmax(axis=1)


def test_every_default_network_ships() -> None:
    names = {r.file.name for r in shipped()}
    assert len(names) == len(shipped())                      # one file per recipe
    assert {p.name for p in zoo_store.WEIGHTS.glob("*.safetensors")} == names
    for r in shipped():
        t = load_shipped(r)
        assert t is not None, f"{r.file.name} missing or stale: run scripts/train_zoo.py"
        assert t.recipe == r


@pytest.mark.parametrize("r", shipped(), ids=lambda r: r.file.stem)
def test_shipped_weights_agree_with_retraining(r: zoo.Recipe) -> None:
    shipped_ = load_shipped(r)
    assert shipped_ is not None
    fresh = zoo.train(r)
    x, y = _x(r)
    assert [e for e, _ in fresh.snapshots] == [e for e, _ in shipped_.snapshots]
    for (_, a), (_, b) in zip(shipped_.snapshots, fresh.snapshots, strict=True):
        pa, pb = _predict(a, x), _predict(b, x)
        assert (pa == pb).mean() >= 0.99
        assert abs((pa == y).mean() - (pb == y).mean()) <= 0.005
        assert a.spec == b.spec
    assert shipped_.record.epochs == fresh.record.epochs
    np.testing.assert_allclose(shipped_.record.loss, fresh.record.loss, rtol=1e-3, atol=1e-4)
    for k, v in fresh.facts.items():
        assert shipped_.facts[k] == pytest.approx(v, abs=0.005)


def test_the_zoo_scenes_build_without_torch() -> None:
    """No training, no torch: every scene on a zoo network builds from the shipped weights."""
    code = (f"import sys\nfrom spacefold.scenes.registry import build_scene\n"
            f"for n in {ZOO_SCENES!r}:\n    build_scene(n)\n"
            f"assert 'torch' not in sys.modules, 'torch was imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_a_file_of_another_recipe_is_not_used(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    a = shipped()[0]
    b = recipe(a.kind, **{**dict(a.params), "seed": 12345})
    src = a.file                                  # the real, shipped file
    monkeypatch.setattr(zoo_store, "WEIGHTS", tmp_path)
    shutil.copy(src, b.file)                      # a's weights under b's name
    assert load_shipped(b) is None
    shutil.copy(src, a.file)
    t = load_shipped(a)
    assert t is not None and t.recipe == a


def test_a_recipe_not_shipped_is_trained_once() -> None:
    net, data, rec = zoo.spiral_net("2-8-5", epochs=5, target=None)
    assert load_shipped(recipe("spiral", arch="2-8-5", activation="relu", seed=0, epochs=5,
                               lr=0.02, target=None)) is None
    assert net.spec.arch == "2-8-5" and rec.epochs == 5 and len(data) == 1000
    assert zoo.spiral_net("2-8-5", epochs=5, target=None)[0] is net      # cached


def test_the_file_holds_its_recipe_and_record() -> None:
    from spacefold.model.tensor_files import read_safetensors

    r = recipe("snapshots", arch="2-100-2-5", activation="relu", seed=0, epochs=300,
               lr=0.02, count=40)
    arrays, md = read_safetensors(r.file, "unreadable")
    meta = json.loads(md[zoo_store.META_KEY])
    assert meta["recipe"] == r.as_dict() and len(meta["record"]["loss"]) == 300
    assert len(meta["epochs"]) == len({k.split(".")[0] for k in arrays}) >= 30


def test_the_script_checks_the_shipped_files() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_zoo.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "all shipped weights present" in r.stdout
