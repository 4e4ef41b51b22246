"""Checkpoints: safetensors weights + the JSON spec; loading never unpickles."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import spacefold as sf
from spacefold._atomic import atomic_path
from spacefold.errors import SpacefoldError, SpecError
from spacefold.model.torch_build import build_spec


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("arch, activation, head", [
    ("2-100-2-5", "relu", None),
    ("2-8-8-3", ["tanh", "sin"], "softmax"),
    ("3-4-1", "leaky_relu", "sigmoid"),
    ("2-5", "relu", None),
])
def test_round_trip(tmp_path: Path, arch: str, activation: str | list[str],
                    head: str | None) -> None:
    model = sf.build(arch, activation=activation, head=head, seed=7)
    meta = {"dataset": "spiral", "epochs": 12, "accuracy": 0.99, "nested": {"a": [1, 2]}}
    path = sf.save(model, tmp_path / "m.safetensors", meta=meta)
    assert path == tmp_path / "m.safetensors" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp file left

    loaded, spec, meta2 = sf.load(path)
    assert spec == sf.ArchSpec.parse(arch, activation, head)
    assert meta2 == meta
    assert not loaded.training
    assert [type(m) for m in loaded] == [type(m) for m in model]
    sd, sd2 = model.state_dict(), loaded.state_dict()
    assert sd.keys() == sd2.keys()
    for k in sd:
        assert torch.equal(sd[k], sd2[k]), k
    x = torch.randn(32, spec.widths[0])
    with torch.no_grad():
        assert torch.equal(model.eval()(x), loaded(x))


def test_round_trip_of_a_trained_model_keeps_its_trace(tmp_path: Path) -> None:
    data = sf.dataset("moons", n=100, seed=0)
    model = sf.build("2-6-2", activation="tanh")
    sf.train(model, data, epochs=20, target_accuracy=None)
    loaded, _, _ = sf.load(sf.save(model, tmp_path / "m.safetensors"))
    a = sf.trace(model, data, grid=False)
    b = sf.trace(loaded, data, grid=False)
    for sa, sb in zip(a.stages, b.stages, strict=True):
        assert (sa.values == sb.values).all()


def test_explicit_spec_is_used(tmp_path: Path) -> None:
    spec = sf.ArchSpec.parse("2-3-2", "tanh")
    model = build_spec(spec)
    _, spec2, meta = sf.load(sf.save(model, tmp_path / "m.safetensors", spec=spec))
    assert spec2 == spec and meta == {}


def test_save_refuses_a_model_it_cannot_describe(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    with pytest.raises(SpecError, match="BatchNorm1d"):
        sf.save(model, tmp_path / "m.safetensors")
    with pytest.raises(SpecError, match="ModuleList"):
        sf.save(nn.ModuleList([nn.Linear(2, 2)]), tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


# -- bad files ---------------------------------------------------------------------------

class Boom:
    """Unpickling this creates a marker file, so any unpickling loader is caught."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        sf.load(tmp_path / "nope.safetensors")
    assert "nope.safetensors" in _one_line(e) and "does not exist" in str(e.value)
    with pytest.raises(SpecError):
        sf.load(tmp_path)  # a folder


@pytest.mark.parametrize("content", [
    b"", b"hello, not a model", b"\x00" * 64, b"\xff" * 8 + b"{}",
    b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}      ",
])
def test_non_safetensors_file(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "m.safetensors"
    p.write_bytes(content)
    with pytest.raises(SpecError) as e:
        sf.load(p)
    assert "m.safetensors" in _one_line(e)


def test_pickle_and_torch_save_files_are_refused_without_unpickling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "unpickled"

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("load() must never unpickle")

    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps({"0.weight": Boom(str(marker))}))
    saved = tmp_path / "torch.pt"
    torch.save({"state": sf.build("2-3-2").state_dict(), "boom": Boom(str(marker))}, saved)
    assert not marker.exists()

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    for p in (plain, saved):
        with pytest.raises(SpecError) as e:
            sf.load(p)
        assert p.name in _one_line(e)
    assert not marker.exists()


def test_safetensors_without_a_spec_or_with_wrong_weights(tmp_path: Path) -> None:
    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(bare))
    with pytest.raises(SpecError, match="no spacefold spec") as e:
        sf.load(bare)
    _one_line(e)

    wrong = tmp_path / "wrong.safetensors"
    sf.save(sf.build("2-3-2"), wrong, spec=sf.ArchSpec.parse("2-4-2", "relu"))
    with pytest.raises(SpecError, match="do not match spec 2-4-2") as e:
        sf.load(wrong)
    _one_line(e)

    garbled = tmp_path / "garbled.safetensors"
    save_file(dict(sf.build("2-3-2").state_dict()), str(garbled),
              metadata={"spacefold.spec": "{not json"})
    with pytest.raises(SpecError, match="bad metadata") as e:
        sf.load(garbled)
    _one_line(e)

    bad_act = tmp_path / "bad_act.safetensors"
    save_file(dict(sf.build("2-3-2").state_dict()), str(bad_act), metadata={
        "spacefold.spec": '{"widths": [2, 3, 2], "activations": ["os.system"]}'})
    with pytest.raises(SpecError, match="'os.system'"):
        sf.load(bad_act)


