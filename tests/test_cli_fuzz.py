"""Fuzzed CLI input (issue 13): ``train`` / ``render`` / ``export`` arguments and the contents of
CSV, NPZ and checkpoint files, drawn by hypothesis, plus every defect the issue lists as an
explicit example. Whatever comes in, the command exits 0 or 2; exit 2 is exactly one stderr
line ``error: ...``; no traceback ever; a failed command leaves no file, a successful one only
its output.

Each test prints its counts (``pytest -s tests/test_cli_fuzz.py``): cases run, exit 0, exit
2, tracebacks. Bounded for CI (about a minute on two cores): small sizes and epochs, 60
examples per test, no database.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import spacefold as sf
from spacefold import cli
from spacefold.data import DATASETS, load_file
from spacefold.model.spec import ACTIVATION_NAMES

# SPACEFOLD_FUZZ_EXAMPLES=N for a longer run; SPACEFOLD_FUZZ_RANDOM=1 draws new cases each
# run (CI draws the same ones, so a failure there reproduces)
FUZZ = settings(max_examples=int(os.environ.get("SPACEFOLD_FUZZ_EXAMPLES", "60")),
                deadline=None, database=None,
                derandomize=not os.environ.get("SPACEFOLD_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

# argv text as an OS can pass it: no NUL, no lone surrogates
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)

# a file name that is not UTF-8 reaches Python as surrogate escapes (b"\xff" -> "\udcff")
NOT_UTF8 = st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1,
                   max_size=3).map(lambda t: f"n{t}")

# -- running one command ------------------------------------------------------------------------
class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()   # the start of each error line

    def report(self) -> str:
        c = self.counts
        return (f"fuzz {self.name}: {c['cases']} cases, exit 0: {c['exit 0']}, exit 2: "
                f"{c['exit 2']} ({len(self.errors)} kinds of message), tracebacks: "
                f"{c['tracebacks']}, other exits: {c['other']}")


def _invoke(argv: list[str], cwd: Path) -> tuple[int | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main(argv)
                code: int | None = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:   # what a user would see as a traceback
                err.write(traceback.format_exc())
                code = None
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _check(tally: Tally, folder: Path, argv: list[str], output: str | None = None) -> int:
    """Run ``spacefold ARGV`` in ``folder`` and assert the bars; returns the exit code."""
    before = _listing(folder)
    code, out, err = _invoke(argv, folder)
    tally.counts["cases"] += 1
    if "Traceback" in err or code is None:
        tally.counts["tracebacks"] += 1
    elif code in (0, 2):
        tally.counts[f"exit {code}"] += 1
    else:
        tally.counts["other"] += 1
    assert "Traceback" not in err and code is not None, f"{argv!r}\n{err}"
    assert code in (0, 2), f"{argv!r}: exit {code}\n{err}"
    new = _listing(folder) - before
    if code == 2:
        lines = err.strip().splitlines()
        tally.errors[" ".join(err.split()[1:4])] += 1
        assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0] != "error:", \
            f"{argv!r}: {err!r}"
        assert not new, f"{argv!r} failed but left {sorted(new)}"
    else:
        allowed = {output} if output else set()
        if output and "/" in output:   # the folders on the way are not new files
            parts = output.split("/")
            allowed |= {"/".join(parts[:i]) for i in range(1, len(parts))}
        leftovers = new - allowed
        assert not leftovers, f"{argv!r} left {sorted(leftovers)} besides its output"
    return code


# -- input files every example can name -----------------------------------------------------------
def _magic_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _write_inputs(d: Path) -> None:
    moons = sf.dataset("moons", n=30)
    rows = "".join(f"{a},{b},{c}\n" for (a, b), c in zip(moons.x, moons.y, strict=True))
    (d / "pts.csv").write_text(rows)
    (d / "bom.csv").write_bytes(("\ufeff" + rows).encode())
    (d / "two.csv").write_text("0.1,0.2,0\n0.5,-0.3,1\n")
    np.savez(d / "pts.npz", x=moons.x, y=moons.y)
    np.savez(d / "i64max.npz", x=np.zeros((3, 2)), y=np.array([0, 1, np.iinfo(np.int64).max]))
    np.savez(d / "complex.npz", x=np.zeros((4, 2)) + 1j, y=np.array([0, 1, 0, 1]))
    big = np.zeros((4, 2))
    big[1, 1] = 3.5e38
    np.savez(d / "f32over.npz", x=big, y=np.array([0, 1, 0, 1]))
    with zipfile.ZipFile(d / "huge.npz", "w") as z:
        z.writestr("x.npy", _magic_header((10**12, 2)) + b"\0" * 64)
        z.writestr("y.npy", _magic_header((10**12,), "<i8"))
    ro = d / "ro.safetensors"
    ro.write_bytes(b"read-only")
    ro.chmod(0o444)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Checkpoints the render cases name: trained on xor, on a CSV, on two points, weights of
    3e38, and garbage."""
    import torch

    d = tmp_path_factory.mktemp("models")
    xor = sf.build("2-4-2")
    sf.save(xor, d / "xor.safetensors", meta={"data": {"name": "xor", "params": {"n": 100}}})
    wide = sf.build("2-6-3-2")
    sf.save(wide, d / "wide.safetensors", meta={"data": {"name": "moons", "params": {"n": 60}}})
    (d / "two.csv").write_text("0.1,0.2,0\n0.5,-0.3,1\n")
    sf.save(sf.build("2-8-4-2"), d / "two.safetensors",
            meta={"data": {"file": str(d / "two.csv")}})
    huge = sf.build("2-8-2")
    with torch.no_grad():
        for m in huge:
            if isinstance(m, torch.nn.Linear):
                m.weight.fill_(3e38)
    sf.save(huge, d / "w38.safetensors")
    (d / "garbage.safetensors").write_bytes(b"\xff" * 64)
    return d


