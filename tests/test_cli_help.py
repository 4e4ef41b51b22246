"""A scene's help is the truth about it: for every registered scene, each option that
``spacefold render SCENE --help`` lists, with each value that help offers, gets past every
check of the command line and the render API, and each option or value it leaves out is
refused in one line (exit 2). The drawing itself is stubbed: these are the checks made before
any work; tests/test_scenes_registry.py holds the declarations they read to what each scene
draws. The same for ``spacefold export SCENE --help``, whose checks come before any work too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from torch import nn

import spacefold.scenes.api as api
from cli_helpers import assert_one_line_error, run
from spacefold import cli
from spacefold.scenes import SCENES
from spacefold.scenes.show import SHOW

ALL = sorted(SCENES)
SUFFIXES = (".gif", ".mp4", ".npz", ".png", ".html")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A checkpoint, its training recording, a plain state dict, a module's code, a folder."""
    d = tmp_path_factory.mktemp("inputs")
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--data", "moons", "--n", "64", "--arch", "2-3-2", "--epochs", "2",
                  "-o", str(d / "m.safetensors"), "--record", str(d / "r.safetensors")])
    assert e.value.code in (0, None)
    torch.save(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict(),
               d / "plain.pt")
    (d / "net.py").write_text("from torch import nn\n\ndef make():\n    return nn.Sequential("
                              "nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))\n")
    (d / "mnist").mkdir()
    return {"model": d / "m.safetensors", "recording": d / "r.safetensors",
            "plain": d / "plain.pt", "code": d / "net.py", "mnist": d / "mnist"}


def shown(command: str, scene: str | None) -> dict[str, str]:
    """``spacefold COMMAND [SCENE] --help``'s options: name → help text (what get_params
    gives the help; the printed help is checked to list exactly these flags)."""
    click_cmd = typer.main.get_command(cli.app).commands[command]   # type: ignore[attr-defined]
    ctx = click_cmd.make_context(command, [scene] if scene else [], resilient_parsing=True)
    ctx.meta["spacefold.scene"], ctx.meta["spacefold.help"] = scene, True
    return {p.name: p.help or "" for p in click_cmd.get_params(ctx) if p.name != "help"}


