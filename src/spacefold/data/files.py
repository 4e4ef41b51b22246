"""Loading points from CSV / NPZ. Validated; ``np.load`` never unpickles."""

from __future__ import annotations

import csv
import math
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import DataError
from spacefold.limits import MAX_LABEL, MAX_NPZ_VALUES, MAX_POINTS


def from_csv(path: str | Path, label_column: int = -1) -> Dataset:
    """Rows of numbers: feature columns plus one integer label column (the last by default).

    A header row is allowed when it is the first row and none of its cells is a number;
    lines starting with ``#`` are comments. Errors name the line of the file.
    """
    p = Path(path)
    _regular(p, "CSV")
    try:
        text = p.read_text(encoding="utf-8-sig")   # a BOM is not part of the first cell
    except OSError as e:
        raise DataError(f"cannot read CSV {str(p)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise DataError(f"cannot read CSV {str(p)!r}: not a UTF-8 text file") from None
    reader = csv.reader(text.splitlines())
    rows: list[tuple[int, list[str]]] = []          # (line of the file, cells)
    try:
        for r in reader:
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#"):
                rows.append((reader.line_num, r))
    except csv.Error as e:                          # a cell over 128 KiB, a NUL, ...
        raise DataError(f"CSV {str(p)!r} line {reader.line_num}: {e}") from None
    if rows and not any(_is_number(c) for c in rows[0][1]):
        rows = rows[1:]  # header
    if not rows:
        raise DataError(f"CSV {str(p)!r} has no data rows")
    width = len(rows[0][1])
    if width < 2:
        sep = next((name for ch, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars"))
                    if ch in rows[0][1][0]), None)
        hint = f" (its cells look separated by {sep}; spacefold reads commas)" if sep else ""
        raise DataError(f"CSV {str(p)!r} line {rows[0][0]}: need at least 2 columns "
                        f"(features + label), got {width}{hint}")
    table = np.empty((len(rows), width), dtype=np.float64)
    for i, (line, r) in enumerate(rows):
        if len(r) != width:
            raise DataError(f"CSV {str(p)!r} line {line}: {len(r)} columns, expected {width}")
        for j, c in enumerate(r):
            if not _is_number(c):
                shown = c.strip() if len(c.strip()) <= 40 else f"{c.strip()[:37]}..."
                raise DataError(f"CSV {str(p)!r} line {line}: {shown!r} is not a number")
            table[i, j] = float(c)
    lc = label_column % width
    x = np.delete(table, lc, axis=1)
    return validated(x, table[:, lc], p.stem, f"CSV {str(p)!r}", [line for line, _ in rows])


# a decimal number as people write them in a table (Python's float() also takes "1_000",
# other scripts' digits and padding inside); "nan" and "inf" parse, to be refused by name
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*|"
                     r"\s*[+-]?(?:nan|inf|infinity)\s*", re.IGNORECASE | re.ASCII)


def _is_number(cell: str) -> bool:
    return _NUMBER.fullmatch(cell) is not None


def _regular(p: Path, what: str) -> None:
    """Refuse what is not a regular file before opening it (a FIFO would block the read)."""
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DataError(f"cannot read {what} {str(p)!r}: no such file") from None
    except OSError as e:
        raise DataError(f"cannot read {what} {str(p)!r}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"cannot read {what} {str(p)!r}: it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"cannot read {what} {str(p)!r}: not a regular file")


_ARRAY_KINDS = "biuf"     # bool (labels), signed, unsigned, float; never complex or object


def _array_header(z: zipfile.ZipFile, name: str, what: str) -> tuple[tuple[int, ...], Any]:
    """Shape and dtype of ``name``.npy in the archive, read from its header only, checked
    against the size the archive records: a header that claims (10**12, 2) is refused here,
    before anything is allocated."""
    member = f"{name}.npy"
    try:
        info = z.getinfo(member)
        with z.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"npy format version {version}")
            offset = f.tell()
    except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile,
            NotImplementedError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot read array {name!r} of {what}: {first}") from None
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None \
            or dtype.subdtype is not None:
        raise DataError(f"{what}: array {name!r} {_refused(dtype)}")
    count = math.prod(shape)
    if count > MAX_NPZ_VALUES:
        raise DataError(f"{what}: array {name!r} claims shape {shape}, more than "
                        f"{MAX_NPZ_VALUES} values")
    if info.file_size != offset + count * dtype.itemsize:
        raise DataError(f"{what}: array {name!r} claims shape {shape} of {dtype.str} but holds "
                        f"{max(info.file_size - offset, 0)} bytes (truncated or corrupt)")
    return tuple(shape), dtype


def _refused(dtype: np.dtype[Any]) -> str:
    if dtype.hasobject:
        return "holds objects: Object arrays are refused (never unpickled); values must be numbers"
    if dtype.kind == "c":
        return "holds complex numbers, which are refused; values must be real numbers"
    return f"has dtype {dtype.str}; values must be numbers (float or int)"


