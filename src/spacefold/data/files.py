"""Loading points from CSV / NPZ. Validated; ``np.load`` never unpickles."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import DataError


def from_csv(path: str | Path, label_column: int = -1) -> Dataset:
    """Rows of numbers: feature columns plus one integer label column (the last by default).

    A header row is allowed when it is the first row and not numeric.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise DataError(f"cannot read CSV {str(p)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise DataError(f"cannot read CSV {str(p)!r}: not a UTF-8 text file") from None
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # header
    if not rows:
        raise DataError(f"CSV {str(p)!r} has no data rows")
    width = len(rows[0])
    if width < 2:
        raise DataError(f"CSV {str(p)!r}: need at least 2 columns (features + label), got {width}")
    table = np.empty((len(rows), width), dtype=np.float64)
    for i, r in enumerate(rows):
        if len(r) != width:
            raise DataError(f"CSV {str(p)!r} line {i + 1}: {len(r)} columns, expected {width}")
        for j, c in enumerate(r):
            try:
                table[i, j] = float(c)
            except ValueError:
                raise DataError(f"CSV {str(p)!r} line {i + 1}: {c.strip()!r} is not a number") \
                    from None
    lc = label_column % width
    x = np.delete(table, lc, axis=1)
    return _validated(x, table[:, lc], p.stem, f"CSV {str(p)!r}")


def from_npz(path: str | Path) -> Dataset:
    """An ``.npz`` with arrays ``x`` (N, D) and ``y`` (N,). Object arrays are refused."""
    p = Path(path)
    try:
        z = np.load(p, allow_pickle=False)
    except OSError as e:
        raise DataError(f"cannot read NPZ {str(p)!r}: {e.strerror or e}") from None
    except (ValueError, EOFError, zipfile.BadZipFile):
        # numpy says "pickled data" for any file it does not recognise; we never unpickle.
        raise DataError(f"NPZ {str(p)!r} is not an .npz archive of numeric arrays") from None
    if not isinstance(z, np.lib.npyio.NpzFile):  # a lone .npy array
        raise DataError(f"NPZ {str(p)!r} holds a single array; need an .npz with 'x' and 'y'")
    with z:
        if "x" not in z.files or "y" not in z.files:
            raise DataError(f"NPZ {str(p)!r} needs arrays 'x' and 'y', has: "
                            f"{', '.join(z.files) or 'none'}")
        try:
            x, y = z["x"], z["y"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(f"cannot read NPZ {str(p)!r}: {first}") from None
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"NPZ {str(p)!r}: x must be (N, D) and y (N,), got {x.shape}, {y.shape}")
    return _validated(x, y, p.stem, f"NPZ {str(p)!r}")


def load_file(path: str | Path) -> Dataset:
    """CSV or NPZ by suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return from_csv(path)
    if suffix == ".npz":
        return from_npz(path)
    raise DataError(f"data file {str(path)!r}: unknown suffix {suffix!r}; use .csv or .npz")


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _validated(x: np.ndarray, y: np.ndarray, name: str, what: str) -> Dataset:
    if not np.issubdtype(x.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{what}: values must be numbers")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        i = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise DataError(f"{what}: row {i + 1} has a NaN or infinite value")
    yf = np.asarray(y, dtype=np.float64)
    if not np.isfinite(yf).all() or (yf != np.round(yf)).any() or (yf < 0).any():
        raise DataError(f"{what}: labels must be non-negative integers")
    if len(x) < 2:
        raise DataError(f"{what}: need at least 2 rows, got {len(x)}")
    yi = yf.astype(np.int64)
    classes = int(yi.max()) + 1
    if classes > 1000:
        raise DataError(f"{what}: label {yi.max()} too large (at most 999)")
    return Dataset(x.astype(np.float32), yi, name, max(classes, 2), {"file": what})
