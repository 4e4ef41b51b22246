"""The ``spacefold`` command: bad input, ``scenes``, ``train`` and tiny renders.

Most tests call :func:`spacefold.cli.main` in-process (the exact code path of the installed
command, minus the interpreter start); a few run the real entry point in a subprocess.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.model import training
from spacefold.model.recipe import data_from_meta
from spacefold.scenes import SCENES

BIN = Path(sys.executable).parent


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for outputs: after a failure it must still be empty."""
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def csvs(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "in"
    d.mkdir()
    files = {
        "nan": "x,y,label\n0.1,0.2,0\n0.3,nan,1\n",
        "text": "0.1,0.2,0\n0.3,abc,1\n",
        "columns": "0.1,0.2,0\n0.3,0.4\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = d / f"{name}.csv"
        paths[name].write_text(text)
    return paths


TRAIN = ("train", "--data", "xor", "--n", "64", "--epochs", "3")


# -- bad input: one line naming the value, exit 2, nothing written ------------------------------
@pytest.mark.parametrize(("args", "named"), [
    (("--arch", "2--5"), ["'2--5'", "widths"]),
    (("--arch", "2-0-5"), ["'2-0-5'", "[1, 4096]"]),
    (("--arch", "2-x-5"), ["'2-x-5'", "'x'"]),
    (("--arch", "2-4-2", "--activation", "swish"), ["'swish'", "relu", "tanh"]),
    (("--arch", "2-2", "--activation", "swish"), ["'swish'", "relu"]),  # no hidden layer
    (("--arch", "3-4-2"), ["3-D", "2-D"]),
], ids=["arch-empty", "arch-zero", "arch-text", "activation", "activation-no-hidden", "arch-dim"])
def test_train_rejects_bad_spec(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                args: tuple[str, ...], named: list[str]) -> None:
    code, _, err = run(capsys, *TRAIN, *args, "-o", out_dir / "m.safetensors")
    assert_one_line_error(code, err, *named)
    assert list(out_dir.iterdir()) == []


def test_train_rejects_unknown_dataset(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "train", "--data", "mnist-3d", "--arch", "2-4-2",
                       "-o", out_dir / "m.safetensors")
    assert_one_line_error(code, err, "'mnist-3d'", *sorted(sf.DATASETS))
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(("kind", "named"), [
    ("nan", ["NaN"]), ("text", ["'abc'", "not a number"]), ("columns", ["2 columns", "3"]),
])
def test_train_rejects_bad_csv(capsys: pytest.CaptureFixture[str], out_dir: Path,
                               csvs: dict[str, Path], kind: str, named: list[str]) -> None:
    code, _, err = run(capsys, "train", "--data", csvs[kind], "--arch", "2-4-2",
                       "-o", out_dir / "m.safetensors")
    assert_one_line_error(code, err, f"{kind}.csv", *named)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("size", ["0x0", "15x90", "3841x2160", "3840x2161", "640", "640x",
                                  "x360", "axb", "-640x360", "640x360x2", "1e3x500", ""])
def test_render_rejects_bad_size(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                 size: str) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "f.mp4", "--size", size)
    assert_one_line_error(code, err, f"'{size}'", "16", "3840", "2160")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("fps", ["-3", "0", "120.5", "nan", "inf"])
def test_render_rejects_bad_fps(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                fps: str) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "f.mp4", "--fps", fps)
    assert_one_line_error(code, err, f"--fps {fps}", "[1, 120]")
    assert list(out_dir.iterdir()) == []


def test_render_rejects_non_number_fps(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "f.mp4", "--fps", "fast")
    assert_one_line_error(code, err, "--fps")
    assert list(out_dir.iterdir()) == []


def test_render_rejects_unknown_scene(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "render", "foo", "-o", out_dir / "f.mp4")
    assert_one_line_error(code, err, "'foo'", *sorted(SCENES))
    assert list(out_dir.iterdir()) == []


def test_render_rejects_unknown_color_mode(capsys: pytest.CaptureFixture[str],
                                           out_dir: Path) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "f.mp4",
                       "--color-by", "rainbow")
    assert_one_line_error(code, err, "'rainbow'", "class", "position")


@pytest.mark.parametrize("name", ["f.avi", "f", "f.MP4.txt"])
def test_render_rejects_unknown_suffix(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                       name: str) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / name)
    assert_one_line_error(code, err, name, ".mp4", ".gif", ".png")
    assert list(out_dir.iterdir()) == []


def test_train_rejects_unknown_suffix(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, *TRAIN, "--arch", "2-2", "-o", out_dir / "m.pt")
    assert_one_line_error(code, err, "m.pt", ".safetensors")
    assert list(out_dir.iterdir()) == []


