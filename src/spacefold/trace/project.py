"""Display space: stages wider than the view are shown through an honest, labelled PCA."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.errors import TraceError


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
    """The display projection of one stage's data values (N, d) on its own (see
    :func:`fit_layer` for the stages of a layer, which share one)."""
    return fit_layer([values], dims, previous)[0]


def fit_layer(stages: list[np.ndarray], dims: int,
              previous: np.ndarray | None = None) -> list[Projection]:
    """One display projection shared by the stages of a layer (``W·x``, ``+b``, activation:
    a list of (N, d) data values, the layer's output last), one Projection per stage.

    For d > dims: the PCA of the layer's output (its mean and principal axes), applied
    unchanged to every stage, so ``+b`` moves every point by exactly ``P·b`` and the
    activation's fold is seen against the same axes. Each stage's ``explained`` is the share
    of *its own* variance the shared plane shows. Each component's sign is chosen to agree
    with ``previous`` (the display coordinates (N, dims) of the stage before the layer, compared
    with the layer's first stage), so motion into the layer is meaningful.
    """
    d = stages[0].shape[1]
    if d <= dims:
        return [Projection("identity", d, dims) for _ in stages]
    for v in stages:
        if not np.isfinite(v).all():
            raise TraceError(f"a stage of {d} dimensions has NaN or infinite values (weights "
                             f"too large for float32?); it cannot be projected for display")
    z = stages[-1].astype(np.float64)
    mean = z.mean(axis=0)
    # PCA of the data scaled to at most 1: the axes do not change, and huge values no longer
    # overflow the scatter matrix
    zc = z - mean
    scale = float(np.abs(zc).max(initial=0.0))
    comps, _ = _principal_axes(zc / scale if scale > 0 else zc, dims)   # (d, dims)
    if previous is not None:
        first = stages[0].astype(np.float64) @ comps
        first -= first.mean(axis=0)
        prev = previous - previous.mean(axis=0)
        for j in range(dims):
            if float(first[:, j] @ prev[:, j]) < 0:
                comps[:, j] *= -1
    out = []
    for v in stages:
        zc = v.astype(np.float64)
        zc = zc - zc.mean(axis=0)
        zc /= max(float(np.abs(zc).max(initial=0.0)), 1e-300)
        total = max(float((zc ** 2).sum()), 1e-300)
        explained = ((zc @ comps) ** 2).sum(axis=0) / total
        out.append(Projection("pca", d, dims, mean, comps, explained))
    return out


def _principal_axes(zc: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``dims`` principal axes of centred data (N, d), largest first, and their
    variances followed by the total variance (dims + 1,).

    For d <= N, an eigendecomposition of the (d, d) scatter matrix: 5x faster than the SVD of
    the data for a (1000, 100) layer, which matters when the live app re-projects every update.
    One BLAS thread: beside the video encoder on 2 cores, more threads only contend.
    """
    with _one_blas_thread():
        n, d = zc.shape
        if d <= n:
            evals, evecs = np.linalg.eigh(zc.T @ zc)            # ascending
            order = np.argsort(evals)[::-1][:dims]
            top = np.clip(evals[order], 0.0, None)
            return evecs[:, order].copy(), np.append(top, max(float(evals.clip(0).sum()),
                                                              1e-300))
        _, sv, vt = np.linalg.svd(zc, full_matrices=False)
        var = sv ** 2
        axes, top = vt[:dims].T, var[:dims]
        if axes.shape[1] < dims:   # fewer points than display axes: pad with more axes
            axes, top = _complete(axes, d, dims), np.append(top, np.zeros(dims - len(top)))
        return axes.copy(), np.append(top, var.sum())


def _complete(axes: np.ndarray, d: int, dims: int) -> np.ndarray:
    """``axes`` (d, k) orthonormal, k < dims <= d, completed to (d, dims) orthonormal columns
    (the extra ones carry no variance: the points lie in the span of the first k)."""
    extra = np.eye(d)[:, :dims]
    q, _ = np.linalg.qr(np.concatenate([axes, extra], axis=1))
    out = q[:, :dims].copy()
    out[:, :axes.shape[1]] = axes      # the principal axes keep their signs
    return out


_CONTROLLER: list[Any] = []


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread (threadpoolctl's controller is built once: its
    library scan costs more than a small decomposition)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