def _folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    d = tmp_path_factory.mktemp(name)
    _write_inputs(d)
    return d


# -- strategies ---------------------------------------------------------------------------------
def _arch_valid() -> st.SearchStrategy[str]:
    return st.builds(lambda i, hidden, o: "-".join(map(str, [i, *hidden, o])),
                     st.sampled_from([1, 2, 2, 2, 3, 64]),
                     st.lists(st.integers(1, 12), max_size=2), st.integers(1, 6))


# valid values are drawn most of the time (repeated branches weigh more), so the cases
# reach the training and the drawing, not only the argument checks
ARCH = st.one_of(_arch_valid(), _arch_valid(), _arch_valid(), st.sampled_from(
    ["2--5", "2-0-2", "2-5000-2", "x", "", "2", "2-3-2-", "-2-3", "2-3.5-2", "２-3-2"]), TEXT)
INTS = st.one_of(st.integers(0, 300).map(str), st.integers(0, 50).map(str),
                 st.integers(-10, 300).map(str),
                 st.sampled_from(["-5", "99999999999999999999", "4294967295", "4294967296",
                                  "-0", "1e3", "0x10", "", " 7"]),
                 TEXT)
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.floats(0, 1).map(repr), st.floats(0, 1).map(repr),
                   st.floats(0, 0.5).map(repr),
                   st.sampled_from(["-0.0", "1e-300", "nan", "inf", "-inf", "1e309", "abc", ""]),
                   TEXT)
DATA = st.one_of(st.sampled_from(sorted(DATASETS)), st.sampled_from(sorted(DATASETS)),
                 st.sampled_from(["pts.csv", "bom.csv", "two.csv", "pts.npz"]),
                 st.sampled_from(sorted(DATASETS) + [
    "pts.csv", "bom.csv", "two.csv", "pts.npz", "i64max.npz", "complex.npz", "f32over.npz",
    "huge.npz", "missing.csv", "nope", "", "folder/x.npz"]), TEXT)


def _opts(draw: Callable[..., Any], spec: dict[str, st.SearchStrategy[str]]) -> list[str]:
    argv: list[str] = []
    for flag, strat in spec.items():
        if draw(st.integers(0, 3)) == 0:
            argv += [flag, draw(strat)]
    return argv


def _output(draw: Callable[..., Any], suffixes: list[str]) -> str:
    stem = draw(st.one_of(st.just("o"), st.just("o"), st.just("o"), NOT_UTF8,
                          st.sampled_from(["o", "out.put", "sub/o", "x" * 250, "x" * 236,
                                           "ro", " "]),
                          TEXT.filter(lambda t: t.strip(". ") != "" and ".." not in t
                                      and not t.startswith(("/", "~")) and "-" != t[:1])))
    return stem + draw(st.sampled_from(suffixes))


