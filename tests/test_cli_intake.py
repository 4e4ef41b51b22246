"""cli/intake.py: ``--data`` and a checkpoint's recipe become a scene's data; generator
options do not apply to a file; a scene refuses the options its function does not take;
``--arch``, ``--activation`` and ``--model-code`` pair with each ``--model`` (once for all,
or once per --model), checked against torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.cli.flags import SceneFlags
from spacefold.cli.intake import load_data, refuse_untaken, scene_inputs
from spacefold.errors import RenderError, SpacefoldError
from spacefold.model.recipe import data_recipe
from spacefold.scenes import SCENES
from spacefold.scenes.registry import build_scene


def test_command_line_options_override_the_checkpoints_recipe() -> None:
    d = sf.dataset("spiral", classes=3, n=90, noise=0.1, seed=4)
    recipe = data_recipe(d, "spiral")
    same = load_data("spiral", base=recipe)
    np.testing.assert_array_equal(same.x, d.x)
    more = load_data("spiral", n=120, base=recipe)
    assert len(more) == 120 and more.classes == 3
    other = load_data("gauss", base=recipe)  # another dataset: the recipe does not apply
    assert other.name == "gauss" and len(other) == 1000 and other.classes == 3
    with pytest.raises(SpacefoldError, match="unknown dataset 'nope'"):
        load_data("nope")


def test_file_data_takes_no_generator_options(tmp_path: Path) -> None:
    p = tmp_path / "ok.csv"
    p.write_text("0,0,0\n1,1,1\n0,1,1\n")
    assert len(load_data(str(p))) == 3
    with pytest.raises(SpacefoldError, match="--classes"):
        load_data(str(p), classes=4)


def test_a_scene_refuses_what_its_function_does_not_take(tmp_path: Path) -> None:
    entry = SCENES["fold-222"]
    with pytest.raises(RenderError, match="scene 'fold-222' takes no --recording"):
        refuse_untaken(entry, {"recording": "--recording"})
    refuse_untaken(SCENES["spiral"], {"model": "--model", "data": "--data"})
    code = tmp_path / "net.py"
    code.write_text("from torch import nn\n"
                    "def make():\n    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), "
                    "nn.Linear(4, 2))\n")
    opts = scene_inputs(SCENES["spiral"], SceneFlags(model_code=[f"{code}:make"], data="moons",
                                                     n=50, seed=3), color_by="position")
    assert set(opts) == {"model", "data", "color_by"} and len(opts["data"]) == 50
    # data is for the user's network: the scene's own network was trained on its own
    with pytest.raises(SpacefoldError, match="--data is data for your network: give --model"):
        scene_inputs(SCENES["spiral"], SceneFlags(data="moons"))
    with pytest.raises(SpacefoldError, match="--n needs --data NAME"):
        scene_inputs(SCENES["spiral"], SceneFlags(n=50))


# -- two networks of different architectures, each with its own --arch and --activation ----------
GAUSS = ["--data", "gauss", "--classes", "3", "--n", "90"]
PAIRED = ["--model", "a.pt", "--arch", "2-8-3", "--activation", "relu",
          "--model", "b.pt", "--arch", "2-2-6-3", "--activation", "tanh"]


@pytest.fixture
def two_nets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[nn.Module, nn.Module]:
    """A 2-8-3 ReLU and a 2-2-6-3 tanh network (random weights), saved as a.pt and b.pt,
    plain state dicts, in the working folder."""
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    b = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))
    torch.save(a.state_dict(), tmp_path / "a.pt")
    torch.save(b.state_dict(), tmp_path / "b.pt")
    return a, b


def _out(net: nn.Module, data: sf.Dataset) -> np.ndarray:
    with torch.no_grad():
        return net.eval()(torch.as_tensor(data.x)).numpy()     # (N, 3) logits


def test_extrapolation_compares_two_state_dicts_each_with_its_own_arch_and_activation(
        capsys: pytest.CaptureFixture[str], two_nets: tuple[nn.Module, nn.Module]) -> None:
    a, b = two_nets
    data = sf.dataset("gauss", classes=3, n=90)
    code, _, err = run(capsys, "render", "extrapolation", *PAIRED, *GAUSS, "-o", "e.png",
                       "--size", "320x180")
    assert code == 0, err
    # a .npz holds one network's trace: two are refused, not written with the first alone
    code, _, err = run(capsys, "render", "extrapolation", *PAIRED, *GAUSS, "-o", "e.npz")
    assert_one_line_error(code, err, "compares 2 networks", "'layers'")
    assert not Path("e.npz").exists()
    code, _, err = run(capsys, "export", "extrapolation", "-o", "e.html")  # ReLU and sine
    assert_one_line_error(code, err, "compares 2 networks", ".html")
    assert not Path("e.html").exists()
    # both networks, as the command line loads them: each last stage is that net's output
    flags = SceneFlags(model=[Path("a.pt"), Path("b.pt")], arch=["2-8-3", "2-2-6-3"],
                       activation=["relu", "tanh"], data="gauss", classes=3, n=90)
    tl = build_scene("extrapolation", **scene_inputs(SCENES["extrapolation"], flags))
    for tr, net in zip(tl.meta["traces"], two_nets, strict=True):
        np.testing.assert_allclose(tr.stages[-1].values, _out(net, data), atol=1e-5)
    assert "2-8-3 ReLU  vs  2-2-6-3 tanh" in tl.poster().heading


def test_one_value_is_for_every_model_and_model_code_pairs_too(
        two_nets: tuple[nn.Module, nn.Module], tmp_path: Path) -> None:
    a, b = two_nets
    data = sf.dataset("gauss", classes=3, n=90)
    gauss = {"data": "gauss", "classes": 3, "n": 90}
    both = scene_inputs(SCENES["extrapolation"], SceneFlags(
        model=[Path("a.pt"), Path("a.pt")], arch=["2-8-3"], activation=["relu"], **gauss))
    assert len(both["model"]) == 2
    (tmp_path / "nets.py").write_text(
        "from torch import nn\n"
        "def a():\n    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))\n"
        "def b():\n    return nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 6), "
        "nn.Tanh(), nn.Linear(6, 3))\n")
    for models in ([Path("a.pt"), Path("b.pt")], None):   # weights into each, or fresh ones
        got = scene_inputs(SCENES["extrapolation"], SceneFlags(
            model=models, model_code=["nets.py:a", "nets.py:b"], **gauss))["model"]
        assert [type(m) for m in got] == [nn.Sequential, nn.Sequential]
        assert [len(m) for m in got] == [3, 5]
        if models:
            for m, net in zip(got, two_nets, strict=True):
                np.testing.assert_allclose(_out(m, data), _out(net, data), atol=1e-6)


def test_paired_options_misused_are_one_line(capsys: pytest.CaptureFixture[str],
                                            two_nets: tuple[nn.Module, nn.Module]) -> None:
    code, _, err = run(capsys, "train", *GAUSS, "--arch", "2-8-3", "--epochs", 2, "-o",
                       "c.safetensors")
    assert code == 0, err
    two = ["--model", "a.pt", "--model", "b.pt"]
    cases = [
        (["extrapolation", *two, "--arch", "2-8-3", "--arch", "2-2-6-3", "--arch", "2-3"],
         ["--arch given 3 times for 2 --model", "once per --model"]),
        (["extrapolation", *two, "--arch", "2-8-3", "--activation", "relu", "--activation",
          "tanh", "--activation", "relu"], ["--activation given 3 times for 2 --model"]),
        (["extrapolation", *two, "--arch", "2-8-3"],     # one --arch: for both, so b.pt fails
         ["'b.pt'", "--arch 2-8-3 needs", "--arch given once, so for every --model"]),
        (["extrapolation", "--model", "c.safetensors", "--arch", "2-8-8-3", "--model", "b.pt",
          "--arch", "2-2-6-3", "--activation", "relu", "--activation", "tanh"],
         ["spacefold checkpoint of 2-8-3", "--arch 2-8-8-3 disagrees"]),
        (["layers", "--model", "a.pt", "--arch", "2-8-3", "--arch", "2-8-3"],
         ["scene 'layers' tells about one network", "one --arch", "extrapolation"]),
        (["layers", "--model", "a.pt", "--arch", "2-8-3", "--activation", "relu",
          "--activation", "relu"], ["'layers'", "one --activation"]),
        (["layers", *PAIRED[:6], "--data", "gauss", "--data", "moons"],
         ["--data given more than once"]),
        (["extrapolation", *PAIRED, "--stage", "0", "--stage", "0"],
         ["--stage given more than once"]),
    ]
    for argv, names in cases:
        data = [] if "--data" in argv else GAUSS
        code, _, err = run(capsys, "render", *argv, *data, "-o", "x.png")
        assert_one_line_error(code, err, *names)
    code, _, err = run(capsys, "export", "--model", "a.pt", "--arch", "2-8-3", "--arch",
                       "2-8-3", *GAUSS, "-o", "x.html")
    assert_one_line_error(code, err, "export writes one network", "one --arch")
    assert not list(Path().glob("x.*"))
