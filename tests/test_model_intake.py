"""Model intake: networks built outside ``sf.build`` (their own classes, state dicts saved by
``torch.save(model.state_dict())``, plain safetensors, code files) load and trace to
exactly ``model(x)``; every misuse is one line. Loading a weights file never unpickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import spacefold as sf
from spacefold.errors import SpecError
from spacefold.model.intake import CLI_NAMES, read_model


class Plain(nn.Module):
    """A user's own class: named layers, a functional ReLU in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.linear1 = nn.Linear(2, 16)
        self.linear2 = nn.Linear(16, 2)
        self.head = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.linear2(torch.relu(self.linear1(x))))


class Nested(nn.Module):
    """Keys like fc.0.weight ... fc.11.weight: file order must be numeric, not by name."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(2, 4), nn.Tanh()]
        for _ in range(5):
            layers += [nn.Linear(4, 4), nn.Tanh()]
        layers.append(nn.Linear(4, 3))
        self.fc = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


X = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))


def _out(model: nn.Module) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(X).numpy()


def _last(model: object) -> np.ndarray:
    return sf.trace(model, X.numpy()).stages[-1].values


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


def _seq() -> nn.Sequential:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 2), nn.Linear(2, 5))


@pytest.mark.parametrize("fmt", ["pth", "pt", "bin", "safetensors"])
def test_sequential_state_dict_with_arch_and_activation(tmp_path: Path, fmt: str) -> None:
    seq = _seq()
    p = tmp_path / f"model.{fmt}"
    if fmt == "safetensors":
        save_file({k: v.contiguous() for k, v in seq.state_dict().items()}, p)
    else:
        torch.save(seq.state_dict(), p)
    net = sf.load_model(p, arch="2-100-2-5", activation="relu,identity")
    assert isinstance(net, sf.Network)
    assert net.spec.activations == ("relu", "identity")
    np.testing.assert_allclose(_last(net), _out(seq), atol=1e-5)


@pytest.mark.parametrize("act, given, bare", [
    (nn.LeakyReLU(0.2), "leaky_relu:0.2", "leaky_relu"),
    (nn.LeakyReLU(), "leaky_relu:0.01", "leaky_relu"),        # torch's default slope
    (nn.ELU(alpha=0.5), "elu:alpha=0.5", "elu"),
], ids=["leaky-0.2", "leaky-torch-default", "elu-0.5"])
def test_a_state_dict_is_rebuilt_with_the_activation_parameters_given(
        tmp_path: Path, act: nn.Module, given: str, bare: str) -> None:
    torch.manual_seed(4)
    seq = nn.Sequential(nn.Linear(2, 32), act, nn.Linear(32, 32), act, nn.Linear(32, 5))
    torch.save(seq.state_dict(), tmp_path / "m.pth")
    net = sf.load_model(tmp_path / "m.pth", arch="2-32-32-5", activation=given)
    np.testing.assert_allclose(_last(net), _out(seq), atol=1e-5)
    np.testing.assert_allclose(net.to_torch()(X).detach().numpy(), _out(seq), atol=1e-5)
    wrong = sf.load_model(tmp_path / "m.pth", arch="2-32-32-5", activation=bare)
    assert np.abs(_last(wrong) - _out(seq)).max() > 1e-3


def test_own_class_with_any_key_names(tmp_path: Path) -> None:
    torch.manual_seed(0)
    m = Plain()
    torch.save(m.state_dict(), tmp_path / "plain.pt")
    net = sf.load_model(tmp_path / "plain.pt", arch="2-16-2-3", activation="relu,identity")
    np.testing.assert_allclose(_last(net), _out(m), atol=1e-5)


@pytest.mark.parametrize("fmt", ["pt", "safetensors"])
def test_layer_order_is_numeric_not_alphabetical(tmp_path: Path, fmt: str) -> None:
    torch.manual_seed(0)
    m = Nested()
    p = tmp_path / f"nested.{fmt}"
    if fmt == "pt":
        torch.save(m.state_dict(), p)
    else:     # safetensors stores keys sorted as strings: fc.10 before fc.2
        save_file(dict(m.state_dict()), p)
    net = sf.load_model(p, arch="2-4-4-4-4-4-4-3", activation="tanh")
    np.testing.assert_allclose(_last(net), _out(m), atol=1e-5)


def test_nested_training_checkpoint_and_bias_free_linear(tmp_path: Path) -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 6, bias=False), nn.Sigmoid(), nn.Linear(6, 2))
    torch.save({"epoch": 7, "state_dict": m.state_dict()}, tmp_path / "ck.pt")
    net = sf.load_model(tmp_path / "ck.pt", arch="2-6-2", activation="sigmoid")
    np.testing.assert_allclose(_last(net), _out(m), atol=1e-5)


def test_shape_mismatch_names_both_sides(tmp_path: Path) -> None:
    torch.save(_seq().state_dict(), tmp_path / "m.pth")
    with pytest.raises(SpecError) as e:
        read_model(tmp_path / "m.pth", arch="2-64-5", names=CLI_NAMES)
    assert _one_line(e).endswith("weights have Linear shapes (100, 2), (2, 100), (5, 2); "
                                 "--arch 2-64-5 needs (64, 2), (5, 64)")


def test_no_spec_no_arch_suggests_the_arch(tmp_path: Path) -> None:
    torch.save(_seq().state_dict(), tmp_path / "m.pth")
    with pytest.raises(SpecError) as e:
        read_model(tmp_path / "m.pth", names=CLI_NAMES)
    msg = _one_line(e)
    assert "no spacefold spec" in msg and "--arch 2-100-2-5" in msg and "--model-code" in msg


def test_wrong_activation_count(tmp_path: Path) -> None:
    torch.save(_seq().state_dict(), tmp_path / "m.pth")
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "m.pth", arch="2-100-2-5", activation="relu,relu,relu")
    assert "3 activations given for 2 hidden layers" in _one_line(e)


class _Bomb:
    """Unpickling this would create a file: the test proves it never happens."""

    target = ""

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.target), "unpickled!"))  # type: ignore[return-value]


def test_pickled_full_model_is_refused_never_unpickled(tmp_path: Path) -> None:
    torch.save(_seq(), tmp_path / "full.pt")
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "full.pt", arch="2-100-2-5")
    msg = _one_line(e)
    assert "pickled" in msg and "torch.save(model.state_dict()" in msg
    bomb = _Bomb()
    bomb.target = str(tmp_path / "ran")
    with open(tmp_path / "bomb.pt", "wb") as f:
        pickle.dump(bomb, f, protocol=2)
    torch.save({"w": bomb}, tmp_path / "bomb2.pt")
    for name in ("bomb.pt", "bomb2.pt"):
        with pytest.raises(SpecError):
            sf.load_model(tmp_path / name, arch="2-3")
    assert not (tmp_path / "ran").exists()


def test_missing_garbage_and_non_linear_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "nope.pth", arch="2-3")
    assert "does not exist" in _one_line(e)
    (tmp_path / "junk.pt").write_bytes(b"hello world, not weights")
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "junk.pt", arch="2-3")
    assert "neither a safetensors file nor a PyTorch" in _one_line(e)
    torch.save(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).state_dict(),
               tmp_path / "bn.pt")
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "bn.pt", arch="2-3")
    assert "not Linear weights" in _one_line(e)


CODE = '''
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(2, 16)
        self.linear2 = nn.Linear(16, 2)
        self.head = nn.Linear(2, 3)

    def forward(self, x):
        return self.head(self.linear2(torch.relu(self.linear1(x))))

def make_model():
    torch.manual_seed(5)
    return Net()

def broken():
    raise RuntimeError("no GPU here")
'''


def test_model_code_alone_and_with_weights(tmp_path: Path) -> None:
    (tmp_path / "mynet.py").write_text(CODE)
    code = f"{tmp_path / 'mynet.py'}:make_model"
    built = sf.load_model(code=code)
    assert type(built).__name__ == "Net" and not built.training
    torch.manual_seed(0)
    m = Plain()                       # the same layout under another class: keys match
    torch.save(m.state_dict(), tmp_path / "w.pt")
    loaded = sf.load_model(tmp_path / "w.pt", code=code)
    np.testing.assert_allclose(_last(loaded), _out(m), atol=1e-5)
    # a spacefold checkpoint's keys (0.weight ...) differ: matched by Linear order and shape
    ck = sf.build("2-16-2-3", ["relu", "identity"], seed=4)
    sf.save(ck, tmp_path / "ck.safetensors")
    loaded = sf.load_model(tmp_path / "ck.safetensors", code=code)
    np.testing.assert_allclose(_last(loaded), _out(ck), atol=1e-5)


NORM_CODE = '''
from torch import nn

def normed():
    return nn.Sequential(nn.Linear(2, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))

class Wrapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = normed()

    def forward(self, x):
        return self.model(x)
'''


def test_model_code_loads_weights_saved_under_a_prefix(tmp_path: Path) -> None:
    """A module with more than Linear layers cannot be matched by order: a Lightning
    checkpoint's "model.0.weight", DataParallel's "module.0.weight" and a wrapper's keys
    load by name once the prefix is set aside."""
    (tmp_path / "norm.py").write_text(NORM_CODE)
    torch.manual_seed(2)
    m = nn.Sequential(nn.Linear(2, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))
    with torch.no_grad():
        m[1].weight.uniform_(0.5, 2.0)           # not the fresh module's ones and zeros
        m[1].bias.uniform_(-1.0, 1.0)
    sd = m.state_dict()
    torch.save({"state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 3,
                "hyper_parameters": {"lr": 0.01}}, tmp_path / "lightning.ckpt")
    torch.save({f"module.{k}": v for k, v in sd.items()}, tmp_path / "dp.pt")
    torch.save(sd, tmp_path / "plain.pt")
    for weights, code in (("lightning.ckpt", "normed"), ("dp.pt", "normed"),
                          ("plain.pt", "Wrapped"), ("lightning.ckpt", "Wrapped")):
        loaded = sf.load_model(tmp_path / weights, code=f"{tmp_path / 'norm.py'}:{code}")
        np.testing.assert_allclose(_last(loaded), _out(m), atol=1e-5)
    torch.save({**{f"model.{k}": v for k, v in sd.items()},
                **{f"ema.{k}": v for k, v in sd.items()}}, tmp_path / "two.pt")
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "two.pt", code=f"{tmp_path / 'norm.py'}:normed")
    assert "under 2 prefixes (ema., model.)" in _one_line(e)


def test_model_code_misuse(tmp_path: Path) -> None:
    (tmp_path / "mynet.py").write_text(CODE)
    f = tmp_path / "mynet.py"
    cases = {f"{f}:Nope": "defines no 'Nope'; it defines: Net, broken, make_model",
             f"{tmp_path / 'other.py'}:Net": "does not exist",
             str(f): "must be FILE.py:NAME",
             f"{f}:broken": "broken() failed: RuntimeError: no GPU here"}
    for code, want in cases.items():
        with pytest.raises(SpecError) as e:
            sf.load_model(code=code)
        assert want in _one_line(e)
    torch.save(_seq().state_dict(), tmp_path / "m.pth")
    with pytest.raises(SpecError) as e:
        read_model(tmp_path / "m.pth", code=f"{f}:Net", names=CLI_NAMES)
    assert "weights have Linear shapes (100, 2), (2, 100), (5, 2)" in _one_line(e)
    assert "builds (16, 2), (2, 16), (3, 2)" in str(e.value)
    with pytest.raises(SpecError) as e:
        read_model(tmp_path / "m.pth", code=f"{f}:Net", arch="2-3", names=CLI_NAMES)
    assert "--arch" in _one_line(e) and "--model-code" in str(e.value)


def test_spacefold_checkpoint_keeps_its_meta_and_checks_arch(tmp_path: Path) -> None:
    m = sf.build("2-8-3", "tanh", seed=0)
    sf.save(m, tmp_path / "ck.safetensors", meta={"data": {"name": "moons"}})
    got = read_model(tmp_path / "ck.safetensors", arch="2-8-3", activation="tanh")
    assert got.meta == {"data": {"name": "moons"}} and got.arch == "2-8-3"
    np.testing.assert_allclose(_last(got.model), _out(m), atol=1e-5)
    with pytest.raises(SpecError) as e:
        read_model(tmp_path / "ck.safetensors", arch="2-9-3", names=CLI_NAMES)
    assert "checkpoint of 2-8-3; --arch 2-9-3 disagrees" in _one_line(e)
    with pytest.raises(SpecError) as e:
        sf.load_model(tmp_path / "ck.safetensors", activation="relu")
    assert "activations tanh" in _one_line(e)
    sf.save(sf.build("2-8-3", "leaky_relu:0.2"), tmp_path / "lk.safetensors")
    assert sf.load_model(tmp_path / "lk.safetensors", activation="leaky_relu:0.2")\
        .activation_params(0) == {"negative_slope": 0.2}
    with pytest.raises(SpecError) as e:    # the bare name means the default slope, 0.1
        read_model(tmp_path / "lk.safetensors", activation="leaky_relu", names=CLI_NAMES)
    assert "activations leaky_relu:0.2; --activation leaky_relu disagrees" in _one_line(e)


def test_a_safetensors_header_that_starts_like_a_pickle(tmp_path: Path) -> None:
    """A 384-byte header's length starts with byte 0x80, as a pickle does: still safetensors."""
    m = nn.Sequential(nn.Linear(2, 12), nn.ReLU(), nn.Linear(12, 3))
    p = sf.save(m, tmp_path / "m.safetensors")
    assert p.read_bytes()[:1] == b"\x80"          # (this layout's header is 0x180 bytes)
    got = read_model(p)
    assert isinstance(got.model, sf.Network) and got.arch == "2-12-3"


def test_an_activation_for_a_network_without_hidden_layers_is_refused(tmp_path: Path) -> None:
    torch.save(nn.Sequential(nn.Linear(2, 3)).state_dict(), tmp_path / "l.pt")
    with pytest.raises(SpecError, match="arch='2-3' has no hidden layer") as e:
        sf.load_model(tmp_path / "l.pt", arch="2-3", activation="tanh")
    assert "\n" not in str(e.value)
    assert sf.load_model(tmp_path / "l.pt", arch="2-3").spec.widths == (2, 3)