_CLASSES = {"spiral": 5, "gauss": 3, "digits": 10}


@st.composite
def valid_train_argv(draw: Callable[..., Any]) -> list[str]:
    """A ``train`` command that should work: the cases that reach the training."""
    data = draw(st.sampled_from(sorted(DATASETS) + ["pts.csv", "bom.csv", "two.csv",
                                                    "pts.npz"]))
    argv = ["train", "--data", data, "-o", "m.safetensors", "--epochs",
            str(draw(st.integers(1, 3)))]
    classes = _CLASSES.get(data, 2)
    if data in ("spiral", "gauss") and draw(st.booleans()):
        classes = draw(st.integers(2, 6))
        argv += ["--classes", str(classes)]
    hidden = draw(st.lists(st.integers(1, 12), max_size=2))
    out = draw(st.integers(classes, classes + 2))
    argv += ["--arch", "-".join(map(str, [64 if data == "digits" else 2, *hidden, out]))]
    generated = data in DATASETS
    opts: dict[str, st.SearchStrategy[str]] = {
        "--seed": st.integers(0, 2**32 - 1).map(str),
        "--lr": st.floats(1e-4, 0.1).map(repr),
        "--batch-size": st.integers(1, 64).map(str),
        "--weight-decay": st.floats(0, 0.1).map(repr),
        "--target-accuracy": st.floats(0.01, 1).map(repr),
        "--activation": st.sampled_from(ACTIVATION_NAMES)}
    if generated and data != "cloud":
        opts["--n"] = st.integers(2, 200).map(str)
    if generated and data not in ("cloud", "digits"):
        opts["--noise"] = st.one_of(st.floats(0, 1).map(repr), st.just("-0.0"))
    argv += _opts(draw, opts)
    return argv


@st.composite
def train_argv(draw: Callable[..., Any]) -> list[str]:
    if draw(st.booleans()):
        return draw(valid_train_argv())
    argv = ["train", "--data", draw(DATA), "--arch", draw(ARCH), "-o",
            _output(draw, [".safetensors"] * 10 + [".png", "", ".SAFETENSORS"]),
            "--epochs", draw(st.one_of(st.integers(0, 3).map(str), INTS.filter(
                lambda s: not s.strip().isdigit() or int(s) <= 3)))]
    argv += _opts(draw, {
        "--activation": st.one_of(st.sampled_from(ACTIVATION_NAMES), st.sampled_from(
            ["relu,tanh", "nope", "", "relu,,relu"]), TEXT),
        "--seed": INTS, "--noise": FLOATS, "--classes": INTS,
        "--n": st.one_of(st.integers(-5, 200).map(str),
                         st.sampled_from(["0", "1", "2", "1000001", "10000000000"]), TEXT),
        "--lr": FLOATS, "--batch-size": st.one_of(st.integers(-1, 64).map(str), TEXT),
        "--weight-decay": FLOATS, "--target-accuracy": FLOATS})
    if draw(st.booleans()):
        argv.append("--force")
    return argv


def _fps() -> st.SearchStrategy[str]:
    return st.one_of(st.floats(1, 4).map(repr), st.floats(1, 4).map(repr),
                     st.floats(1, 4).map(repr), st.sampled_from(
        ["1e-300", "0", "-1", "nan", "inf", "120.0001", "1", "0.5", "1e309", "abc"]), TEXT)


def _size() -> st.SearchStrategy[str]:
    valid = st.builds(lambda w, h: f"{w}x{h}", st.integers(16, 64), st.integers(16, 40))
    return st.one_of(valid, valid, valid,
                     st.sampled_from(["16x16", "64x16", "40x23", "3841x10", "0x0", "16x15",
                                      "1e3x2", " 32 x 32 ", "99999999x1", "32X32", "x", ""]),
                     TEXT)


