"""The command line with networks built outside ``sf.build``: a state dict saved by
``torch.save(model.state_dict())`` with ``--arch/--activation``, the user's own class through
``--model-code``, and a spacefold checkpoint. The .npz a scene writes holds the trace of the
model it was given: its last stage equals ``model(x)`` on the data, so a scene that quietly
drew another network fails. Every misuse is one stderr line and exit 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from cli_helpers import assert_one_line_error, run

NET_PY = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(2, 32)
        self.linear2 = nn.Linear(32, 2)
        self.out = nn.Linear(2, 3)

    def forward(self, x):
        return self.out(self.linear2(torch.tanh(self.linear1(x))))


def make_model():
    torch.manual_seed(7)
    return Net()
'''


def _load_user_code(folder: Path) -> type[nn.Module]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("user_net_for_test", folder / "mynet.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cls: type[nn.Module] = mod.Net
    return cls


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mynet.py").write_text(NET_PY)
    return tmp_path


def _npz_output(path: Path) -> np.ndarray:
    with np.load(path) as z:
        return np.asarray(z[f"stage{len(z['names']) - 1}_values"])


def _model_out(model: nn.Module, data: sf.Dataset) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.as_tensor(data.x)).numpy()


GAUSS = ["--data", "gauss", "--classes", "3", "--n", "90"]


def _gauss() -> sf.Dataset:
    return sf.dataset("gauss", classes=3, n=90)


def test_state_dict_with_arch_and_activation(capsys: pytest.CaptureFixture[str],
                                             work: Path) -> None:
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 2), nn.Linear(2, 3))
    torch.save(seq.state_dict(), work / "model.pth")
    code, out, err = run(capsys, "render", "layers", "--model", "model.pth", "--arch",
                         "2-100-2-3", "--activation", "relu,identity", *GAUSS, "-o", "l.npz")
    assert code == 0, err
    np.testing.assert_allclose(_npz_output(work / "l.npz"), _model_out(seq, _gauss()),
                               atol=1e-5)
    code, _, err = run(capsys, "render", "layers", "--model", "model.pth", "--arch",
                       "2-100-2-3", "--activation", "relu,identity", *GAUSS, "-o", "l.png",
                       "--size", "160x90")
    assert code == 0, err and (work / "l.png").stat().st_size > 0
    code, out, err = run(capsys, "export", "--model", "model.pth", "--arch", "2-100-2-3",
                         "--activation", "relu,identity", *GAUSS, "-o", "l.html")
    assert code == 0, err and "3 classes" not in out


def test_model_code_alone_and_with_weights(capsys: pytest.CaptureFixture[str],
                                           work: Path) -> None:
    net_cls = _load_user_code(work)
    code, _, err = run(capsys, "render", "layers", "--model-code", "mynet.py:make_model",
                       *GAUSS, "-o", "a.npz")
    assert code == 0, err
    torch.manual_seed(7)
    np.testing.assert_allclose(_npz_output(work / "a.npz"), _model_out(net_cls(), _gauss()),
                               atol=1e-5)
    torch.manual_seed(3)
    trained = net_cls()
    torch.save(trained.state_dict(), work / "weights.pt")
    code, _, err = run(capsys, "render", "layers", "--model-code", "mynet.py:Net", "--model",
                       "weights.pt", *GAUSS, "-o", "b.npz")
    assert code == 0, err
    np.testing.assert_allclose(_npz_output(work / "b.npz"), _model_out(trained, _gauss()),
                               atol=1e-5)


def test_spacefold_checkpoint_brings_its_data(capsys: pytest.CaptureFixture[str],
                                              work: Path) -> None:
    code, _, err = run(capsys, "train", *GAUSS, "--arch", "2-6-3", "--epochs", 30, "-o",
                       "m.safetensors")
    assert code == 0, err
    code, _, err = run(capsys, "render", "layers", "--model", "m.safetensors", "-o", "c.npz")
    assert code == 0, err
    model, _, meta = sf.load(work / "m.safetensors")
    np.testing.assert_allclose(_npz_output(work / "c.npz"), _model_out(model, _gauss()),
                               atol=1e-5)


def test_misuse_is_one_line(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 2), nn.Linear(2, 5))
    torch.save(seq.state_dict(), work / "model.pth")
    torch.save(seq, work / "full.pt")
    cases = [
        (["--model", "missing.pth", "--arch", "2-3"], ["missing.pth", "does not exist"]),
        (["--model", "model.pth", "--arch", "2-64-5"],
         ["weights have Linear shapes (100, 2), (2, 100), (5, 2); --arch 2-64-5 needs "
          "(64, 2), (5, 64)"]),
        (["--model", "model.pth"], ["no spacefold spec", "--arch 2-100-2-5"]),
        (["--model", "full.pt", "--arch", "2-100-2-5"],
         ["pickled", "torch.save(model.state_dict(), 'full.pt')"]),
        (["--model-code", "mynet.py:Nope"], ["'Nope'", "Net, make_model"]),
        (["--model-code", "absent.py:Net"], ["absent.py"]),
        (["--model-code", "mynet.py:Net", "--arch", "2-3"], ["--arch", "--model-code"]),
        (["--arch", "2-100-2-5"], ["--arch", "--model"]),
        (["--model", "model.pth", "--arch", "2-100-2-5", "--activation", "relu,wobble"],
         ["'wobble'"]),
    ]
    for argv, names in cases:
        code, _, err = run(capsys, "render", "layers", *argv, *GAUSS, "-o", "x.npz")
        assert_one_line_error(code, err, *names)
    assert not (work / "x.npz").exists()
    code, _, err = run(capsys, "render", "layers", "--model", "model.pth", "--model",
                       "model.pth", "--arch", "2-100-2-5", *GAUSS, "-o", "x.png")
    assert_one_line_error(code, err, "'layers'", "one --model", "extrapolation")
    code, _, err = run(capsys, "render", "affine", "--model", "model.pth", "-o", "x.png")
    assert_one_line_error(code, err, "'affine'", "--model")
    assert not list(work.glob("x.*"))


# -- every network scene from the command line ---------------------------------------------------
CLASSES_PY = '''
import torch
from torch import nn


class Bottle(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.mid, self.out = nn.Linear(2, 12), nn.Linear(12, 2), nn.Linear(2, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.mid(torch.relu(self.inp(x)))))


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(11)
        self.body = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 2), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))

    def forward(self, x):
        return self.head(self.body(x))
'''

GAUSS240 = ["--data", "gauss", "--classes", "3", "--n", "240", "--seed", "1"]


def _seq(*layers: nn.Module, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(*layers).eval()


@pytest.fixture(scope="module")
def scene_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Weights files of networks made outside sf.build, and each one's torch module."""
    from safetensors.torch import save_file

    d = tmp_path_factory.mktemp("user_models")
    (d / "classes.py").write_text(CLASSES_PY)
    spec = importlib.util.spec_from_file_location("user_classes_for_cli_test", d / "classes.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out: dict[str, Any] = {"dir": d}
    plain = _seq(nn.Linear(2, 12), nn.ReLU(), nn.Linear(12, 2), nn.Tanh(), nn.Linear(2, 3),
                 seed=1)
    torch.save(plain.state_dict(), d / "plain.pth")
    save_file({k: v.contiguous() for k, v in plain.state_dict().items()}, d / "plain.safetensors")
    out["plain"] = plain
    torch.manual_seed(2)
    bottle = mod.Bottle().eval()
    torch.save(bottle.state_dict(), d / "bottle.pt")
    out["bottle"] = bottle
    out["deep"] = mod.Deep().eval()
    relu = _seq(nn.Linear(2, 12), nn.ReLU(), nn.Linear(12, 3), seed=3)
    sine = _seq(nn.Linear(2, 12), sf.Sine(), nn.Linear(12, 3), seed=4)
    sf.save(relu, d / "relu.safetensors")
    sf.save(sine, d / "sine.safetensors")
    out["relu"] = relu
    fold = _seq(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), seed=5)
    torch.save(fold.state_dict(), d / "fold.pth")
    out["fold"] = fold
    wide = _seq(nn.Linear(2, 24), nn.Tanh(), nn.Linear(24, 3), seed=6)
    torch.save(wide.state_dict(), d / "wide.pt")
    out["wide"] = wide
    dig = _seq(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2), nn.Linear(2, 10), seed=7)
    torch.save(dig.state_dict(), d / "digits.bin")
    out["digits"] = dig
    return out


