"""Hostile input files (issue 13, "CLI and files"): NPZ headers that lie, labels that wrap,
complex and too-large values, a CSV with a BOM, MNIST headers that overflow. (The temp-file
rules of every output are test_atomic's.)"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from spacefold.data import load_file
from spacefold.data.mnist import load_mnist
from spacefold.errors import DataError
from spacefold.trace import project


def _npz(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _npy_member(shape: tuple[int, ...], dtype: str = "<f8", body: bytes = b"") -> bytes:
    """An .npy file whose header claims ``shape`` but which holds only ``body``."""
    buf = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return b"\x93NUMPY\x01\x00"[:0] + buf.getvalue() + body


def test_npz_header_claiming_huge_shape_is_refused_before_allocating(tmp_path: Path) -> None:
    p = tmp_path / "huge.npz"
    with zipfile.ZipFile(p, "w") as z:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)})
        z.writestr("x.npy", np.lib.format.magic(1, 0) + buf.getvalue()[6 + 2:] + b"\0" * 64
                   if False else _magic_header((10**12, 2)) + b"\0" * 64)
        z.writestr("y.npy", _magic_header((10**12,), "<i8"))
    with pytest.raises(DataError, match=r"claims shape \(1000000000000, 2\)"):
        load_file(p)


def _magic_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_npz_header_larger_than_its_data_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "short.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("x.npy", _magic_header((1000, 2)) + b"\0" * 160)
        z.writestr("y.npy", _magic_header((1000,), "<i8") + b"\0" * 80)
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_file(p)


def test_npz_labels_at_int64_max_are_refused_not_wrapped(tmp_path: Path) -> None:
    y = np.array([0, 1, np.iinfo(np.int64).max], dtype=np.int64)
    p = _npz(tmp_path / "big.npz", x=np.zeros((3, 2)), y=y)
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 999\], found "
                                        r"9223372036854775807"):
        load_file(p)


def test_npz_unsigned_labels_work(tmp_path: Path) -> None:
    p = _npz(tmp_path / "u.npz", x=np.zeros((4, 2)), y=np.array([0, 1, 2, 1], dtype=np.uint64))
    d = load_file(p)
    assert d.classes == 3 and d.y.dtype == np.int64


def test_npz_complex_values_are_refused(tmp_path: Path) -> None:
    p = _npz(tmp_path / "c.npz", x=np.zeros((4, 2)) + 1j, y=np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match="complex"):
        load_file(p)


def test_npz_values_beyond_float32_are_refused(tmp_path: Path) -> None:
    x = np.zeros((4, 2))
    x[2, 1] = 3.5e38
    p = _npz(tmp_path / "f.npz", x=x, y=np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match="row 3 has a value beyond float32"):
        load_file(p)


def test_npz_at_float32_max_is_kept_finite(tmp_path: Path) -> None:
    x = np.zeros((4, 2))
    x[0, 0] = float(np.finfo(np.float32).max)
    d = load_file(_npz(tmp_path / "m.npz", x=x, y=np.array([0, 1, 0, 1])))
    assert np.isfinite(d.x).all()


def test_csv_with_a_utf8_bom_keeps_its_first_row(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeff0.5,0.25,1\n0.1,0.2,0\n0.3,0.4,1\n".encode())
    d = load_file(p)
    assert len(d) == 3
    np.testing.assert_allclose(d.x[0], [0.5, 0.25])


def test_csv_with_a_bom_and_a_header_drops_only_the_header(tmp_path: Path) -> None:
    p = tmp_path / "bomh.csv"
    p.write_bytes("\ufeffx,y,label\n0.1,0.2,0\n0.3,0.4,1\n".encode())
    assert len(load_file(p)) == 2


def test_server_upload_reads_a_bom_csv_the_same(tmp_path: Path) -> None:
    from spacefold.server.uploads import add_upload

    rows = "".join(f"{i / 40},{(i % 7) / 7},{i % 2}\n" for i in range(1, 30))
    _, d = add_upload(("\ufeff0.5,0.25,1\n" + rows).encode())
    assert len(d) == 30
    np.testing.assert_allclose(d.x[0], [0.5, 0.25])


def _idx(path: Path, magic: int, dims: tuple[int, ...], body: bytes = b"") -> None:
    path.write_bytes(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
                     + body)


def test_mnist_header_whose_size_overflows_int64_is_refused(tmp_path: Path) -> None:
    _idx(tmp_path / "train-images-idx3-ubyte", 2051, (2**31, 2**31, 2**31))
    _idx(tmp_path / "train-labels-idx1-ubyte", 2049, (2**31,))
    with pytest.raises(DataError, match="more than"):
        load_mnist(tmp_path)


def test_mnist_images_of_zero_pixels_are_refused(tmp_path: Path) -> None:
    _idx(tmp_path / "train-images-idx3-ubyte", 2051, (3, 0, 28))
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 2049, 3) + bytes([1, 2, 3]))
    with pytest.raises(DataError, match="at least 1x1"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("params, bad", [
    ({"seed": -5}, "seed -5"),
    ({"seed": 99999999999999999999}, "seed 99999999999999999999"),
    ({"seed": 1.5}, "seed 1.5"),
    ({"seed": "x"}, "seed 'x'"),
    ({"seed": True}, "seed True"),
    ({"noise": "abc"}, "noise 'abc'"),
    ({"noise": -1}, "noise -1"),
    ({"noise": float("nan")}, "noise nan"),
    ({"n": [1, 2]}, "n [1, 2]"),
])
@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor"])
def test_dataset_parameters_are_checked(name: str, params: dict[str, object], bad: str) -> None:
    with pytest.raises(DataError, match=bad.replace("[", r"\[").replace("]", r"\]")):
        sf.dataset(name, **params)


@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor", "gauss"])
def test_negative_zero_noise_is_zero(name: str) -> None:
    d = sf.dataset(name, n=20, noise=-0.0)
    assert d.params["noise"] == 0.0 and not np.signbit(d.params["noise"])
    assert np.array_equal(d.x, sf.dataset(name, n=20, noise=0.0).x)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_projection_of_fewer_points_than_display_axes(n: int) -> None:
    v = np.random.default_rng(1).standard_normal((n, 6))
    p = project.fit(v, 3)
    shown = p(v)
    assert shown.shape == (n, 3) and np.isfinite(shown).all()
    np.testing.assert_allclose(p.components.T @ p.components, np.eye(3), atol=1e-12)
    # every point keeps its distances to the others: the span of n points has n-1 dimensions
    d_in = np.linalg.norm(v[:, None] - v[None], axis=-1)
    d_out = np.linalg.norm(shown[:, None] - shown[None], axis=-1)
    np.testing.assert_allclose(d_out, d_in, atol=1e-9)


def test_projection_of_huge_values_matches_the_scaled_one() -> None:
    v = np.random.default_rng(2).standard_normal((40, 5))
    small, huge = project.fit(v, 2), project.fit(v * 3e37, 2)
    np.testing.assert_allclose(np.abs(huge.components), np.abs(small.components), atol=1e-9)
    np.testing.assert_allclose(huge.explained, small.explained, rtol=1e-9)


def test_trace_with_weights_of_3e38_does_not_crash() -> None:
    net = sf.build("2-8-2")
    import torch

    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.fill_(3e38 / 16)
    d = sf.dataset("xor", n=50)
    try:
        tr = sf.trace(net, d)
    except sf.SpacefoldError as e:   # overflow to inf is named, in one line
        assert "\n" not in str(e) and "infinite" in str(e)
    else:
        assert all(np.isfinite(s.values).all() or s.values.shape[1] <= 2 for s in tr.stages)