@st.composite
def valid_render_argv(draw: Callable[..., Any]) -> list[str]:
    """A ``render`` or ``export`` that should work: the cases that reach the drawing."""
    suffix = draw(st.sampled_from([".png", ".gif", ".mp4", ".npz", ".html"]))
    w, h = draw(st.integers(8, 32)) * 2, draw(st.integers(8, 20)) * 2
    argv = ["render"]
    if draw(st.booleans()):
        argv += ["fold-222"]
    else:
        model = draw(st.sampled_from(["xor", "wide", "two"]))
        argv += ["layers", "--model", f"{{models}}/{model}.safetensors"]
        if draw(st.booleans()):
            argv += ["--data", draw(st.sampled_from(["xor", "moons", "circles", "pts.csv",
                                                     "pts.npz"]))]
            if argv[-1] in ("xor", "moons", "circles"):
                argv += _opts(draw, {"--seed": st.integers(0, 2**32 - 1).map(str),
                                     "--n": st.integers(2, 120).map(str),
                                     "--noise": st.one_of(st.floats(0, 1).map(repr),
                                                          st.just("-0.0"))})
    if suffix == ".html" and draw(st.booleans()):   # the same through `export`
        argv[0] = "export"
        return [*argv, "-o", "o.html"]
    return [*argv, "-o", f"o{suffix}", "--size", f"{w}x{h}", "--fps",
            repr(draw(st.floats(1, 4))), "--color-by",
            draw(st.sampled_from(["class", "position"]))]


@st.composite
def render_argv(draw: Callable[..., Any]) -> list[str]:
    if draw(st.booleans()):
        return draw(valid_render_argv())
    scene = draw(st.sampled_from(["fold-222", "fold-222", "layers", "layers", "nope", ""]))
    argv = ["render", scene, "-o", _output(draw, [".png", ".gif", ".mp4", ".npz", ".html"] * 3
                                           + [".txt", "", ".PNG"]),
            "--size", draw(_size()), "--fps", draw(_fps())]
    model = draw(st.sampled_from(["xor", "xor", "wide", "wide", "two", "w38", "garbage",
                                  "missing", None]))
    if scene == "layers" or draw(st.integers(0, 4)) == 0:
        if model is not None:
            argv += ["--model", f"{{models}}/{model}.safetensors"]
    argv += _opts(draw, {"--color-by": st.sampled_from(["class", "position", "nope", ""]),
                         "--data": st.sampled_from(["xor", "moons", "spiral", "pts.csv",
                                                    "two.csv", "pts.npz", "i64max.npz",
                                                    "huge.npz", "digits"]),
                         "--seed": INTS, "--noise": FLOATS,
                         "--n": st.one_of(st.integers(-2, 120).map(str), TEXT),
                         "--classes": INTS})
    if draw(st.booleans()):
        argv.append("--force")
    return argv


def _with_models(argv: list[str], models: Path) -> list[str]:
    return [a.replace("{models}", str(models)) for a in argv]


def _out_of(argv: list[str]) -> str | None:
    return argv[argv.index("-o") + 1] if "-o" in argv else None