# (scene, module key, CLI arguments naming the model and data, the data)
SCENE_CASES = [
    ("spiral", "plain", ["--model", "plain.pth", "--arch", "2-12-2-3", "--activation",
                         "relu,tanh", *GAUSS240], "gauss"),
    ("bottleneck", "bottle", ["--model-code", "classes.py:Bottle", "--model", "bottle.pt",
                              *GAUSS240], "gauss"),
    ("bottleneck", "deep", ["--model-code", "classes.py:Deep", *GAUSS240], "gauss"),
    ("extrapolation", "relu", ["--model", "relu.safetensors", *GAUSS240], "gauss"),
    ("surfaces-argmax", "plain", ["--model", "plain.safetensors", "--arch", "2-12-2-3",
                                  "--activation", "relu,tanh", *GAUSS240], "gauss"),
    ("surfaces-softmax", "deep", ["--model-code", "classes.py:Deep", *GAUSS240], "gauss"),
    ("fold-232", "fold", ["--model", "fold.pth", "--arch", "2-3-2", "--data", "cloud", "--n",
                          "300"], "cloud"),
    ("wide-layer", "wide", ["--model", "wide.pt", "--arch", "2-24-3", "--activation", "tanh",
                            *GAUSS240], "gauss"),
    ("digits", "digits", ["--model", "digits.bin", "--arch", "64-32-2-10", "--activation",
                          "relu,identity", "--data", "digits", "--n", "400"], "digits"),
    ("layers", "bottle", ["--model-code", "classes.py:Bottle", "--model", "bottle.pt",
                          *GAUSS240], "gauss"),
]
DATA = {"gauss": lambda: sf.dataset("gauss", classes=3, n=240, seed=1),
        "cloud": lambda: sf.dataset("cloud", n=300),
        "digits": lambda: sf.dataset("digits", n=400)}