def _unwritable(tmp_path: Path) -> list[Path]:
    """Output paths that cannot be written: a missing folder, a folder that is a file, a
    read-only folder (only meaningful when not root) and the output path being a folder."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    paths = [tmp_path / "missing" / "f.mp4", blocker / "f.mp4", tmp_path]
    if os.geteuid() != 0:
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o500)
        paths.append(ro / "f.mp4")
    return paths


@pytest.mark.parametrize("command", ["render", "train"])
def test_rejects_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   command: str) -> None:
    for path in _unwritable(tmp_path):
        if command == "train":
            path = path.with_suffix(".safetensors") if path != tmp_path else path
            args: tuple[object, ...] = (*TRAIN, "--arch", "2-2", "-o", path)
        else:
            args = ("render", "fold-222", "-o", path)
        before = sorted(tmp_path.rglob("*"))
        code, _, err = run(capsys, *args)
        shown = path.name if path != tmp_path else str(tmp_path)
        assert_one_line_error(code, err)
        assert shown in err or str(path.parent) in err, err
        assert sorted(tmp_path.rglob("*")) == before


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, *TRAIN, "--arch", "2-2", "--epochs", "many",
                       "-o", out_dir / "m.safetensors")
    assert_one_line_error(code, err, "--epochs")
    code, _, err = run(capsys, "render", "fold-222", "--bogus")
    assert_one_line_error(code, err, "--bogus")
    code, _, err = run(capsys, "frobnicate")
    assert_one_line_error(code, err, "frobnicate")


def test_ctrl_c_exits_130_without_a_file(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", interrupted)
    code, _, err = run(capsys, *TRAIN, "--arch", "2-2", "-o", out_dir / "m.safetensors")
    assert code == 130
    assert err.strip() == "error: interrupted"
    assert list(out_dir.iterdir()) == []


# -- commands that work -------------------------------------------------------------------------
def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert code == 0, err
    assert out == f"spacefold {sf.__version__}\n"


def test_scenes_lists_every_registered_scene(capsys: pytest.CaptureFixture[str]) -> None:
    assert SCENES, "no scene is registered"
    code, out, err = run(capsys, "scenes")
    assert code == 0, err
    flat = " ".join(out.split())  # the table may wrap long descriptions
    for name, entry in SCENES.items():
        assert f"{name} {' '.join(entry.description.split())}" in flat


def test_show_takes_every_choice_of_the_table_once_each(capsys: pytest.CaptureFixture[str],
                                                       out_dir: Path) -> None:
    """--show's choices come from scenes/show.py; each is refused by a scene that does not
    take it, and by a network whose pieces it cannot draw, in one line and with no file."""
    from spacefold.scenes.show import SHOW

    png = out_dir / "f.png"
    code, out, err = run(capsys, "render", "fold-222", "--size", "320x180", "-o", png,
                         *[a for name in SHOW for a in ("--show", name)])
    assert code == 0, err
    assert png.stat().st_size > 0
    png.unlink()
    code, _, err = run(capsys, "render", "affine", "-o", png, "--show", "linear-regions")
    assert_one_line_error(code, err, "--show linear-regions", "fold-222", "'affine'")
    code, _, err = run(capsys, "render", "fold-222", "-o", png, "--show", "nope")
    assert_one_line_error(code, err, "--show 'nope'", *SHOW)
    model = out_dir.parent / "tanh.safetensors"
    code, _, err = run(capsys, *TRAIN, "--arch", "2-4-2", "--activation", "tanh", "-o", model)
    assert code == 0, err
    code, _, err = run(capsys, "render", "layers", "--model", model, "-o", png,
                       "--show", "linear-regions")
    assert_one_line_error(code, err, "piecewise-linear", "tanh")
    assert list(out_dir.iterdir()) == []


def test_train_writes_a_loadable_checkpoint(capsys: pytest.CaptureFixture[str],
                                            out_dir: Path) -> None:
    path = out_dir / "xor.safetensors"
    code, out, err = run(capsys, "train", "--data", "xor", "--n", "96", "--seed", "1",
                         "--arch", "2-6-2", "--activation", "tanh", "--epochs", "40",
                         "--lr", "0.05", "-o", path)
    assert code == 0, err
    assert "accuracy" in out and "%" in out
    model, spec, meta = sf.load(path)
    assert spec.widths == (2, 6, 2) and spec.activations == ("tanh",)
    assert meta["data"] == {"name": "xor", "params": {"n": 96, "noise": 0.05, "seed": 1}}
    assert 1 <= meta["train"]["epochs"] <= 40
    # The recipe in the checkpoint recreates the exact training data.
    again = data_from_meta(meta, f"model file {str(path)!r}")
    assert again is not None
    np.testing.assert_array_equal(again.x, sf.dataset("xor", n=96, seed=1).x)


# -- the installed entry point, as a user runs it ------------------------------------------------
def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}


def test_installed_command_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    exe = BIN / "spacefold"
    assert exe.exists(), f"{exe} missing: install with pip install -e ."
    r = subprocess.run([str(exe), "render", "fold-222", "-o", str(tmp_path / "f.mp4"),
                        "--size", "0x0"], capture_output=True, text=True, timeout=120, env=_env())
    assert_one_line_error(r.returncode, r.stderr, "'0x0'")
    assert r.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_runs_the_cli(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m spacefold`` (run in-process: the subprocess test above pays the start-up)."""
    monkeypatch.setattr(sys, "argv", ["spacefold", "scenes"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("spacefold", run_name="__main__")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SCENES:
        assert name in out


# -- tiny renders -------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "fps"), [("f.mp4", "5"), ("f.gif", "2"), ("f.png", None)])
def test_render_fold_222(capsys: pytest.CaptureFixture[str], out_dir: Path, name: str,
                         fps: str | None) -> None:
    path = out_dir / name       # (a still has no frame rate: --fps is refused for it)
    code, out, err = run(capsys, "render", "fold-222", "-o", path, "--size", "160x90",
                         *(["--fps", fps] if fps else []))
    assert code == 0, err
    assert str(path) in out
    assert [p.name for p in out_dir.iterdir()] == [name]  # no temp file left beside it
    if name.endswith(".mp4"):
        av = pytest.importorskip("av")
        with av.open(str(path)) as f:
            stream = f.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (160, 90)
    else:
        from PIL import Image

        with Image.open(path) as im:
            assert im.size[0] >= 160 and im.size[1] >= 90


def test_the_output_name_is_printed_as_given(capsys: pytest.CaptureFixture[str],
                                            out_dir: Path) -> None:
    """A file name is never read as markup or an emoji code (Rich showed :smile: as 😄)."""
    path = out_dir / ":smile: [bold]x.png"
    code, out, err = run(capsys, "render", "fold-222", "-o", path, "--size", "160x90")
    assert code == 0, err
    assert out == f"wrote {path}\n"


def test_render_layers_from_a_checkpoint(capsys: pytest.CaptureFixture[str],
                                         out_dir: Path) -> None:
    model = out_dir / "m.safetensors"
    code, _, err = run(capsys, "train", "--data", "gauss", "--n", "80", "--arch", "2-2-3",
                       "--activation", "tanh", "--epochs", "20", "-o", model)
    assert code == 0, err
    # no --data: the checkpoint's recipe recreates the training data
    code, out, err = run(capsys, "render", "layers", "--model", model, "-o", out_dir / "l.png",
                         "--size", "160x90")
    assert code == 0, err
    assert (out_dir / "l.png").stat().st_size > 0


def test_render_layers_needs_a_model(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "render", "layers", "-o", out_dir / "l.png")
    assert_one_line_error(code, err, "--model")
    assert list(out_dir.iterdir()) == []


def test_fold_222_tells_its_story_about_a_users_2_2_2_network(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, out_dir: Path) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    torch.save(net.state_dict(), tmp_path / "n.pt")
    given = ["--model", tmp_path / "n.pt", "--arch", "2-2-2", "--activation", "tanh"]
    code, _, err = run(capsys, "render", "fold-222", *given, "--data", "moons", "-o",
                       out_dir / "f.npz")
    assert code == 0, err
    with np.load(out_dir / "f.npz") as z:
        last = len(z["names"]) - 1
        x, got = z["stage0_values"], z[f"stage{last}_values"]
    with torch.no_grad():
        want = net(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # data alone still means the built-in network's, which has its own
    code, _, err = run(capsys, "render", "fold-222", "--data", "spiral", "-o", out_dir / "g.png")
    assert_one_line_error(code, err, "--data", "--model")
    # a network with a wider layer is another scene's story
    torch.save(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)).state_dict(),
               tmp_path / "w.pt")
    code, _, err = run(capsys, "render", "fold-222", "--model", tmp_path / "w.pt", "--arch",
                       "2-3-2", "--activation", "relu", "-o", out_dir / "h.png")
    assert_one_line_error(code, err, "2 units wide", "2-3-2", "fold-232")
    assert [p.name for p in out_dir.iterdir()] == ["f.npz"]


@pytest.mark.parametrize("content", [None, b"not a checkpoint"], ids=["missing", "garbage"])
def test_render_rejects_a_bad_model_file(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         out_dir: Path, content: bytes | None) -> None:
    model = tmp_path / "m.safetensors"
    if content is not None:
        model.write_bytes(content)
    code, _, err = run(capsys, "render", "layers", "--model", model, "-o", out_dir / "l.png")
    assert_one_line_error(code, err, "m.safetensors")
    assert list(out_dir.iterdir()) == []


def test_mnist_option_belongs_to_digits(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for args, needle in ((["render", "fold-222", "-o", str(tmp_path / "x.png"), "--mnist",
                           str(tmp_path)], "--mnist is an option of the digits scene"),
                         (["render", "digits", "-o", str(tmp_path / "x.png"), "--mnist",
                           str(tmp_path / "nope")], "is not a folder")):
        code, _, err = run(capsys, *args)
        assert_one_line_error(code, err, needle)
    assert list(tmp_path.iterdir()) == []


def test_each_scene_is_found_in_its_home_module() -> None:
    """registry.HOMES (which module to import for one scene) matches the registrations."""
    from spacefold.scenes.registry import HOMES

    assert {n: e.build.__module__.rsplit(".", 1)[-1] for n, e in SCENES.items()} == HOMES