# -- the suites ---------------------------------------------------------------------------------
def test_fuzz_train_arguments(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("train arguments")

    @FUZZ
    @given(argv=train_argv())
    @example(argv=["train", "--data", "moons", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1", "--seed", "-5"])
    @example(argv=["train", "--data", "circles", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1", "--seed", "-5"])
    @example(argv=["train", "--data", "spiral", "--arch", "2-3-5", "-o", "m.safetensors",
                   "--epochs", "1", "--seed", "99999999999999999999"])
    @example(argv=["train", "--data", "moons", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1", "--noise", "-0.0"])
    @example(argv=["train", "--data", "moons", "--arch", "2-3-2", "-o",
                   "m" * 246 + ".safetensors", "--epochs", "1"])         # 258 characters
    @example(argv=["train", "--data", "moons", "--arch", "2-3-2", "-o",
                   "m" * 235 + ".safetensors", "--epochs", "1", "--n", "20"])   # 247
    @example(argv=["train", "--data", "i64max.npz", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "huge.npz", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "complex.npz", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "f32over.npz", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "bom.csv", "--arch", "2-3-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "two.csv", "--arch", "2-8-4-2", "-o", "m.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "xor", "--arch", "2-3-2", "-o", "ro.safetensors",
                   "--epochs", "1"])
    @example(argv=["train", "--data", "xor", "--arch", "2-3-2", "-o", "ro.safetensors",
                   "--epochs", "1", "--force", "--n", "20"])
    @example(argv=[])                                                   # bare `spacefold`
    def run(argv: list[str]) -> None:
        folder = _folder(tmp_path_factory, "train")
        code = _check(tally, folder, argv, _out_of(argv))
        if argv and code == 0:
            out = folder / argv[argv.index("-o") + 1]
            sf.load_network(out)                 # what it wrote is a checkpoint
            if "bom.csv" in argv:                # the BOM row was kept
                assert sf.load_network(out).meta["data"]["file"].endswith("bom.csv")
                assert len(load_file(folder / "bom.csv")) == 30

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


def test_fuzz_render_arguments(tmp_path_factory: pytest.TempPathFactory, models: Path) -> None:
    tally = Tally("render arguments")

    @FUZZ
    @given(argv=render_argv())
    @example(argv=["render", "fold-222", "-o", "a.png", "--size", "16x16"])
    @example(argv=["render", "fold-222", "-o", "a.png", "--size", "64x16"])
    @example(argv=["render", "fold-222", "-o", "a.png", "--size", "200x23"])
    @example(argv=["render", "fold-222", "-o", "a.mp4", "--size", "16x16", "--fps", "2"])
    @example(argv=["render", "fold-222", "-o", "a.gif", "--size", "32x32", "--fps", "1e-300"])
    @example(argv=["render", "fold-222", "-o", "a.mp4", "--size", "32x32", "--fps", "1e-300"])
    @example(argv=["render", "layers", "--model", "{models}/w38.safetensors", "--data", "xor",
                   "-o", "w.png", "--size", "32x32"])
    @example(argv=["render", "layers", "--model", "{models}/two.safetensors", "-o", "t.png",
                   "--size", "32x32"])
    @example(argv=["render", "layers", "--model", "{models}/xor.safetensors", "--data", "xor",
                   "--seed", "-5", "-o", "s.png", "--size", "32x32"])
    @example(argv=["render", "layers", "--model", "{models}/wide.safetensors", "--data",
                   "moons", "--noise", "-0.0", "-o", "s.png", "--size", "32x32"])
    @example(argv=["render", "fold-222", "-o", "x" * 254 + ".npz"])
    @example(argv=["render", "fold-222", "-o", "ro.safetensors"])
    def run(argv: list[str]) -> None:
        folder = _folder(tmp_path_factory, "render")
        _check(tally, folder, _with_models(argv, models), _out_of(argv))

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


@st.composite
def csv_text(draw: Callable[..., Any]) -> bytes:
    token = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.integers(-3, 1200).map(str),
                      st.sampled_from(["", " ", "nan", "1e999", "-0", "1_0", "0x10", "label",
                                       "\ufeff1", '"1"', "9223372036854775807", "1.5"]),
                      TEXT)
    if draw(st.integers(0, 3)) > 0:   # a table of numbers, now and then a strange cell
        def cell(number: st.SearchStrategy[str]) -> str:
            return draw(token) if draw(st.integers(0, 15)) == 0 else draw(number)

        rows = [[cell(st.floats(-10, 10).map(repr)), cell(st.floats(-10, 10).map(repr)),
                 cell(st.integers(0, 3).map(str))] for _ in range(draw(st.integers(2, 10)))]
        if draw(st.booleans()):
            rows.insert(0, ["x", "y", "label"])
        sep = ","
    else:
        rows = draw(st.lists(st.lists(token, min_size=0, max_size=4), max_size=8))
        sep = draw(st.sampled_from([",", ";", "\t", ", "]))
    text = "\n".join(sep.join(r) for r in rows)
    if draw(st.booleans()):
        text = "\ufeff" + text
    raw = text.encode()
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.binary(max_size=64))
    return raw


def test_fuzz_csv_contents(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("CSV contents")

    @FUZZ
    @given(raw=csv_text(), arch=st.sampled_from(["2-3-4", "2-3-4", "1-3-2", "3-3-4"]))
    @example(raw="\ufeff0.5,0.25,1\n0.1,0.2,0\n0.3,0.4,1\n".encode(), arch="2-3-2")
    @example(raw=b"0.1,0.2,0\n0.5,-0.3,1\n", arch="2-3-2")                 # two points
    @example(raw=b"\xff\xfe0,0,1\n", arch="2-3-2")                          # not UTF-8
    @example(raw=b"1,2,9223372036854775807\n1,2,0\n", arch="2-3-2")
    @example(raw=b"1,3.5e38,1\n1,2,0\n", arch="2-3-2")
    def run(raw: bytes, arch: str) -> None:
        folder = tmp_path_factory.mktemp("csv")
        (folder / "d.csv").write_bytes(raw)
        code = _check(tally, folder, ["train", "--data", "d.csv", "--arch", arch, "--epochs",
                                      "1", "-o", "m.safetensors"], "m.safetensors")
        if raw.startswith("\ufeff0.5".encode()):
            assert code == 0
            assert len(load_file(folder / "d.csv")) == 3

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


_DTYPES = ["<f8", "<f4", "<f2", "<i8", "<u1", "<u8", "|b1", "<c16", ">f8", "<i4"]


@st.composite
def npz_arrays(draw: Callable[..., Any]) -> dict[str, np.ndarray]:
    from hypothesis.extra import numpy as hnp

    n = draw(st.integers(0, 6))
    if draw(st.booleans()):   # points and labels as they should be, values of any size
        from hypothesis.extra import numpy as hnp

        n = max(n, 2)
        return {"x": draw(hnp.arrays(np.dtype(draw(st.sampled_from(["<f8", "<f4", "<i8"]))),
                                     (n, 2))),
                "y": draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 3)))}
    arrays = {}
    for name, shape in (("x", draw(st.sampled_from([(n, 2), (n, 1), (n, 0), (n,), (n, 2, 2),
                                                     (n + 1, 2)]))),
                        ("y", draw(st.sampled_from([(n,), (n, 1), (), (max(n - 1, 0),)])))):
        dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
        arrays[name] = draw(hnp.arrays(dtype, shape))
    if draw(st.integers(0, 5)) == 0:
        arrays["z" if draw(st.booleans()) else "y"] = np.array(["a", "b"])
    if draw(st.integers(0, 5)) == 0:
        del arrays[draw(st.sampled_from(["x", "y"]))]
    return arrays


def _npz_case(tally: Tally, folder: Path, arch: str = "2-3-2") -> int:
    return _check(tally, folder, ["train", "--data", "d.npz", "--arch", arch, "--epochs", "1",
                                  "-o", "m.safetensors"], "m.safetensors")


def test_fuzz_npz_arrays(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("NPZ arrays")

    @FUZZ
    @given(arrays=npz_arrays())
    @example(arrays={"x": np.zeros((3, 2)), "y": np.array([0, 1, np.iinfo(np.int64).max])})
    @example(arrays={"x": np.zeros((4, 2)) + 1j, "y": np.array([0, 1, 0, 1])})
    @example(arrays={"x": np.array([[0, 3.5e38], [1, 2]]), "y": np.array([0, 1])})
    @example(arrays={"x": np.array([[0.1, 0.2], [0.5, -0.3]]), "y": np.array([0, 1])})
    def run(arrays: dict[str, np.ndarray]) -> None:
        folder = tmp_path_factory.mktemp("npz")
        np.savez(folder / "d.npz", **arrays)
        width = arrays["x"].shape[1] if "x" in arrays and arrays["x"].ndim == 2 else 2
        _npz_case(tally, folder, f"{max(width, 1)}-3-2")

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


def _valid_npz_bytes() -> bytes:
    buf = io.BytesIO()
    d = sf.dataset("moons", n=12)
    np.savez(buf, x=d.x, y=d.y)
    return buf.getvalue()


def _huge_header_npz() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", _magic_header((10**12, 2)) + b"\0" * 64)
        z.writestr("y.npy", _magic_header((10**12,), "<i8"))
    return buf.getvalue()


def test_fuzz_npz_bytes(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("NPZ bytes")
    valid = _valid_npz_bytes()

    @FUZZ
    @given(edits=st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)),
                          max_size=6),
           cut=st.one_of(st.none(), st.integers(0, len(valid))))
    @example(edits=[], cut=None)
    def run(edits: list[tuple[int, int]], cut: int | None) -> None:
        raw = bytearray(valid)
        for i, b in edits:
            raw[i] = b
        folder = tmp_path_factory.mktemp("npzb")
        (folder / "d.npz").write_bytes(bytes(raw[:cut] if cut is not None else raw))
        _npz_case(tally, folder)

    run()
    folder = tmp_path_factory.mktemp("npzh")
    (folder / "d.npz").write_bytes(_huge_header_npz())      # a (10**12, 2) header
    assert _npz_case(tally, folder) == 2
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70)
                    | st.floats(allow_nan=False) | TEXT,
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3),
                    max_leaves=8)
