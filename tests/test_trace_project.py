"""trace/project.py: display space — a wide stage is shown through a labelled PCA shared by its
layer, so ``+b`` moves every point by the projected bias; narrow stages keep their
coordinates."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import spacefold as sf
from spacefold.trace.project import pad
from trace_helpers import small_trace


def test_wide_stage_is_shown_through_labelled_pca() -> None:
    from sklearn.decomposition import PCA

    _, data, t = small_trace("2-100-2-5", "relu", n=300)
    k = next(k for k, s in enumerate(t.stages) if s.kind == "relu" and s.dim == 100)
    p = t.projection(k)
    assert p.kind == "pca" and p.d == 100 and p.dims == 2
    assert re.fullmatch(r"PCA of 100-D · \d+% of variance shown", p.label)
    ref = PCA(n_components=2, svd_solver="full").fit(t.stages[k].values.astype(np.float64))
    assert p.explained is not None and p.components is not None
    np.testing.assert_allclose(p.explained, ref.explained_variance_ratio_, rtol=1e-6)
    assert f"{100 * ref.explained_variance_ratio_.sum():.0f}%" in p.label
    np.testing.assert_allclose(p.components.T @ p.components, np.eye(2), atol=1e-10)
    shown = t.display(k)
    assert shown.shape == (len(data), 2)
    ref_scores = ref.transform(t.stages[k].values.astype(np.float64))
    for j in range(2):  # equal up to the sign of each component
        sign = np.sign(shown[:, j] @ ref_scores[:, j])
        np.testing.assert_allclose(shown[:, j], sign * ref_scores[:, j], rtol=1e-6, atol=1e-8)
    # the layer's W·x and +b stages are shown through the same plane, and that plane's signs
    # agree with the input's display, so the motion into the layer is meaningful
    wx = k - 2
    assert t.stages[wx].kind == "linear"
    assert t.projection(wx).components is p.components
    first, prev = t.display(wx), t.display(wx - 1)
    first, prev = first - first.mean(axis=0), prev - prev.mean(axis=0)
    assert all(first[:, j] @ prev[:, j] >= 0 for j in range(2))


@pytest.fixture(scope="module")
def spiral_100() -> sf.Trace:
    torch.manual_seed(0)
    d = sf.dataset("spiral", classes=5, n=500, seed=0)
    net = sf.build("2-100-5", activation="relu", seed=0)
    sf.train(net, d, epochs=60, lr=0.02, seed=0)
    return sf.trace(net, d, grid=sf.GridSpec(lines=9, verts=40, regions=0))


@pytest.mark.parametrize("dims", [2, 3])
def test_bias_moves_every_point_by_the_projected_bias(spiral_100: sf.Trace, dims: int) -> None:
    """Issue 11: the stages of a wide layer share one projection, so the displayed +b stage
    minus the displayed W·x stage is one nonzero vector P·b for every point and grid vertex."""
    t = spiral_100
    for layer in (1, 2):
        wx = next(k for k, s in enumerate(t.stages) if s.layer == layer and s.kind == "linear")
        assert t.stages[wx + 1].kind == "bias" and t.ops[wx].kind == "bias"
        b = t.ops[wx].params["b"]                 # op wx makes stage wx + 1
        a, c = t.display(wx, dims), t.display(wx + 1, dims)
        span = float(np.ptp(np.concatenate([a, c]), axis=0).max())
        shift = c - a
        proj = t.projection(wx + 1, dims)
        assert proj.kind == "pca" and t.projection(wx, dims).components is proj.components
        assert proj.components is not None
        want = b @ proj.components
        assert float(np.abs(want).max()) > 1e-3 * span, "the bias shows no shift"
        np.testing.assert_allclose(shift, np.broadcast_to(want, shift.shape), rtol=0,
                                   atol=1e-6 * span)
        ga, gc = t.display_grid(wx, dims), t.display_grid(wx + 1, dims)
        assert ga is not None and gc is not None
        np.testing.assert_allclose(gc - ga, np.broadcast_to(want, ga.shape), rtol=0,
                                   atol=1e-6 * span)
        # the label still says what is shown, for every stage of the layer
        for k in t.layer_stages(wx):
            assert re.fullmatch(rf"PCA of {t.stages[k].dim}-D · \d+% of variance shown",
                                t.projection(k, dims).label)


def test_narrow_stages_are_shown_in_their_own_coordinates() -> None:
    _, _, t = small_trace("2-1-3", "relu")
    for k, s in enumerate(t.stages):
        p = t.projection(k, dims=3)
        assert p.kind == "identity" and p.label == ""
        np.testing.assert_array_equal(t.display(k, 3), pad(s.values, 3))
    # 3-D stage in a 2-D view is projected, and said so
    last = len(t.stages) - 1
    assert t.projection(last, 2).kind == "pca" and "PCA of 3-D" in t.projection(last, 2).label


def test_display_at_equals_at_when_stages_fit() -> None:
    _, _, t = small_trace("2-2-2", "relu")
    for k in range(1, len(t.stages)):
        pts, grid = t.display_at(k, 0.4)
        np.testing.assert_allclose(pts, t.at(k, 0.4), rtol=1e-6, atol=1e-7)
        assert grid is not None
        np.testing.assert_allclose(grid, t.grid_at(k, 0.4), rtol=1e-6, atol=1e-7)
