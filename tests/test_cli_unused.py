"""What a command would not use is refused in one line (exit 2), never dropped: an option
given twice (Click keeps the last), a drawing option for a file that holds numbers, an option
whose companion is missing, and a server address that cannot be listened on."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.errors import SpacefoldError


@pytest.mark.parametrize("argv", [
    ["render", "fold-222", "-o", "f.png", "--size", "64x36", "--size", "32x18"],
    ["render", "fold-222", "-o", "f.mp4", "--fps", "5", "--fps", "6"],
    ["render", "fold-222", "-o", "f.png", "--color-by", "class", "--color-by", "position"],
    ["render", "fold-222", "-o", "f.png", "-o", "g.png"],
    ["render", "fold-222", "-o", "f.png", "--force", "--force"],
    ["tour", "-o", "d", "--hold", "1", "--hold", "0"],
    ["train", "--data", "moons", "--arch", "2-3-2", "-o", "m.safetensors", "--epochs", "3",
     "--epochs", "0"],
    ["export", "fold-222", "-o", "f.html", "--title", "a", "--title", "b"],
    ["serve", "--port", "1", "--port", "2"],
])
def test_an_option_given_twice_is_one_line(argv: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    flag = next(a for a in argv[1:] if a.startswith("-") and argv.count(a) > 1)
    assert_one_line_error(code, err, "more than once")
    assert {"-o": "--output"}.get(flag, flag) in err
    assert list(tmp_path.iterdir()) == []


def test_a_repeatable_option_takes_each_value_once(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.png", "--show",
                       "math", "--show", "math")
    assert_one_line_error(code, err, "--show math", "more than once")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".npz", ".html"])
@pytest.mark.parametrize(("args", "named"), [
    (["--color-by", "position"], "--color-by"), (["--show", "math"], "--show"),
    (["--show", "linear-regions"], "--show"),
])
def test_a_file_of_numbers_takes_no_drawing_option(suffix: str, args: list[str], named: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / f"f{suffix}", *args)
    assert_one_line_error(code, err, named, suffix, "leave it out")
    code, _, err = run(capsys, "render", "bottleneck", "--stage", "4", "-o",
                       tmp_path / f"b{suffix}")
    assert_one_line_error(code, err, "--stage", suffix)
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / f"f{suffix}")
    assert code == 0, err


def test_the_api_refuses_drawing_options_for_a_file_of_numbers(tmp_path: Path) -> None:
    tr = sf.trace(sf.build("2-2-2"), sf.dataset("cloud", n=20).x)
    for target in (tr, "fold-222"):
        for suffix in (".npz", ".html"):
            for kw in ({"color_by": "position"}, {"show_math": True}):
                with pytest.raises(SpacefoldError, match=f"nothing for a \\{suffix} file"):
                    sf.render(target, tmp_path / f"x{suffix}", **kw)
    with pytest.raises(SpacefoldError, match="stage does nothing for a .npz"):
        sf.render("bottleneck", tmp_path / "b.npz", stage=4)
    assert list(tmp_path.iterdir()) == []


def test_snapshots_need_a_movie_or_a_recording(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """--snapshots 40 (the default number) was taken without --movie / --record, silently."""
    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-3-2", "--epochs", "2",
                       "-o", tmp_path / "m.safetensors", "--snapshots", "40")
    assert_one_line_error(code, err, "--snapshots", "--movie / --record")
    assert list(tmp_path.iterdir()) == []


def test_data_alone_is_refused_for_it_is_the_data_of_your_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "spiral", "--data", "moons", "-o", tmp_path / "s.png")
    assert_one_line_error(code, err, "--data", "--model", "'spiral'")
    code, _, err = run(capsys, "render", "spiral", "--seed", "3", "-o", tmp_path / "s.png")
    assert_one_line_error(code, err, "--seed needs --data")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_an_empty_title_and_a_scene_without_a_network(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", "fold-222", "-o", tmp_path / "f.html", "--title", " ")
    assert_one_line_error(code, err, "--title")
    for scene in ("affine", "activations", "argmax-softmax"):
        code, _, err = run(capsys, "export", scene, "-o", tmp_path / "f.html")
        assert_one_line_error(code, err, repr(scene), "no single network", "fold-222")
    code, _, err = run(capsys, "export", "fold-222", "--seed", "3", "-o", tmp_path / "f.html")
    assert_one_line_error(code, err, "--seed")
    assert "--color-by" not in err           # export has no --color-by to offer
    assert list(tmp_path.iterdir()) == []


def test_serve_says_in_one_line_when_it_cannot_listen(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "serve", "--port", port)
        assert_one_line_error(code, err, f"127.0.0.1:{port}", "in use")
        assert out == ""          # no "app on ..." line for an app that never started
    code, _, err = run(capsys, "serve", "--host", "no such host!", "--port", "8765")
    assert_one_line_error(code, err, "--host 'no such host!'")


def test_an_activation_for_a_network_without_a_hidden_layer_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--arch 2-2 --activation tanh trained (and drew) a network with no activation at all."""
    import torch
    from torch import nn

    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-2", "--activation",
                       "tanh", "--epochs", "2", "-o", tmp_path / "m.safetensors")
    assert_one_line_error(code, err, "--arch '2-2'", "--activation 'tanh'", "no hidden layer")
    torch.save(nn.Sequential(nn.Linear(2, 2)).state_dict(), tmp_path / "p.pt")
    for command in ("render", "export"):
        out = tmp_path / ("x.png" if command == "render" else "x.html")
        code, _, err = run(capsys, command, "layers", "--model", tmp_path / "p.pt", "--arch",
                           "2-2", "--activation", "tanh", "--data", "moons", "-o", out)
        assert_one_line_error(code, err, "--arch '2-2'", "no hidden layer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pt"]
    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-2", "--epochs", "2",
                       "-o", tmp_path / "m.safetensors")
    assert code == 0, err
