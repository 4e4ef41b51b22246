"""Each CLI defect of issue 13 ("CLI and files"), reproduced: one stderr line and exit 2, or
it works. The hypothesis suite in test_cli_fuzz.py runs the same cases among fuzzed ones."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from cli_helpers import assert_one_line_error, run


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_bare_spacefold_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0, err
    assert err == ""
    assert "Usage" in out and "render" in out and "train" in out


@pytest.mark.parametrize("size", ["16x16", "64x16", "320x23", "17x19"])
def test_small_heights_render_a_png(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                    size: str) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "s.png", "--size", size)
    assert code == 0, err
    from PIL import Image

    with Image.open(out_dir / "s.png") as im:
        assert im.size[1] >= int(size.split("x")[1])


def test_16x16_mp4_has_its_frames(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / "s.mp4", "--size", "16x16",
                       "--fps", "2")
    assert code == 0, err
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(out_dir / "s.mp4"))
    meta = next(gen)
    assert tuple(meta["size"]) == (16, 16)
    assert sum(1 for _ in gen) > 1
    assert _files(out_dir) == ["s.mp4"]


@pytest.mark.parametrize("data", ["moons", "circles", "spiral", "xor"])
@pytest.mark.parametrize("seed", ["-5", "99999999999999999999", "4294967296"])
def test_bad_seed_is_one_line(capsys: pytest.CaptureFixture[str], out_dir: Path, data: str,
                              seed: str) -> None:
    code, _, err = run(capsys, "train", "--data", data, "--arch", "2-3-5", "-o",
                       out_dir / "m.safetensors", "--seed", seed, "--epochs", "1")
    assert_one_line_error(code, err, "--seed", "[0, 4294967295]")
    assert _files(out_dir) == []


def test_largest_seed_works(capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-3-2", "-o",
                       out_dir / "m.safetensors", "--seed", "4294967295", "--epochs", "1",
                       "--n", "20")
    assert code == 0, err


@pytest.mark.parametrize("data", ["moons", "circles", "spiral"])
def test_negative_zero_noise_trains(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                    data: str) -> None:
    code, _, err = run(capsys, "train", "--data", data, "--arch", "2-3-5", "-o",
                       out_dir / "m.safetensors", "--noise", "-0.0", "--epochs", "1",
                       "--n", "20")
    assert code == 0, err


def test_too_long_output_name_is_one_line(capsys: pytest.CaptureFixture[str],
                                          out_dir: Path) -> None:
    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-3-2", "-o",
                       out_dir / ("m" * 246 + ".safetensors"), "--epochs", "1")
    assert_one_line_error(code, err, "bytes long")
    assert _files(out_dir) == []


def test_longest_output_name_is_written(capsys: pytest.CaptureFixture[str],
                                        out_dir: Path) -> None:
    name = "m" * (255 - len(".safetensors")) + ".safetensors"
    code, _, err = run(capsys, "train", "--data", "moons", "--arch", "2-3-2", "-o",
                       out_dir / name, "--epochs", "1", "--n", "20")
    assert code == 0, err
    assert _files(out_dir) == [name]


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".png"])
@pytest.mark.parametrize("fps", ["1e-300", "0.5", "0", "inf", "nan", "121"])
def test_fps_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str], out_dir: Path,
                                      suffix: str, fps: str) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", out_dir / f"f{suffix}", "--fps", fps,
                       "--size", "32x32")
    assert_one_line_error(code, err, "--fps", "[1, 120]")
    assert _files(out_dir) == []


def test_read_only_output_is_refused_and_force_keeps_its_mode(
        capsys: pytest.CaptureFixture[str], out_dir: Path) -> None:
    target = out_dir / "r.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o444)
    code, _, err = run(capsys, "render", "fold-222", "-o", target, "--size", "32x32")
    assert_one_line_error(code, err, "read-only", "--force")
    assert target.read_bytes() == b"old"
    code, _, err = run(capsys, "render", "fold-222", "-o", target, "--size", "32x32",
                       "--force")
    assert code == 0, err
    assert target.read_bytes()[:4] == b"\x89PNG"
    assert target.stat().st_mode & 0o777 == 0o444
    assert _files(out_dir) == ["r.png"]


def test_replaced_output_keeps_its_mode(capsys: pytest.CaptureFixture[str],
                                        out_dir: Path) -> None:
    target = out_dir / "m.safetensors"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    code, _, err = run(capsys, "train", "--data", "xor", "--arch", "2-3-2", "-o", target,
                       "--epochs", "1", "--n", "20")
    assert code == 0, err
    assert target.stat().st_mode & 0o777 == 0o600
    sf.load_network(target)


def test_stale_temp_of_the_target_is_removed_and_said(capsys: pytest.CaptureFixture[str],
                                                      out_dir: Path) -> None:
    stale = out_dir / ".k-4194999-abcdefgh.png"   # a pid no process can have
    stale.write_bytes(b"partial")
    old = out_dir / f".k-{os.getpid()}-abcdefgh.png"
    old.write_bytes(b"partial")
    os.utime(old, (1.0, 1.0))
    keep = out_dir / f".k-{os.getpid()}-12345678.png"   # a live writer's: left alone
    keep.write_bytes(b"busy")
    code, out, err = run(capsys, "render", "fold-222", "-o", out_dir / "k.png", "--size",
                         "32x32")
    assert code == 0, err
    assert "removed 2 temp files left by an earlier run" in out
    assert stale.name in out and old.name in out
    assert _files(out_dir) == sorted(["k.png", keep.name])


def _csv(path: Path, rows: int = 40) -> Path:
    d = sf.dataset("moons", n=rows)
    path.write_text("".join(f"{a},{b},{c}\n" for (a, b), c in zip(d.x, d.y, strict=True)))
    return path


def test_csv_recipe_is_resolved_and_hashed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _csv(work / "pts.csv")
    monkeypatch.chdir(work)
    code, _, err = run(capsys, "train", "--data", "pts.csv", "--arch", "2-4-2", "-o",
                       "m.safetensors", "--epochs", "1")
    assert code == 0, err
    recipe = sf.load_network(work / "m.safetensors").meta["data"]
    assert recipe["file"] == str(work / "pts.csv")
    import hashlib

    assert recipe["sha256"] == hashlib.sha256((work / "pts.csv").read_bytes()).hexdigest()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run(capsys, "render", "layers", "--model", work / "m.safetensors", "-o",
                       "l.png", "--size", "64x36")
    assert code == 0, err
    with open(work / "pts.csv", "a") as f:   # the file changes: the recipe notices
        f.write("0.5,0.5,1\n")
    code, _, err = run(capsys, "render", "layers", "--model", work / "m.safetensors", "-o",
                       "l2.png", "--size", "64x36")
    assert_one_line_error(code, err, "has changed since", "--data")
    assert _files(elsewhere) == ["l.png"]


def _checkpoint_with_meta(path: Path, meta_json: str) -> Path:
    from safetensors.torch import save_file

    net = sf.build("2-3-2")
    spec = json.dumps(sf.ArchSpec.parse("2-3-2").to_dict())
    tensors = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, str(path), metadata={"spacefold.spec": spec, "spacefold.meta": meta_json})
    return path


@pytest.mark.parametrize("meta", [
    {"data": {"name": "moons", "params": {"seed": "x"}}},
    {"data": {"name": "moons", "params": {"seed": 1.5}}},
    {"data": {"name": "moons", "params": {"seed": -1}}},
    {"data": {"name": "moons", "params": {"noise": "abc"}}},
    {"data": {"name": "moons", "params": {"noise": -1}}},
    {"data": {"name": "moons", "params": ["seed", 1]}},
    {"data": {"name": "moons", "params": {"bogus": 1}}},
    {"data": {"name": ["moons"]}},
    {"data": {"file": 5}},
    {"data": {"file": "/no/such/file.csv"}},
    {"data": {"name": "spiral", "params": {"classes": 10**30}}},
])
def test_bad_recipe_in_a_checkpoint_is_one_line(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, meta: dict[str, object]) -> None:
    ckpt = _checkpoint_with_meta(tmp_path / "m.safetensors", json.dumps(meta))
    code, _, err = run(capsys, "render", "layers", "--model", ckpt, "-o", tmp_path / "o.png",
                       "--size", "32x32")
    assert_one_line_error(code, err, "m.safetensors")
    assert _files(tmp_path) == ["m.safetensors"]


@pytest.mark.parametrize("meta_json", ["[" * 100_000 + "]" * 100_000,
                                       '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                       "[1, 2]", '"text"'])
def test_bad_metadata_json_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       meta_json: str) -> None:
    ckpt = _checkpoint_with_meta(tmp_path / "m.safetensors", meta_json)
    code, _, err = run(capsys, "render", "layers", "--model", ckpt, "-o", tmp_path / "o.png",
                       "--size", "32x32")
    assert_one_line_error(code, err, "m.safetensors")


def test_two_data_points_render(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "two.csv").write_text("0.1,0.2,0\n0.5,-0.3,1\n")
    code, _, err = run(capsys, "train", "--data", tmp_path / "two.csv", "--arch", "2-8-4-2",
                       "-o", tmp_path / "m.safetensors", "--epochs", "2")
    assert code == 0, err
    for suffix, size in ((".png", ["--size", "64x36"]), (".npz", [])):   # .npz: no size
        code, _, err = run(capsys, "render", "layers", "--model", tmp_path / "m.safetensors",
                           "-o", tmp_path / f"l{suffix}", *size)
        assert code == 0, err


def test_weights_of_3e38_are_one_line_or_work(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    import torch

    for arch in ("2-2-2", "2-8-2", "2-100-2-5"):
        net = sf.build(arch)
        with torch.no_grad():
            for m in net:
                if isinstance(m, torch.nn.Linear):
                    m.weight.fill_(3e38)
        sf.save(net, tmp_path / "w.safetensors")
        code, _, err = run(capsys, "render", "layers", "--model", tmp_path / "w.safetensors",
                           "--data", "xor", "-o", tmp_path / "w.png", "--size", "64x36")
        if code != 0:
            assert_one_line_error(code, err, "infinite")
        (tmp_path / "w.png").unlink(missing_ok=True)


def test_mnist_header_overflow_is_one_line(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 2051, 2**31, 2**31, 2**31))
    (folder / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 2**31))
    code, _, err = run(capsys, "render", "digits", "--mnist", folder, "-o", tmp_path / "d.png",
                       "--size", "64x36")
    assert_one_line_error(code, err, "train-images-idx3-ubyte")


def test_npz_with_int64_max_label_is_one_line(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 2)),
             y=np.array([0, 1, np.iinfo(np.int64).max]))
    code, _, err = run(capsys, "train", "--data", tmp_path / "d.npz", "--arch", "2-3-2", "-o",
                       tmp_path / "m.safetensors", "--epochs", "1")
    assert_one_line_error(code, err, "labels must be integers")
    assert _files(tmp_path) == ["d.npz"]


def test_output_name_that_is_not_utf8(tmp_path: Path) -> None:
    """A name of raw bytes (b"\\xff...") is written and reported with escapes, no traceback."""
    import subprocess
    import sys

    for name in (b"\xff.png", b"\xff" + b"a" * 250 + b".png", "é".encode() + b"a" * 251
                 + b".npz"):
        r = subprocess.run([sys.executable, "-m", "spacefold", "render", "fold-222", "-o",
                            name, "--size", "32x32"], cwd=tmp_path, capture_output=True,
                           timeout=300)
        assert r.returncode in (0, 2), r.stderr
        assert b"Traceback" not in r.stderr
        if r.returncode == 0:
            assert r.stdout.startswith(b"wrote ")
            assert (tmp_path / os.fsdecode(name)).is_file()
        else:
            assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == sorted(
        os.fsdecode(n) for n in (b"\xff.png", b"\xff" + b"a" * 250 + b".png"))


def test_export_title_and_model_name_that_are_not_utf8(tmp_path: Path) -> None:
    import subprocess
    import sys

    sf.save(sf.build("2-3-2"), tmp_path / os.fsdecode(b"\xfe.safetensors"),
            meta={"data": {"name": "xor", "params": {"n": 50}}})
    for argv in ([b"export", b"fold-222", b"-o", b"t.html", b"--title", b"\xff"],
                 [b"export", b"--model", b"\xfe.safetensors", b"-o", b"m.html"]):
        r = subprocess.run([sys.executable, "-m", "spacefold", *argv], cwd=tmp_path,
                           capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert b"\\udcff" in (tmp_path / "t.html").read_bytes() if b"--title" in argv else True
