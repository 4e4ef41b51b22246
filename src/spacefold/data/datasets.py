"""Seeded dataset generators behind one registry: ``DATASETS[name](n=..., seed=..., ...)``."""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import DataError, SpacefoldError
from spacefold.limits import MAX_DATASET_CLASSES, MAX_DATASET_POINTS, MAX_SEED


@dataclass(frozen=True)
class Dataset:
    """Points and labels. ``x`` is (N, D) float32, ``y`` is (N,) int64 in [0, classes)."""

    x: np.ndarray
    y: np.ndarray
    name: str
    classes: int
    params: dict[str, Any] = field(default_factory=dict)
    images: np.ndarray | None = None  # (N, h, w) for image datasets (digits), else None

    def __post_init__(self) -> None:
        if self.x.ndim != 2 or self.y.shape != (self.x.shape[0],):
            raise DataError(f"dataset {self.name!r}: x must be (N, D) and y (N,), got "
                            f"{self.x.shape} and {self.y.shape}")

    @property
    def dim(self) -> int:
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def split(self, test: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """A seeded train/test split (stratified shuffle is not needed at these sizes)."""
        if not 0.0 < test < 1.0:
            raise DataError(f"test fraction {test} must be in (0, 1)")
        idx = np.random.default_rng(seed).permutation(len(self))
        n_test = max(1, int(round(test * len(self))))
        parts = []
        for sel in (idx[n_test:], idx[:n_test]):
            parts.append(Dataset(self.x[sel], self.y[sel], self.name, self.classes, self.params,
                                 None if self.images is None else self.images[sel]))
        return parts[0], parts[1]


def _finish(x: np.ndarray, y: np.ndarray, name: str, classes: int, **params: Any) -> Dataset:
    return Dataset(np.ascontiguousarray(x, dtype=np.float32),
                   np.ascontiguousarray(y, dtype=np.int64), name, classes, params)


def spiral(n: int = 1000, classes: int = 5, noise: float = 0.2, seed: int = 0) -> Dataset:
    """K interleaved arms (the classic CS231n formulation).

    Along each arm the radius rises from 0.2 to 1 while the angle sweeps two K-ths of a
    turn, plus Gaussian angular noise of ``noise`` radians.
    """
    _check_int("classes", classes, 2, MAX_DATASET_CLASSES)
    rng = np.random.default_rng(seed)
    per = _split_counts(n, classes)
    xs, ys = [], []
    for k, m in enumerate(per):
        r = np.linspace(0.2, 1.0, m)
        span = 2.0 * (2 * np.pi / classes)  # two K-ths of a turn
        t = np.linspace(k * 2 * np.pi / classes, k * 2 * np.pi / classes + span, m)
        t = t + rng.standard_normal(m) * noise
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, k))
    return _finish(np.concatenate(xs), np.concatenate(ys), "spiral", classes,
                   n=n, noise=noise, seed=seed)


def circles(n: int = 1000, noise: float = 0.08, factor: float = 0.5, seed: int = 0) -> Dataset:
    """Two concentric rings (sklearn.make_circles): the inner class is enclosed by the outer."""
    from sklearn.datasets import make_circles

    if not 0.0 < factor < 1.0:
        raise DataError(f"factor {factor} must be in (0, 1)")
    x, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return _finish(x, y, "circles", 2, n=n, noise=noise, factor=factor, seed=seed)


