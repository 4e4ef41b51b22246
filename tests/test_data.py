"""Datasets: the seeded registry, and CSV / NPZ loading with one-line errors."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from spacefold.data import load_file
from spacefold.errors import DataError

NAMES = sorted(sf.DATASETS)


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


# -- the registry ------------------------------------------------------------------------

def test_registry_holds_the_documented_datasets() -> None:
    assert {"spiral", "circles", "moons", "xor", "gauss", "digits", "cloud"} <= set(sf.DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_is_seeded(name: str) -> None:
    a = sf.dataset(name, n=300, seed=1)
    b = sf.dataset(name, n=300, seed=1)
    c = sf.dataset(name, n=300, seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_has_the_right_shapes_dtypes_and_classes(name: str) -> None:
    d = sf.dataset(name, n=300, seed=0)
    assert d.x.dtype == np.float32 and d.y.dtype == np.int64
    assert d.x.ndim == 2 and d.x.shape == (300, d.dim) and d.y.shape == (300,)
    assert d.x.flags.c_contiguous and np.isfinite(d.x).all()
    assert len(d) == 300 and d.name == name
    assert d.y.min() >= 0 and d.y.max() < d.classes
    assert set(np.unique(d.y)) == set(range(d.classes))  # every class present at n=300
    if name in ("spiral", "circles", "moons", "xor", "gauss", "cloud"):
        assert d.dim == 2
    elif name == "digits":
        assert d.dim == 64


@pytest.mark.parametrize("classes", [2, 3, 5, 7])
def test_spiral_arms(classes: int) -> None:
    d = sf.dataset("spiral", classes=classes, n=700, noise=0.2, seed=0)
    r = np.hypot(d.x[:, 0], d.x[:, 1])
    assert r.min() >= 0.2 - 1e-6 and r.max() <= 1.0 + 1e-6
    assert d.classes == classes
    counts = np.bincount(d.y, minlength=classes)
    assert counts.max() - counts.min() <= 1  # arms of equal size


def test_spiral_reference_dataset() -> None:
    d = sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)
    assert d.x.shape == (1000, 2) and d.classes == 5
    assert d.params == {"n": 1000, "noise": 0.2, "seed": 0}
    # without noise an arm is a clean curve: radius grows with angle
    clean = sf.dataset("spiral", classes=5, n=1000, noise=0.0, seed=0)
    arm = clean.x[clean.y == 0]
    assert (np.diff(np.hypot(arm[:, 0], arm[:, 1])) > 0).all()


def test_digits_are_real_images() -> None:
    d = sf.dataset("digits")
    assert d.x.shape == (1797, 64) and d.classes == 10
    assert d.images is not None and d.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(d.images.reshape(-1, 64), d.x)
    assert 0.0 <= d.x.min() and d.x.max() <= 1.0


def test_cloud_fills_the_open_square() -> None:
    d = sf.dataset("cloud", n=500)
    assert (np.abs(d.x) < 1).all() and d.classes == 2


def test_split_is_seeded_and_disjoint() -> None:
    d = sf.dataset("moons", n=100, seed=0)
    tr, te = d.split(0.2, seed=3)
    tr2, _ = d.split(0.2, seed=3)
    assert len(tr) == 80 and len(te) == 20
    np.testing.assert_array_equal(tr.x, tr2.x)
    rows = {tuple(r) for r in tr.x} | {tuple(r) for r in te.x}
    assert len(rows) == 100
    with pytest.raises(DataError, match="1.5"):
        d.split(1.5)


@pytest.mark.parametrize("name, params, bad", [
    ("nope", {}, "'nope'"),
    ("spiral", {"colour": 3}, "colour"),
    ("spiral", {"classes": 1}, "classes 1"),
    ("spiral", {"classes": 2.5}, "classes 2.5"),
    ("spiral", {"classes": 21}, "classes 21"),
    ("gauss", {"classes": "3"}, "classes '3'"),
    ("moons", {"n": 0}, "n 0"),
    ("moons", {"n": -5}, "n -5"),
    ("moons", {"n": 10**9}, f"n {10**9}"),
    ("xor", {"noise": -1.0}, "noise -1.0"),
    ("xor", {"noise": 11}, "noise 11"),
    ("circles", {"factor": 1.5}, "factor 1.5"),
    ("cloud", {"noise": 0.1}, "noise"),
])
def test_bad_name_or_parameter_raises_data_error_naming_it(name: str, params: dict[str, object],
                                                           bad: str) -> None:
    with pytest.raises(DataError) as e:
        sf.dataset(name, **params)
    assert bad in _one_line(e)


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(DataError) as e:
        sf.dataset("spirals")
    assert all(n in str(e.value) for n in NAMES)


def test_none_parameters_mean_the_default() -> None:
    np.testing.assert_array_equal(sf.dataset("moons", n=50, noise=None).x,
                                  sf.dataset("moons", n=50).x)


# -- CSV ---------------------------------------------------------------------------------

def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_header_and_last_column_labels(tmp_path: Path) -> None:
    p = _write(tmp_path, "pts.csv", "x,y,label\n0.5,1,0\n-1,2.5,2\n3e-1, 4 ,1\n\n")
    d = sf.from_csv(p)
    np.testing.assert_array_equal(d.x, np.array([[0.5, 1], [-1, 2.5], [0.3, 4]], np.float32))
    np.testing.assert_array_equal(d.y, [0, 2, 1])
    assert d.x.dtype == np.float32 and d.y.dtype == np.int64
    assert d.classes == 3 and d.name == "pts"
    assert load_file(p).classes == 3


def test_csv_label_column_and_no_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "first.csv", "1,0.5,0.25,0.125\n0,1,2,3\n")
    d = sf.from_csv(p, label_column=0)
    np.testing.assert_array_equal(d.y, [1, 0])
    np.testing.assert_array_equal(d.x, [[0.5, 0.25, 0.125], [1, 2, 3]])
    assert d.classes == 2 and d.dim == 3


@pytest.mark.parametrize("text, bad", [
    ("x,y,c\n0,1,0\nnan,1,1\n", "line 3 has a NaN"),     # lines of the file, header too
    ("0,1,0\ninf,1,1\n", "line 2 has a NaN or infinite"),
    ("x,y,c\n\n0,1,0\n# note\n1,abc,1\n", "line 5: 'abc' is not a number"),
    ("0.5,0.2x,1\n0.1,0.2,1\n0.3,0.4,0\n", "line 1: '0.2x' is not a number"),  # no header
    ("0,1,0\n1,1_000,1\n", "line 2: '1_000' is not a number"),
    ("0,1,0\n1,２,1\n", "line 2: '２' is not a number"),
    ("0,1,0\n1,abc,1\n", "'abc' is not a number"),
    ("0,1,0\n1,2\n", "2 columns, expected 3"),
    ("0,1,0\n1,2,1,4\n", "4 columns, expected 3"),
    ("x,y,label\n", "no data rows"),
    ("", "no data rows"),
    ("1\n2\n", "at least 2 columns"),
    ("x;y;c\n0;1;0\n1;2;1\n", "separated by semicolons; spacefold reads commas"),
    ("0\t1\t0\n1\t2\t1\n", "separated by tabs"),
    ('x,y,c\n"' + "1" * 200_000 + '",1,1\n0,0,0\n', "line 2: field larger than field limit"),
    ("0,1,0.5\n1,2,1\n", "labels must be non-negative integers"),
    ("0,1,-1\n1,2,1\n", "labels must be non-negative integers"),
    ("0,1,1\n", "at least 2 rows"),
    ("0,1,5000\n1,2,1\n", "label 5000 too large"),
])
def test_bad_csv_raises_one_line_data_error(tmp_path: Path, text: str, bad: str) -> None:
    p = _write(tmp_path, "bad.csv", text)
    with pytest.raises(DataError) as e:
        sf.from_csv(p)
    msg = _one_line(e)
    assert bad in msg and str(p) in msg


def test_csv_comment_lines_are_skipped_and_a_header_is_all_words(tmp_path: Path) -> None:
    p = _write(tmp_path, "c.csv", "# made by hand\nx,y,label\n# first\n0,1,0\n1,2,1\n")
    d = sf.from_csv(p)
    np.testing.assert_array_equal(d.x, [[0, 1], [1, 2]])
    np.testing.assert_array_equal(d.y, [0, 1])


def test_data_files_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)                                   # reading it would wait forever
    with pytest.raises(DataError, match="not a regular file"):
        load_file(fifo)
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        load_file(tmp_path / "dir.npz")


def test_missing_or_unreadable_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError) as e:
        sf.from_csv(tmp_path / "missing.csv")
    assert "missing.csv" in _one_line(e)
    with pytest.raises(DataError) as e:
        sf.from_csv(tmp_path)  # a folder
    _one_line(e)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x00")
    with pytest.raises(DataError) as e:
        sf.from_csv(binary)
    assert "bin.csv" in _one_line(e)


# -- NPZ ---------------------------------------------------------------------------------

def test_npz_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "pts.npz"
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20) % 4
    np.savez(p, x=x, y=y)
    d = sf.from_npz(p)
    np.testing.assert_allclose(d.x, x.astype(np.float32))
    np.testing.assert_array_equal(d.y, y)
    assert d.classes == 4 and d.dim == 3 and d.x.dtype == np.float32 and d.y.dtype == np.int64
    assert load_file(p).classes == 4


def _npz(tmp_path: Path, **arrays: np.ndarray) -> Path:
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)  # type: ignore[arg-type]
    return p


class Boom:
    """Unpickling this would create a file: a loader that unpickles is caught by the test."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("case, bad", [
    ("object", "Object arrays"),
    ("no_y", "needs arrays 'x' and 'y', has: x"),
    ("empty_archive", "has: none"),
    ("nan", "NaN"),
    ("text", "must be numbers"),
    ("shape", "x must be (N, D)"),
    ("length", "x must be (N, D)"),
    ("float_labels", "labels must be non-negative integers"),
    ("npy", "single array"),
    ("pickle", "not an .npz"),
    ("truncated", "not an .npz"),
    ("empty_file", "not an .npz"),
])
def test_bad_npz_raises_one_line_data_error(tmp_path: Path, case: str, bad: str) -> None:
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    marker = tmp_path / "unpickled"
    p = tmp_path / "bad.npz"
    if case == "object":
        np.savez(p, x=np.array([Boom(str(marker))] * 4, dtype=object), y=y)
    elif case == "no_y":
        _npz(tmp_path, x=x)
    elif case == "empty_archive":
        np.savez(p)
    elif case == "nan":
        _npz(tmp_path, x=np.array([[0, np.nan]] * 4), y=y)
    elif case == "text":
        _npz(tmp_path, x=np.array([["a", "b"]] * 4), y=y)
    elif case == "shape":
        _npz(tmp_path, x=np.zeros((4, 2, 2)), y=y)
    elif case == "length":
        _npz(tmp_path, x=x, y=y[:3])
    elif case == "float_labels":
        _npz(tmp_path, x=x, y=y + 0.5)
    elif case == "npy":
        with open(p, "wb") as f:
            np.save(f, x)
    elif case == "pickle":
        p.write_bytes(pickle.dumps({"x": Boom(str(marker)), "y": y}))
    elif case == "truncated":
        np.savez(p, x=x, y=y)
        p.write_bytes(p.read_bytes()[:100])
    elif case == "empty_file":
        p.write_bytes(b"")
    with pytest.raises(DataError) as e:
        sf.from_npz(p)
    msg = _one_line(e)
    assert bad in msg and "bad.npz" in msg
    assert not marker.exists()  # nothing was unpickled


def test_missing_npz_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError) as e:
        sf.from_npz(tmp_path / "missing.npz")
    assert "missing.npz" in _one_line(e)
    with pytest.raises(DataError) as e:
        load_file(tmp_path / "points.txt")
    assert "'.txt'" in _one_line(e)