@pytest.mark.parametrize(("name", "key", "argv", "data"), SCENE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in SCENE_CASES])
def test_every_network_scene_from_the_cli(name: str, key: str, argv: list[str], data: str,
                                          scene_models: dict[str, Any],
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    d: Path = scene_models["dir"]
    monkeypatch.chdir(d)
    npz, png = d / f"{name}-{key}.npz", d / f"{name}-{key}.png"
    code, _, err = run(capsys, "render", name, *argv, "-o", npz)
    assert code == 0, err
    want = _model_out(scene_models[key], DATA[data]())
    np.testing.assert_allclose(_npz_output(npz), want, rtol=1e-4,
                               atol=1e-4 * max(1.0, float(np.abs(want).max())))
    code, _, err = run(capsys, "render", name, *argv, "-o", png, "--size", "160x90")
    assert code == 0, err
    assert Image.open(png).size[1] >= 90


def test_model_code_whose_linears_are_declared_out_of_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The input width comes from forward, not from the order the layers were declared."""
    (tmp_path / "rev.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class Rev(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.out = nn.Linear(8, 3)\n"
        "        self.hid = nn.Linear(2, 8)\n"
        "    def forward(self, x):\n"
        "        return self.out(torch.relu(self.hid(x)))\n")
    out = tmp_path / "rev.png"
    code, _, err = run(capsys, "render", "layers", "--model-code", f"{tmp_path / 'rev.py'}:Rev",
                       "--data", "spiral", "--classes", "3", "-o", out, "--size", "320x180")
    assert code == 0, err
    assert out.is_file()


# -- activations with parameters: --activation leaky_relu:0.2 ------------------------------------
def _trained(*layers: nn.Module, seed: int) -> nn.Sequential:
    """A small net trained briefly on the gauss data (so its weights are not only random)."""
    model = _seq(*layers, seed=seed).train()
    data = _gauss()
    x, y = torch.as_tensor(data.x), torch.as_tensor(data.y)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def _stages_match_hooks(path: Path, model: nn.Sequential, data: sf.Dataset) -> None:
    """Every stage of the .npz but a partial W·x equals the output of the module it names
    (a forward hook), and the last equals model(x)."""
    seen: dict[str, np.ndarray] = {}
    hooks = [m.register_forward_hook(
        lambda _m, _i, out, k=str(k): seen.__setitem__(k, out.detach().numpy()))
        for k, m in enumerate(model)]
    try:
        want = _model_out(model, data)
    finally:
        for h in hooks:
            h.remove()
    with np.load(path) as z:
        kinds, sources = list(z["kinds"]), list(z["sources"])
        checked = 0
        for k, (kind, source) in enumerate(zip(kinds, sources, strict=True)):
            if kind in ("input", "linear"):
                continue
            np.testing.assert_allclose(z[f"stage{k}_values"], seen[source], atol=1e-5,
                                       err_msg=f"stage {k} ({kind}, module {source})")
            checked += 1
        assert checked == len(model)
    np.testing.assert_allclose(_npz_output(path), want, atol=1e-5)


@pytest.mark.parametrize("act, written, bare", [
    (lambda: nn.LeakyReLU(0.2), ["leaky_relu:0.2", "leaky_relu:negative_slope=0.2"],
     "leaky_relu"),
    (lambda: nn.ELU(alpha=0.5), ["elu:0.5", "elu:alpha=0.5"], "elu"),
], ids=["leaky_relu-0.2", "elu-0.5"])
def test_a_state_dict_is_drawn_with_the_activation_parameters_given(
        capsys: pytest.CaptureFixture[str], work: Path, act: Any, written: list[str],
        bare: str) -> None:
    model = _trained(nn.Linear(2, 16), act(), nn.Linear(16, 16), act(), nn.Linear(16, 3),
                     seed=8)
    torch.save(model.state_dict(), work / "m.pth")
    for i, activation in enumerate(written):
        code, _, err = run(capsys, "render", "layers", "--model", "m.pth", "--arch",
                           "2-16-16-3", "--activation", activation, *GAUSS, "-o", f"p{i}.npz")
        assert code == 0, err
        _stages_match_hooks(work / f"p{i}.npz", model, _gauss())
    # without its parameter the network is rebuilt with the spec default: another network
    code, _, err = run(capsys, "render", "layers", "--model", "m.pth", "--arch", "2-16-16-3",
                       "--activation", bare, *GAUSS, "-o", "bare.npz")
    assert code == 0, err
    assert np.abs(_npz_output(work / "bare.npz") - _model_out(model, _gauss())).max() > 1e-3


def test_train_saves_the_activation_parameters_and_render_reads_them(
        capsys: pytest.CaptureFixture[str], work: Path) -> None:
    code, _, err = run(capsys, "train", *GAUSS, "--arch", "2-8-8-3", "--activation",
                       "leaky_relu:0.2,softplus:beta=2", "--epochs", 20, "-o", "m.safetensors")
    assert code == 0, err
    model, spec, _ = sf.load(work / "m.safetensors")
    assert spec.activation_texts == ("leaky_relu:0.2", "softplus:beta=2")
    assert model[1].negative_slope == 0.2 and (model[3].beta, model[3].threshold) == (2, 20)
    code, _, err = run(capsys, "render", "layers", "--model", "m.safetensors", "-o", "c.npz")
    assert code == 0, err
    _stages_match_hooks(work / "c.npz", model, _gauss())
    # the checkpoint says which parameters; a different --activation is refused
    code, _, err = run(capsys, "render", "layers", "--model", "m.safetensors", "--activation",
                       "leaky_relu,softplus:beta=2", "-o", "d.npz")
    assert_one_line_error(code, err, "leaky_relu:0.2,softplus:beta=2", "disagrees")
    code, _, err = run(capsys, "render", "layers", "--model", "m.safetensors", "--activation",
                       "leaky_relu:0.2,softplus:2", "-o", "d.npz")
    assert code == 0, err


@pytest.mark.parametrize("activation, names", [
    ("leaky_relu:abc", ["'leaky_relu:abc'", "negative_slope", "not a number"]),
    ("relu:0.5", ["'relu:0.5'", "relu takes no parameters"]),
    ("softplus:beta=-1", ["'softplus:beta=-1'", "beta -1", "> 0"]),
    ("elu:gamma=1", ["'elu:gamma=1'", "no parameter 'gamma'", "alpha"]),
    ("leaky_relu:0.2:0.3", ["takes 1 parameter (negative_slope)", "got 2"]),
    ("leaky_relu(0.2)", ["'leaky_relu(0.2)'", "after colons", "leaky_relu:0.2"]),
    ("hardtanh:1:-1", ["min_val 1 must be below max_val -1"]),
    ("leaky_relu:inf", ["negative_slope inf must be a finite number"]),
])
def test_bad_activation_parameters_are_one_line(capsys: pytest.CaptureFixture[str], work: Path,
                                                activation: str, names: list[str]) -> None:
    torch.manual_seed(0)
    torch.save(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3)).state_dict(),
               work / "m.pth")
    code, _, err = run(capsys, "render", "layers", "--model", "m.pth", "--arch", "2-4-3",
                       "--activation", activation, *GAUSS, "-o", "x.npz")
    assert_one_line_error(code, err, *names)
    code, _, err = run(capsys, "train", *GAUSS, "--arch", "2-4-3", "--activation", activation,
                       "--epochs", 1, "-o", "x.safetensors")
    assert_one_line_error(code, err, *names)
    assert not list(work.glob("x.*"))


def test_the_activation_help_states_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["train", "--help"], ["render", "layers", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0
        text = " ".join(out.replace("│", " ").split())
        for part in ("leaky_relu:0.2", "leaky_relu:negative_slope=0.1", "0.01",
                     "elu:alpha=1", "softplus:beta=1:threshold=20"):
            assert part in text, (argv, part)