def moons(n: int = 1000, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half-moons (sklearn.make_moons), centred on the origin."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    x = (x - np.array([0.5, 0.25])) / 1.2
    return _finish(x, y, "moons", 2, n=n, noise=noise, seed=seed)


def xor(n: int = 1000, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Four quadrants, opposite quadrants share a class: no line separates them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    x = x + np.sign(x) * 0.08  # a margin around the axes keeps the classes clean
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    x = x + rng.standard_normal(x.shape) * noise
    return _finish(x, y, "xor", 2, n=n, noise=noise, seed=seed)


def gauss(n: int = 1000, classes: int = 3, noise: float = 0.25, seed: int = 0) -> Dataset:
    """Gaussian blobs with centres evenly spaced on a circle of radius 1."""
    _check_int("classes", classes, 2, MAX_DATASET_CLASSES)
    rng = np.random.default_rng(seed)
    per = _split_counts(n, classes)
    xs, ys = [], []
    for k, m in enumerate(per):
        a = 2 * np.pi * k / classes
        xs.append(rng.standard_normal((m, 2)) * noise + [np.cos(a), np.sin(a)])
        ys.append(np.full(m, k))
    return _finish(np.concatenate(xs), np.concatenate(ys), "gauss", classes,
                   n=n, noise=noise, seed=seed)


def cloud(n: int = 1000, seed: int = 222) -> Dataset:
    """The fold scenes' input: ``tanh`` of standard Gaussian points, filling (-1, 1)^2.

    Labelled by a wedge: class 1 above ``y = |x| - 0.3``, class 0 below. No straight line
    separates the classes, but two ReLU units can (one per side of the wedge).
    """
    rng = np.random.default_rng(seed)
    x = np.tanh(rng.standard_normal((n, 2)))
    y = (x[:, 1] > np.abs(x[:, 0]) - 0.3).astype(np.int64)
    return _finish(x, y, "cloud", 2, n=n, seed=seed)


def digits(n: int | None = None, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits 0-9 (1797 images), 64-D in [0, 1]."""
    from sklearn.datasets import load_digits

    b = load_digits()
    x = b.data.astype(np.float32) / 16.0
    y = b.target.astype(np.int64)
    images = b.images.astype(np.float32) / 16.0
    if n is not None and n < len(x):
        sel = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
        x, y, images = x[sel], y[sel], images[sel]
    d = _finish(x, y, "digits", 10, n=len(x), seed=seed)
    return Dataset(d.x, d.y, d.name, d.classes, d.params, images)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "circles": circles,
    "cloud": cloud,
    "digits": digits,
    "gauss": gauss,
    "moons": moons,
    "spiral": spiral,
    "xor": xor,
}


def dataset(name: str, **params: Any) -> Dataset:
    """Make a registered dataset: ``dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)``.

    Parameters a generator does not take are rejected with the list of those it does.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(sorted(DATASETS))}")
    fn = DATASETS[name]
    allowed = inspect.signature(fn).parameters
    params = {k: v for k, v in params.items() if v is not None}
    bad = [k for k in params if k not in allowed]
    if bad:
        raise DataError(f"dataset {name!r} does not take {', '.join(bad)}; "
                        f"it takes: {', '.join(allowed)}")
    if "n" in params:
        _check_int("n", params["n"], 2, MAX_DATASET_POINTS)
    if "classes" in params:
        _check_int("classes", params["classes"], 2, MAX_DATASET_CLASSES)
    if "seed" in params:
        _check_int("seed", params["seed"], 0, MAX_SEED)
        params["seed"] = int(params["seed"])
    for name in ("noise", "factor"):
        if name in params:
            params[name] = _check_real(name, params[name], 0.0, 10.0)
    return fn(**params)


def _check_int(name: str, v: Any, lo: int, hi: int) -> None:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) \
            or not lo <= v <= hi:
        shown = repr(v) if len(repr(v)) <= 40 else f"{repr(v)[:37]}..."
        raise DataError(f"{name} {shown} must be an integer in [{lo}, {hi}]")


def _check_real(name: str, v: Any, lo: float, hi: float) -> float:
    """A real number in [lo, hi] as a float; -0.0 becomes 0.0 (numpy refuses a negative
    zero scale)."""
    ok = not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.integer,
                                                                 np.floating))
    if ok:
        try:
            f = float(v)
        except OverflowError:
            ok = False
        else:
            ok = math.isfinite(f) and lo <= f <= hi
    if not ok:
        shown = repr(v) if len(repr(v)) <= 40 else f"{repr(v)[:37]}..."
        raise DataError(f"{name} {shown} must be a number in [{lo:g}, {hi:g}]")
    return f + 0.0


def _split_counts(n: int, k: int) -> list[int]:
    base, extra = divmod(n, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def as_dataset(data: Any, where: str = "data",
               error: type[SpacefoldError] = DataError) -> Dataset:
    """A :class:`Dataset` as given, a registered dataset by name, or an ``(x, y)`` pair of
    arrays or tensors ((N, D) finite points, (N,) whole non-negative labels); anything else
    is one line (``error``, naming ``where``: "scene 'spiral'", "Recorder")."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, str):
        return dataset(data)
    if isinstance(data, tuple | list) and len(data) == 2:
        x, y = (_numbers(v, where, error) for v in data)
        if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
            raise error(f"{where}: data (x, y) must be (N, D) points and (N,) labels, got "
                        f"{x.shape} and {y.shape}")
        if len(x) == 0 or not np.isfinite(x).all():
            raise error(f"{where}: data x must be finite and non-empty")
        if not np.isfinite(y).all() or not np.array_equal(y, np.round(y)) or (y < 0).any():
            raise error(f"{where}: data labels y must be class numbers 0, 1, ...")
        yi = y.astype(np.int64)
        return Dataset(x.astype(np.float32), yi, "data", int(yi.max()) + 1)
    raise error(f"{where}: data must be a Dataset, a dataset name or an (x, y) pair, got "
                f"{type(data).__name__}")


def _numbers(v: Any, where: str, error: type[SpacefoldError]) -> np.ndarray:
    torch = sys.modules.get("torch")        # a tensor means torch is loaded; never import it
    if torch is not None and isinstance(v, torch.Tensor):
        return np.asarray(v.detach().cpu().numpy(), dtype=np.float64)
    try:
        return np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise error(f"{where}: data must be numeric arrays or tensors, got "
                    f"{type(v).__name__}") from None