def from_npz(path: str | Path) -> Dataset:
    """An ``.npz`` with arrays ``x`` (N, D) and ``y`` (N,) of real numbers. Object and complex
    arrays are refused; shapes are checked from the headers before any array is loaded."""
    p = Path(path)
    what = f"NPZ {str(p)!r}"
    _regular(p, "NPZ")
    try:
        with zipfile.ZipFile(p) as z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            if "x" not in names or "y" not in names:
                raise DataError(f"{what} needs arrays 'x' and 'y', has: "
                                f"{', '.join(names) or 'none'}")
            xs, _ = _array_header(z, "x", what)
            ys, _ = _array_header(z, "y", what)
    except FileNotFoundError:
        raise DataError(f"cannot read {what}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"cannot read {what}: it is a folder") from None
    except OSError as e:
        raise DataError(f"cannot read {what}: {e.strerror or e}") from None
    except (zipfile.BadZipFile, ValueError, EOFError, RuntimeError, NotImplementedError) as e:
        if isinstance(e, DataError):
            raise
        if _starts_with(p, b"\x93NUMPY"):
            raise DataError(f"{what} holds a single array; need an .npz with 'x' and 'y'") \
                from None
        raise DataError(f"{what} is not an .npz archive of numeric arrays") from None
    if len(xs) != 2 or len(ys) != 1 or xs[0] != ys[0]:
        raise DataError(f"{what}: x must be (N, D) and y (N,), got {xs}, {ys}")
    try:
        with np.load(p, allow_pickle=False) as z:
            x, y = z["x"], z["y"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot read {what}: {first}") from None
    if x.shape != xs or y.shape != ys:   # the file changed under us
        raise DataError(f"{what}: x must be (N, D) and y (N,), got {x.shape}, {y.shape}")
    return validated(x, y, p.stem, what)


def _starts_with(p: Path, magic: bytes) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False


def load_file(path: str | Path) -> Dataset:
    """CSV or NPZ by suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return from_csv(path)
    if suffix == ".npz":
        return from_npz(path)
    raise DataError(f"data file {str(path)!r}: unknown suffix {suffix!r}; use .csv or .npz")


_F32_MAX = float(np.finfo(np.float32).max)


def validated(x: np.ndarray, y: np.ndarray, name: str, what: str,
               lines: list[int] | None = None) -> Dataset:
    """Points ``x`` (N, D) and labels ``y`` (N,) read from a file (``what`` names it in
    messages) checked as a :class:`Dataset`: real, finite numbers within float32's range,
    integer labels in [0, MAX_LABEL], 2 to MAX_POINTS rows; ``lines`` the file's line of
    each row (a CSV's), for messages."""

    def row(i: int) -> str:
        return f"line {lines[i]}" if lines is not None else f"row {i + 1}"

    for arr, which in ((x, "values"), (y, "labels")):
        if arr.dtype.kind not in _ARRAY_KINDS or arr.dtype.hasobject:
            raise DataError(f"{what}: {which} {_refused(arr.dtype)}")
    if x.shape[1] < 1:
        raise DataError(f"{what}: need at least one feature column, got {x.shape}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        i = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise DataError(f"{what}: {row(i)} has a NaN or infinite value")
    big = np.abs(x) > _F32_MAX
    if big.any():
        i = int(np.argwhere(big)[0, 0])
        raise DataError(f"{what}: {row(i)} has a value beyond float32's range "
                        f"(|v| > {_F32_MAX:.3g})")
    if y.dtype.kind in "biu":   # compared in their own type: int64 max must not wrap
        if len(y) and (y.min() < 0 or y.max() > MAX_LABEL):
            raise DataError(f"{what}: labels must be integers in [0, {MAX_LABEL}], found "
                            f"{int(y.min()) if y.min() < 0 else int(y.max())}")
        yi = y.astype(np.int64)
    else:
        yf = np.asarray(y, dtype=np.float64)
        if not np.isfinite(yf).all() or (yf != np.round(yf)).any() or (yf < 0).any():
            raise DataError(f"{what}: labels must be non-negative integers")
        if len(yf) and yf.max() > MAX_LABEL:
            raise DataError(f"{what}: label {yf.max():g} too large (at most {MAX_LABEL})")
        yi = yf.astype(np.int64)
    if len(x) < 2:
        raise DataError(f"{what}: need at least 2 rows, got {len(x)}")
    if len(x) > MAX_POINTS:     # more than a trace carries: it could be trained, never drawn
        raise DataError(f"{what}: {len(x)} rows; at most {MAX_POINTS} points are drawn")
    classes = int(yi.max()) + 1
    return Dataset(x.astype(np.float32), yi, name, max(classes, 2), {"file": what})