# -- atomic writes -----------------------------------------------------------------------

def test_saving_into_a_missing_folder_raises_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "m.safetensors"
    with pytest.raises(SpacefoldError, match="does not exist"):
        sf.save(sf.build("2-3-2"), target)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.safetensors"
    sf.save(sf.build("2-3-2"), target, meta={"v": 1})
    before = target.read_bytes()

    def disk_full(fd: int) -> None:   # the bytes went to the temp file; flushing them fails
        raise OSError(errno.ENOSPC, "No space left on device")

    import spacefold.model.checkpoint as ckpt

    monkeypatch.setattr(ckpt.os, "fsync", disk_full)
    with pytest.raises(sf.SpacefoldError, match="No space left on device"):
        sf.save(sf.build("2-3-2", seed=1), target, meta={"v": 2})
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert sf.load(target)[2] == {"v": 1}


def test_checkpoint_is_written_through_one_temp_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """safetensors' save_file makes its own .tmpXXXX (left by a killed run): not used."""
    import safetensors.torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("save_file writes a second temp file")

    monkeypatch.setattr(safetensors.torch, "save_file", refuse)
    seen: list[str] = []
    real = atomic_path

    def spy(path: str | Path) -> object:
        seen.append(str(path))
        return real(path)

    import spacefold.model.checkpoint as ckpt

    monkeypatch.setattr(ckpt, "atomic_path", spy)
    sf.save(sf.build("2-3-2"), tmp_path / "m.safetensors")
    assert seen == [str(tmp_path / "m.safetensors")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    sf.load_network(tmp_path / "m.safetensors")


# -- activation parameters ---------------------------------------------------------------

def test_a_checkpoint_keeps_its_activation_parameters(tmp_path: Path) -> None:
    model = sf.build("2-8-8-3", activation="leaky_relu:0.2,elu:alpha=0.5", seed=3)
    assert model[1].negative_slope == 0.2 and model[3].alpha == 0.5
    loaded, spec, _ = sf.load(sf.save(model, tmp_path / "m.safetensors"))
    assert spec.activation_texts == ("leaky_relu:0.2", "elu:0.5")
    assert loaded[1].negative_slope == 0.2 and loaded[3].alpha == 0.5
    x = torch.randn(64, 2) * 3
    with torch.no_grad():
        assert torch.equal(model.eval()(x), loaded(x))
    net = sf.load_network(tmp_path / "m.safetensors")
    assert [net.activation_params(i) for i in range(2)] == [{"negative_slope": 0.2},
                                                           {"alpha": 0.5}]
    torch.testing.assert_close(torch.as_tensor(sf.trace(net, x.numpy()).stages[-1].values),
                               model(x).detach(), rtol=1e-5, atol=1e-5)


def test_an_old_checkpoint_without_parameters_loads_with_the_old_defaults(
        tmp_path: Path) -> None:
    old = tmp_path / "old.safetensors"
    model = sf.build("2-4-2", activation="leaky_relu", seed=1)
    save_file(dict(model.state_dict()), str(old), metadata={
        "spacefold.spec": '{"widths": [2, 4, 2], "activations": ["leaky_relu"], '
                          '"head": null}', "spacefold.meta": "{}"})
    loaded, spec, _ = sf.load(old)
    assert loaded[1].negative_slope == 0.1 and spec.activation_texts == ("leaky_relu",)
    # and a spec of defaults is saved as it always was, without a "params" entry
    from safetensors import safe_open

    with safe_open(str(sf.save(model, tmp_path / "new.safetensors")), "pt") as f:
        assert f.metadata()["spacefold.spec"] == \
            '{"widths": [2, 4, 2], "activations": ["leaky_relu"], "head": null}'


def test_infer_spec_reads_the_parameters_of_the_modules() -> None:
    from spacefold.model.checkpoint import infer_spec

    seq = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.ELU(alpha=0.5),
                        nn.Linear(8, 8), nn.LeakyReLU(), nn.Linear(8, 8), nn.Hardtanh(-2, 3),
                        nn.Linear(8, 3), nn.Softmax(dim=1))
    spec = infer_spec(seq)
    assert spec.activation_texts == ("leaky_relu:0.2", "elu:0.5", "leaky_relu:0.01",
                                      "hardtanh:min_val=-2:max_val=3")
    assert spec.head == "softmax"
    rebuilt = build_spec(spec)
    rebuilt.load_state_dict(seq.state_dict())
    x = torch.randn(50, 2) * 4
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), seq(x))
    with pytest.raises(SpecError) as e:
        infer_spec(nn.Sequential(nn.Linear(2, 3), nn.Softplus(beta=-1), nn.Linear(3, 2)))
    assert "beta -1 must be a finite number > 0" in _one_line(e)
