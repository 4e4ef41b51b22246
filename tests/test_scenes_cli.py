"""Every network scene from the CLI, told about a plain nn.Sequential whose state dict was saved
with ``torch.save`` and is read back with --arch/--activation: to .npz (its last stage is
``model(x)`` on the data the CLI made) and to a small .png; a model that cannot tell the story
is one line and exit 2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import spacefold as sf
from cli_helpers import assert_one_line_error, run

DATA = {"gauss": ["--data", "gauss", "--classes", "3", "--n", "200", "--seed", "1"],
        "cloud": ["--data", "cloud", "--n", "200"],
        "digits": ["--data", "digits", "--n", "300"]}
DATASETS = {"gauss": dict(classes=3, n=200, seed=1), "cloud": dict(n=200),
            "digits": dict(n=300)}
ACT = {"relu": nn.ReLU, "tanh": nn.Tanh, "identity": nn.Identity, "sin": sf.Sine}


def sequential(arch: str, activation: str, seed: int) -> nn.Sequential:
    """A plain torch Sequential (not sf.build): Linear, activation, ..., Linear."""
    widths = [int(w) for w in arch.split("-")]
    acts = activation.split(",")
    acts = acts * (len(widths) - 2) if len(acts) == 1 else acts
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(ACT[acts[i]]())
    return nn.Sequential(*layers).eval()


# scene, data, [(arch, activation)] (two for extrapolation)
CASES: list[tuple[str, str, Sequence[tuple[str, str]]]] = [
    ("spiral", "gauss", [("2-8-3", "relu")]),
    ("bottleneck", "gauss", [("2-8-2-3", "relu,identity")]),
    ("extrapolation", "gauss", [("2-8-3", "relu"), ("2-8-3", "relu")]),
    ("surfaces-argmax", "gauss", [("2-8-2-3", "relu,tanh")]),
    ("surfaces-softmax", "gauss", [("2-8-2-3", "relu")]),
    ("fold-232", "cloud", [("2-3-2", "relu")]),
    ("wide-layer", "gauss", [("2-16-3", "tanh")]),
    ("digits", "digits", [("64-16-2-10", "relu,identity")]),
]


@pytest.mark.parametrize(("name", "data", "nets"), CASES, ids=[c[0] for c in CASES])
def test_cli_renders_the_users_state_dict(name: str, data: str,
                                          nets: Sequence[tuple[str, str]], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    args: list[str] = []
    models = []
    for i, (arch, act) in enumerate(nets):
        m = sequential(arch, act, seed=i)
        torch.save(m.state_dict(), tmp_path / f"m{i}.pth")
        models.append(m)
        args += ["--model", str(tmp_path / f"m{i}.pth")]
    arch, act = nets[0]                     # one --arch/--activation reads every file
    args += ["--arch", arch, "--activation", act]
    npz = tmp_path / f"{name}.npz"          # one network's trace: the first file alone
    first = [*args[:2], "--arch", arch, "--activation", act]
    code, _, err = run(capsys, "render", name, *first, *DATA[data], "-o", npz)
    assert code == 0, err
    x = sf.dataset(data, **DATASETS[data]).x
    with torch.no_grad():
        want = models[0](torch.as_tensor(x)).numpy()
    with np.load(npz) as z:
        got = z[f"stage{len(z['names']) - 1}_values"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    png = tmp_path / f"{name}.png"
    code, _, err = run(capsys, "render", name, *args, *DATA[data], "--size", "160x90",
                       "-o", png)
    assert code == 0, err
    assert Image.open(png).size[1] >= 90


def test_cli_a_model_without_the_stage_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    m = sequential("2-8-8-3", "relu", seed=0)
    torch.save(m.state_dict(), tmp_path / "m.pth")
    code, _, err = run(capsys, "render", "bottleneck", "--model", tmp_path / "m.pth", "--arch",
                       "2-8-8-3", *DATA["gauss"], "-o", tmp_path / "b.png")
    assert_one_line_error(code, err, "bottleneck needs a 2-unit hidden stage",
                          "model 2-8-8-3 has stages of width 8, 8, 3")
    assert not (tmp_path / "b.png").exists()


def test_cli_bottleneck_stage_0_is_the_input_not_a_hidden_stage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "bottleneck", "--stage", "0", "-o", tmp_path / "b.png")
    assert_one_line_error(code, err, "bottleneck needs a 2-unit hidden stage", "stage 0")
    assert not (tmp_path / "b.png").exists()


@pytest.mark.parametrize("argv, why", [
    (["render", "fold-222", "-o", "{d}/x.png", "--fps", "10"], "--fps does nothing for a .png"),
    (["render", "fold-222", "-o", "{d}/x.npz", "--size", "64x36"], "--size does nothing"),
    (["render", "fold-222", "-o", "{d}/x.gif", "--fps", "60"], "at most 50 frames a second"),
    (["export", "bottleneck", "--stage", "4", "-o", "{d}/x.html"], "--stage picks the stage"),
    (["tour", "--scenes", "affine,affine", "-o", "{d}/t"], "names affine more than once"),
    (["tour", "--scenes", ",", "-o", "{d}/t"], "names no scene"),
])
def test_cli_options_that_would_do_nothing_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], why: str) -> None:
    code, _, err = run(capsys, *[a.format(d=tmp_path) for a in argv])
    assert_one_line_error(code, err, why)
    assert not any(tmp_path.iterdir())