PARAM = st.sampled_from(["n", "seed", "noise", "classes", "factor", "bogus"])


@st.composite
def recipe(draw: Callable[..., Any]) -> Any:
    kind = draw(st.integers(0, 5))
    if kind >= 4:   # a recipe that should work (or name 64-D digits for a 2-D model)
        name = draw(st.sampled_from(sorted(DATASETS)))
        params = draw(st.fixed_dictionaries({}, optional={
            "n": st.integers(2, 100), "seed": st.integers(0, 2**32 - 1),
            "noise": st.floats(0, 1)}))
        return {"name": name, "params": params}
    if kind == 0:
        return {"name": draw(st.one_of(st.sampled_from(sorted(DATASETS)), JSON)),
                "params": draw(st.one_of(st.dictionaries(PARAM, JSON, max_size=3),
                                         st.dictionaries(PARAM, st.one_of(
                                             st.integers(-5, 300), st.floats(-1, 11)),
                                             max_size=3), JSON))}
    if kind == 1:
        return {"file": draw(st.one_of(st.sampled_from(["pts.csv", "two.csv", "missing.csv",
                                                        "pts.npz", "huge.npz"]), JSON)),
                **({"sha256": draw(JSON)} if draw(st.booleans()) else {})}
    return draw(JSON)


