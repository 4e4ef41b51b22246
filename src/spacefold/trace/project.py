"""Display space: stages wider than the view are shown through an honest, labelled PCA."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """Maps a stage's (M, d) values to (M, dims) display coordinates.

    ``kind`` is "identity" (d ≤ dims: the true coordinates, zero-padded) or "pca".
    """

    kind: str
    d: int
    dims: int
    mean: np.ndarray | None = None        # (d,)
    components: np.ndarray | None = None  # (d, dims) orthonormal columns
    explained: np.ndarray | None = None   # (dims,) fraction of variance per component

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return pad(z, self.dims)
        assert self.mean is not None and self.components is not None
        return (z - self.mean) @ self.components

    @property
    def label(self) -> str:
        """"" for true coordinates, else e.g. "PCA of 100-D · 71% of variance shown"."""
        if self.kind == "identity":
            return ""
        assert self.explained is not None
        return f"PCA of {self.d}-D · {100 * float(self.explained.sum()):.0f}% of variance shown"


def pad(z: np.ndarray, dims: int) -> np.ndarray:
    """Embed (..., d) in (..., dims) by zero padding (d ≤ dims)."""
    d = z.shape[-1]
    if d == dims:
        return z
    out = np.zeros(z.shape[:-1] + (dims,), dtype=z.dtype)
    out[..., :d] = z
    return out


def fit(values: np.ndarray, dims: int, previous: np.ndarray | None = None) -> Projection:
    """The display projection of a stage's data values (N, d).

    For d > dims, PCA; each component's sign is chosen to agree with ``previous`` (the
    neighbouring stage's display coordinates (N, dims)) so motion between stages is meaningful.
    """
    d = values.shape[1]
    if d <= dims:
        return Projection("identity", d, dims)
    z = values.astype(np.float64)
    mean = z.mean(axis=0)
    _, s, vt = _svd(z - mean)
    comps = vt[:dims].T.copy()                     # (d, dims)
    var = s ** 2
    explained = var[:dims] / max(var.sum(), 1e-300)
    if previous is not None:
        proj = (z - mean) @ comps
        for j in range(dims):
            if float(proj[:, j] @ previous[:, j]) < 0:
                comps[:, j] *= -1
    return Projection("pca", d, dims, mean, comps, explained)


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD on one BLAS thread: (1000, 100) takes ~20 ms that way, but 0.3-1.5 s when
    OpenBLAS threads contend with the encoder on a busy 2-core machine (measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return np.linalg.svd(a, full_matrices=False)
    with threadpool_limits(limits=1, user_api="blas"):
        return np.linalg.svd(a, full_matrices=False)