def printed_flags(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    code, out, err = run(capsys, *argv, "--help")
    assert code == 0, err
    return set(re.findall(r"^│ [ *]  (--[a-z-]+)", out, flags=re.M)) - {"--help"}


def tries(name: str, text: str, inputs: dict[str, Path]) -> list[list[str]]:
    """Command lines that use option ``name`` with each value its help ``text`` offers."""
    m, plain = str(inputs["model"]), str(inputs["plain"])
    with_color = re.search(r"only with --color-by (\w+)", text)
    color = ["--color-by", with_color.group(1)] if with_color else []
    data = ["--model", m, "--data", "spiral"]
    moons = ["--data", "moons"]      # a file without a recipe says nothing of its data
    return {
        "output": [["-o", f"x{s}"] for s in SUFFIXES if s in text],
        "size": [["--size", "64x36"]], "fps": [["--fps", "5"]], "hold": [["--hold", "0.5"]],
        "duration": [["--duration", "3"]], "force": [["--force"]],
        "theme": [["--theme", "light"]],
        "color_by": [["--color-by", v] for v in ("class", "position")
                     if re.search(rf"\b{v}\b", text.split("Default")[0])],
        "markers": [["--markers", "shapes", *color]],
        "palette": [["--palette", "okabe-ito", *color]],
        "show": [["--show", c] for c in SHOW if f"{c}:" in text],
        "model": [["--model", m]], "arch": [["--model", plain, "--arch", "2-4-2", *moons]],
        "activation": [["--model", plain, "--arch", "2-4-2", "--activation", "tanh", *moons]],
        "model_code": [["--model-code", f"{inputs['code']}:make", *moons]],
        "stage": [["--stage", "1"]], "data": [data], "classes": [[*data, "--classes", "3"]],
        "n": [[*data, "--n", "50"]], "noise": [[*data, "--noise", "0.1"]],
        "seed": [[*data, "--seed", "1"]], "recording": [["--recording", str(inputs["recording"])]],
        "mnist": [["--mnist", str(inputs["mnist"])]],
    }[name]


UNTAKEN = {"color_by": ["--color-by", "position"], "markers": ["--markers", "shapes"],
           "palette": ["--palette", "okabe-ito"], "stage": ["--stage", "1"],
           "model": ["--model", "M"], "arch": ["--arch", "2-4-2"],
           "activation": ["--activation", "tanh"], "model_code": ["--model-code", "C"],
           "data": ["--data", "moons"], "classes": ["--classes", "3"], "n": ["--n", "50"],
           "noise": ["--noise", "0.1"], "seed": ["--seed", "1"],
           "recording": ["--recording", "R"], "mnist": ["--mnist", "D"],
           "show": ["--show", "math"]}


@pytest.fixture
def no_drawing(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The render API's checks run; the scene is neither built nor drawn."""
    calls: list[dict[str, Any]] = []

    def record(target: Any, p: Path, *args: Any) -> Path:
        calls.append({"target": target, "options": args[5]})
        return p

    monkeypatch.setattr(api, "_render", record)
    return calls


@pytest.mark.parametrize("scene", ALL)
def test_every_option_a_scenes_help_lists_is_accepted_and_every_other_refused(
        scene: str, inputs: dict[str, Path], no_drawing: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    helps = shown("render", scene)
    assert helps.pop("scene").startswith(f"{scene}: ")
    assert printed_flags(capsys, "render", scene) == {"--" + n.replace("_", "-") for n in helps}
    needs = ["--model", str(inputs["model"])] if SCENES[scene].needs_model else []
    for name, text in helps.items():
        for argv in tries(name, text, inputs):
            out = [] if name == "output" else ["-o", "x.mp4" if name != "show" else "x.png"]
            base = needs if not {"--model", "--model-code"} & set(argv) else []
            code, _, err = run(capsys, "render", scene, *base, *argv, *out)
            assert code == 0, f"render {scene} {' '.join(argv)} (advertised): {err}"
    assert len(no_drawing) >= len(helps)
    if "model" in helps:             # a second --model: only where the help says so
        m = str(inputs["model"])
        code, _, err = run(capsys, "render", scene, "--model", m, "--model", m, "-o", "x.png")
        if "Repeat it" in helps["model"]:
            assert code == 0, err
        else:
            assert_one_line_error(code, err, "one --model")
    if "arch" in helps:              # an --arch per --model: only where the help says so
        plain = ["--model", str(inputs["plain"]), "--arch", "2-4-2"]
        code, _, err = run(capsys, "render", scene, *plain, *plain, "--data", "moons",
                           "-o", "x.png")
        if "once per --model" in helps["arch"]:
            assert code == 0, err
        else:
            assert_one_line_error(code, err, "one --model")
        code, _, err = run(capsys, "render", scene, *plain, "--arch", "2-4-2", "--data",
                           "moons", "-o", "x.png")
        assert_one_line_error(code, err, "--arch given 2 times for 1 --model" if
                              "once per --model" in helps["arch"] else "one --arch")
    # what the help leaves out is refused, before any work
    everything = shown("render", None)
    for name in sorted(set(everything) - set(helps) - {"scene", "recording", "mnist"}):
        code, _, err = run(capsys, "render", scene, *UNTAKEN[name], "-o", "x.mp4")
        assert_one_line_error(code, err, UNTAKEN[name][0])
    for suffix in SUFFIXES:
        if suffix not in helps["output"]:
            code, _, err = run(capsys, "render", scene, *needs, "-o", f"x{suffix}")
            assert_one_line_error(code, err, scene, suffix)
    if "color_by" in helps:
        offered = re.search(r"Colour by (.+?)\. Default", helps["color_by"]).group(1)
        for value in {"class", "position"} - set(offered.split(" or ")):
            code, _, err = run(capsys, "render", scene, "--color-by", value, "-o", "x.png")
            assert_one_line_error(code, err, scene, repr(value))
    for name in ("markers", "palette"):    # shown only with a colouring: refused without it
        if name in helps and "only with --color-by" in helps[name]:
            code, _, err = run(capsys, "render", scene, *UNTAKEN[name], "-o", "x.png")
            assert_one_line_error(code, err, scene, "--color-by")
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # nothing was written


def test_the_help_of_render_alone_names_the_scenes_of_each_option(
        capsys: pytest.CaptureFixture[str]) -> None:
    helps = shown("render", None)
    assert "argmax-softmax: class only" in helps["color_by"]
    assert "activations: position" in helps["color_by"]
    assert "Refused by affine, argmax-softmax" in helps["markers"]
    assert "Refused by affine" in helps["palette"]
    assert ".npz and .html: not for activations, affine, argmax-softmax" in helps["output"]
    for scene in ALL:
        assert (scene in helps["model"]) == SCENES[scene].takes("model")
    code, out, _ = run(capsys, "render", "no-such-scene", "--help")     # the general help
    assert code == 0 and "--mnist" in out and "--model" in out


@pytest.mark.parametrize("scene", ALL)
def test_export_help_lists_what_export_of_the_scene_accepts(
        scene: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    helps = shown("export", scene)
    assert helps.pop("scene").startswith(f"{scene}: ")
    assert "stage" not in helps          # the page holds every stage: export refuses --stage
    assert "Repeat it" not in helps.get("model", "")     # a page shows one network
    assert "once per --model" not in helps.get("arch", "") + helps.get("activation", "")
    for name in ("model", "data"):
        assert (name in helps) == SCENES[scene].takes(name)
    listed = shown("export", None)
    for name in sorted(set(listed) - set(helps) - {"scene"}):
        code, _, err = run(capsys, "export", scene, *UNTAKEN[name], "-o", "x.html")
        assert_one_line_error(code, err, UNTAKEN[name][0] if SCENES[scene].traced
                              else "no single network")
    assert list(tmp_path.iterdir()) == []
    scenes = listed["scene"].split("one of: ")[1].split(". Omit")[0].split(", ")
    assert (scene in scenes) == SCENES[scene].traced
    assert "--stage" not in printed_flags(capsys, "export") and "stage" not in listed
    if not SCENES[scene].traced:
        code, _, err = run(capsys, "export", scene, "-o", "x.html")
        assert_one_line_error(code, err, repr(scene), "no single network")


@pytest.mark.parametrize(("flag", "value"), [("classes", 3), ("noise", 0.1)])
def test_the_datasets_an_option_help_names_are_those_that_take_it(flag: str,
                                                                 value: float) -> None:
    from spacefold.cli.intake import load_data
    from spacefold.data import DATASETS
    from spacefold.errors import SpacefoldError

    text = shown("train", None)[flag]
    named = set(text[text.index("(") + 1:text.index(")")].split(", "))
    assert named and named <= set(DATASETS)
    for name in DATASETS:
        if name in named:
            assert len(load_data(name, n=40, **{flag: value})) == 40
        else:
            with pytest.raises(SpacefoldError, match=f"does not take {flag}"):
                load_data(name, n=40, **{flag: value})