def _ckpt(path: Path, meta_json: str, spec_json: str | None = None) -> None:
    from safetensors.torch import save_file

    net = sf.build("2-4-2")
    spec = spec_json if spec_json is not None else json.dumps(sf.ArchSpec.parse("2-4-2")
                                                              .to_dict())
    tensors = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, str(path), metadata={"spacefold.spec": spec, "spacefold.meta": meta_json})


def test_fuzz_checkpoint_contents(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("checkpoint contents")

    @FUZZ
    @given(meta=st.one_of(recipe().map(lambda r: json.dumps({"data": r})), JSON.map(json.dumps)),
           spec=st.one_of(st.none(), st.none(), st.none(), JSON.map(json.dumps),
                          st.fixed_dictionaries(
               {"widths": JSON, "activations": JSON, "head": JSON}).map(json.dumps)))
    @example(meta='{"data": {"name": "moons", "params": {"seed": "x"}}}', spec=None)
    @example(meta='{"data": {"name": "moons", "params": {"seed": 1.5}}}', spec=None)
    @example(meta='{"data": {"name": "moons", "params": {"seed": -1}}}', spec=None)
    @example(meta='{"data": {"name": "moons", "params": {"noise": "abc"}}}', spec=None)
    @example(meta='{"data": {"name": "moons", "params": ["seed", 1]}}', spec=None)
    @example(meta="[" * 100_000 + "]" * 100_000, spec=None)
    @example(meta='{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", spec=None)
    @example(meta="{}", spec="[" * 100_000 + "]" * 100_000)
    @example(meta='{"data": {"file": "pts.csv"}}', spec=None)
    def run(meta: str, spec: str | None) -> None:
        folder = _folder(tmp_path_factory, "ckpt")
        _ckpt(folder / "m.safetensors", meta.replace('"pts.csv"', json.dumps(
            str(folder / "pts.csv"))), spec)
        _check(tally, folder, ["render", "layers", "--model", "m.safetensors", "-o", "o.png",
                               "--size", "32x32"], "o.png")

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0


def test_fuzz_checkpoint_bytes(tmp_path_factory: pytest.TempPathFactory) -> None:
    tally = Tally("checkpoint bytes")
    base = tmp_path_factory.mktemp("ckptb0")
    sf.save(sf.build("2-4-2"), base / "m.safetensors",
            meta={"data": {"name": "xor", "params": {"n": 50}}})
    valid = (base / "m.safetensors").read_bytes()

    @FUZZ
    @given(edits=st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)),
                          max_size=4),
           cut=st.one_of(st.none(), st.integers(0, len(valid))))
    @example(edits=[], cut=None)
    def run(edits: list[tuple[int, int]], cut: int | None) -> None:
        raw = bytearray(valid)
        for i, b in edits:
            raw[i] = b
        folder = tmp_path_factory.mktemp("ckptb")
        (folder / "m.safetensors").write_bytes(bytes(raw[:cut] if cut is not None else raw))
        _check(tally, folder, ["render", "layers", "--model", "m.safetensors", "-o", "o.npz"],
               "o.npz")

    run()
    print(tally.report())
    assert tally.counts["tracebacks"] == 0
