"""Digit images: MNIST from the standard IDX files in a folder the user already has (never
downloaded), and scikit-learn's bundled 8x8 digits read without importing scikit-learn.

The IDX format (LeCun et al.): a big-endian header ``0x00 0x00 <type> <ndim>``, then ``ndim``
big-endian uint32 sizes, then the raw values. MNIST uses type 0x08 (unsigned byte): images are
``(N, 28, 28)`` (magic 2051), labels ``(N,)`` (magic 2049).

>>> from spacefold.data.mnist import load_mnist
>>> load_mnist("/no/such/folder")
Traceback (most recent call last):
...
spacefold.errors.DataError: MNIST folder '/no/such/folder' does not exist
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import DataError
from spacefold.limits import MAX_IDX_VALUES

IMAGES_MAGIC = 2051       # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049       # 0x00000801: unsigned bytes, 1 dimension
KINDS = ("train", "t10k")


def load_mnist(folder: str | Path, kind: str = "train", n: int | None = None,
               seed: int = 0) -> Dataset:
    """The MNIST ``kind`` split ("train": 60 000 images, "t10k": 10 000) from ``folder``.

    Reads ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte`` (also spelled
    ``…-images.idx3-ubyte``), each optionally gzipped (``.gz``). ``n`` keeps a seeded random
    subset. Returns a Dataset with ``x`` (N, 784) float32 in [0, 1], ``y`` (N,) in 0..9 and
    ``images`` (N, 28, 28) (row 0 = the top of the digit). Any missing, truncated or
    malformed file raises :class:`DataError` naming the file and what is wrong.
    """
    if kind not in KINDS:
        raise DataError(f"MNIST split {kind!r}: choose one of {', '.join(KINDS)}")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataError(f"MNIST folder {str(folder)!r} does not exist")
    images = read_idx(_find(root, kind, "images", 3), IMAGES_MAGIC)      # (N, rows, cols)
    labels = read_idx(_find(root, kind, "labels", 1), LABELS_MAGIC)      # (N,)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"MNIST {kind}: {images.shape[0]} images but {labels.shape[0]} labels "
                        f"in {str(root)!r}")
    if images.shape[0] == 0:
        raise DataError(f"MNIST {kind} in {str(root)!r} has no images")
    if min(images.shape[1:]) < 1:
        raise DataError(f"MNIST {kind} in {str(root)!r}: images of {images.shape[1]}x"
                        f"{images.shape[2]} pixels; need at least 1x1")
    if labels.max() > 9:
        raise DataError(f"MNIST {kind} labels must be digits 0-9, found {int(labels.max())}")
    if n is not None:
        if not (isinstance(n, (int, np.integer)) and 1 <= n):
            raise DataError(f"n {n!r} must be a positive integer")
        if n < len(labels):
            sel = np.sort(np.random.default_rng(seed).choice(len(labels), size=n,
                                                             replace=False))
            images, labels = images[sel], labels[sel]
    pix = np.ascontiguousarray(images, dtype=np.float32) / np.float32(255.0)  # (N, r, c)
    x = pix.reshape(len(pix), -1)                                              # a view
    return Dataset(x, labels.astype(np.int64), "mnist", 10,
                   {"folder": str(root), "kind": kind, "n": len(x), "seed": seed}, pix)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file of unsigned bytes (plain or gzipped) → array of the header's shape."""
    ndim = magic & 0xFF
    try:
        raw = _read_bytes(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:   # BadGzipFile is an OSError
        raise DataError(f"{str(path)!r} is not a valid gzip file ({e})") from None
    except OSError as e:
        raise DataError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise DataError(f"{str(path)!r} is too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        what = "images (magic 2051)" if magic == IMAGES_MAGIC else "labels (magic 2049)"
        raise DataError(f"{str(path)!r} is not an IDX file of MNIST {what}: "
                        f"magic number {found}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    count = math.prod(shape)   # Python ints: (2**31)**3 must not wrap to 0 as int64 does
    if count > MAX_IDX_VALUES:
        raise DataError(f"{str(path)!r}: header claims shape {shape}, more than "
                        f"{MAX_IDX_VALUES} values")
    if len(raw) != head + count:
        raise DataError(f"{str(path)!r}: header says shape {shape} ({head + count} bytes) but "
                        f"the file has {len(raw)} bytes (truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            data = f.read(MAX_IDX_VALUES + 64)
            if f.read(1):
                raise DataError(f"{str(path)!r} decompresses to more than {MAX_IDX_VALUES} bytes")
            return data
    size = path.stat().st_size
    if size > MAX_IDX_VALUES + 64:
        raise DataError(f"{str(path)!r} is {size} bytes, too large for MNIST")
    return path.read_bytes()


def _find(root: Path, kind: str, what: str, ndim: int) -> Path:
    names = [f"{kind}-{what}-idx{ndim}-ubyte", f"{kind}-{what}.idx{ndim}-ubyte"]
    for name in names:
        for cand in (root / name, root / f"{name}.gz"):
            if cand.is_file():
                return cand
    raise DataError(f"no MNIST {kind} {what} in {str(root)!r}: expected {names[0]} "
                    f"(or {names[0]}.gz)")


def bundled_digits() -> Dataset:
    """The same Dataset as ``dataset("digits")`` (scikit-learn's 1797 bundled 8x8 digits),
    read straight from the ``digits.csv.gz`` inside the installed scikit-learn: importing
    scikit-learn (and SciPy's stats with it) costs 2-6 s here, reading the file 50 ms."""
    import importlib.util

    from spacefold.data.datasets import dataset

    spec = importlib.util.find_spec("sklearn")       # finds the package without running it
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    path = next((p for r in roots if (p := Path(r) / "datasets" / "data" / "digits.csv.gz")
                 .is_file()), None)
    if path is None:
        return dataset("digits")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")                       # (1797, 65): pixels, label
    if table.ndim != 2 or table.shape[1] != 65:
        return dataset("digits")
    x = np.ascontiguousarray(table[:, :64] / 16.0, dtype=np.float32)
    return Dataset(x, table[:, 64].astype(np.int64), "digits", 10, {"n": len(x), "seed": 0},
                   x.reshape(-1, 8, 8))
