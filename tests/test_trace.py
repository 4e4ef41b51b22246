"""The Trace's geometry: grid lines, interpolation, decision regions, display space, export."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import RenderError, TraceError
from spacefold.trace.project import pad

SMALL = sf.GridSpec(lines=5, verts=25, regions=40)


def _trace(arch: str = "2-3-2", activation: str = "tanh", n: int = 80, seed: int = 0,
           grid: sf.GridSpec | bool = SMALL, head: str | None = None) -> tuple[nn.Module,
                                                                              sf.Dataset,
                                                                              sf.Trace]:
    data = sf.dataset("moons", n=n, seed=seed)
    model = sf.build(arch, activation=activation, head=head, seed=seed)
    return model, data, sf.trace(model, data, grid=grid)


def _straightness(polylines: np.ndarray | None) -> np.ndarray:
    """(L, V, d) → (L,) ratio of the 2nd to the 1st singular value of each centred polyline:
    0 for collinear vertices (rank ≤ 1), of order 1 for a curve."""
    assert polylines is not None
    out = []
    for line in polylines.astype(np.float64):
        s = np.linalg.svd(line - line.mean(axis=0), compute_uv=False)
        out.append(0.0 if s[0] < 1e-9 else (s[1] if len(s) > 1 else 0.0) / s[0])
    return np.array(out)


# -- grid lines --------------------------------------------------------------------------

@pytest.mark.parametrize("arch, activation", [
    ("2-2-2", "tanh"), ("2-3-2", "relu"), ("2-5-1", "sigmoid"), ("2-1-3", "tanh"),
    ("2-4-3-2", "identity"),  # all affine: every grid line stays straight to the end
])
def test_grid_lines_stay_straight_through_linear_and_bias_stages(arch: str,
                                                                activation: str) -> None:
    """W·x and +b map straight lines to straight lines: a grid line that is straight going
    into an affine stage is straight in it, and in every frame of the move into it."""
    _, _, t = _trace(arch, activation)
    assert _straightness(t.stages[0].grid).max() < 1e-6
    affine = [k for k, s in enumerate(t.stages) if s.kind in ("linear", "bias")]
    checked = 0
    for k in affine:
        before = _straightness(t.stages[k - 1].grid)
        straight = before < 1e-5                           # lines straight at stage k-1
        g = t.stages[k].grid
        assert g is not None and g.shape == (2 * SMALL.lines, SMALL.verts, t.stages[k].dim)
        assert _straightness(g)[straight].max(initial=0) < 1e-4, t.stages[k].name
        for alpha in (0.1, 0.5, 0.9):
            mid = _straightness(t.grid_at(k, alpha))[straight]
            assert mid.max(initial=0) < 1e-4, (t.stages[k].name, alpha)
        checked += int(straight.sum())
    assert checked >= 2 * 2 * SMALL.lines  # at least the first layer's W·x and +b, every line
    if activation == "identity":
        assert _straightness(t.stages[-1].grid).max() < 1e-4


def test_grid_lines_bend_through_a_nonlinear_stage() -> None:
    """So that the straightness check above is not vacuous."""
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 1.0], [-1.0, 2.0]]))
        lin.bias.zero_()
    model = nn.Sequential(lin, nn.Tanh())
    t = sf.trace(model, np.array([[0.5, 0.5], [-1.0, 1.0]], dtype=np.float32),
                 grid=sf.GridSpec(extent=(-1, 1, -1, 1), lines=5, verts=25, regions=0))
    assert _straightness(t.stages[2].grid).max() < 1e-5
    assert _straightness(t.stages[-1].grid).min() > 1e-2


def test_input_grid_covers_the_extent() -> None:
    ext = (-2.0, 2.0, -1.0, 3.0)
    t = sf.trace(sf.build("2-2"), np.zeros((3, 2)),
                 grid=sf.GridSpec(extent=ext, lines=3, verts=4, regions=0))
    g = t.stages[0].grid
    assert g is not None
    assert (g[..., 0].min(), g[..., 0].max()) == (-2, 2)
    assert (g[..., 1].min(), g[..., 1].max()) == (-1, 3)
    assert t.extent == ext and t.regions is None


def test_auto_extent_contains_every_point() -> None:
    _, data, t = _trace()
    assert t.extent is not None
    x0, x1, y0, y1 = t.extent
    assert (data.x[:, 0] > x0).all() and (data.x[:, 0] < x1).all()
    assert (data.x[:, 1] > y0).all() and (data.x[:, 1] < y1).all()


def test_no_grid_for_other_input_dims_or_when_off() -> None:
    model = sf.build("3-4-2")
    t = sf.trace(model, np.ones((5, 3)))
    assert all(s.grid is None for s in t.stages) and t.regions is None
    with pytest.raises(TraceError, match="no grid"):
        t.grid_at(1, 0.5)
    _, _, off = _trace(grid=False)
    assert off.stages[0].grid is None and off.regions is None


# -- interpolation -----------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["2-2-2", "2-5-3-1"])
def test_at_ends_are_the_two_stages_zero_padded(arch: str) -> None:
    _, data, t = _trace(arch, "relu")
    for k in range(1, len(t.stages)):
        a, b = t.stages[k - 1], t.stages[k]
        d = max(a.dim, b.dim)
        start, end, mid = t.at(k, 0.0), t.at(k, 1.0), t.at(k, 0.5)
        assert start.shape == end.shape == mid.shape == (len(data), d)
        np.testing.assert_array_equal(start[:, :a.dim], a.values)
        np.testing.assert_array_equal(end[:, :b.dim], b.values)
        assert not start[:, a.dim:].any() and not end[:, b.dim:].any()  # zero padding
        np.testing.assert_allclose(mid, (pad(a.values, d) + pad(b.values, d)) / 2, rtol=1e-6)


@pytest.mark.parametrize("arch", ["2-2-2", "2-5-3", "2-1-2"])
def test_at_a_linear_stage_is_the_matrix_path(arch: str) -> None:
    """at(k, t) = ((1-t)·I + t·W)·x, with I the embedding of the smaller space in the larger."""
    model, _, t = _trace(arch, "relu")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    ks = [k for k, s in enumerate(t.stages) if s.kind == "linear"]
    assert len(ks) == len(linears)
    for k, lin in zip(ks, linears, strict=True):
        w = lin.weight.detach().double().numpy()                 # (d_out, d_in)
        d_out, d_in = w.shape
        d = max(d_in, d_out)
        big_w = np.zeros((d, d))
        big_w[:d_out, :d_in] = w
        x = pad(t.stages[k - 1].values.astype(np.float64), d)    # (N, d)
        for alpha in (0.0, 0.3, 0.5, 1.0):
            m = (1 - alpha) * np.eye(d) + alpha * big_w
            np.testing.assert_allclose(t.at(k, alpha), x @ m.T, rtol=1e-5, atol=1e-6)


def test_grid_at_ends_are_the_stage_grids() -> None:
    _, _, t = _trace("2-3-2")
    for k in range(1, len(t.stages)):
        ga, gb = t.stages[k - 1].grid, t.stages[k].grid
        assert ga is not None and gb is not None
        np.testing.assert_array_equal(t.grid_at(k, 0.0)[..., :ga.shape[-1]], ga)
        np.testing.assert_array_equal(t.grid_at(k, 1.0)[..., :gb.shape[-1]], gb)


@pytest.mark.parametrize("k", [0, -1, 99])
def test_at_rejects_stage_out_of_range(k: int) -> None:
    _, _, t = _trace()
    with pytest.raises(TraceError, match="out of range"):
        t.at(k, 0.5)


# -- decision regions --------------------------------------------------------------------

@pytest.mark.parametrize("arch, activation, head", [
    ("2-8-8-3", "relu", None),
    ("2-6-2", "tanh", "softmax"),
    ("2-6-1", "sin", "sigmoid"),   # one output: thresholded at 0.5
    ("2-6-1", "relu", None),        # one raw output: thresholded at 0
])
def test_regions_equal_the_models_decision_on_the_plane(arch: str, activation: str,
                                                        head: str | None) -> None:
    data = sf.dataset("gauss", classes=3, n=90, seed=0)
    model = sf.build(arch, activation=activation, head=head, seed=0)
    if arch.endswith("3"):  # a little training, so the plane holds more than one class
        sf.train(model, data, epochs=30, lr=0.05, target_accuracy=None)
    t = sf.trace(model, data.x, grid=SMALL)
    r = t.regions
    assert r is not None and r.res == SMALL.regions and r.extent == t.extent
    # pixel centres, computed here independently; row 0 is ymin, column 0 is xmin
    x0, x1, y0, y1 = r.extent
    res = r.res
    xs = x0 + (np.arange(res) + 0.5) * (x1 - x0) / res
    ys = y0 + (np.arange(res) + 0.5) * (y1 - y0) / res
    gx, gy = np.meshgrid(xs, ys)
    plane = torch.from_numpy(np.stack([gx, gy], axis=-1).reshape(-1, 2))   # (res·res, 2)
    with torch.no_grad():
        out = copy.deepcopy(model).double()(plane).numpy()                  # float64 oracle
        out32 = model(plane.float()).numpy()
    if out.shape[1] == 1:
        expected = (out[:, 0] > (0.5 if head == "sigmoid" else 0.0)).astype(np.int64)
    else:
        expected = out.argmax(axis=1)
    np.testing.assert_array_equal(r.labels, expected.reshape(res, res))
    assert r.labels.dtype == np.int64
    np.testing.assert_allclose(r.outputs.reshape(-1, out.shape[1]), out32, rtol=1e-4, atol=1e-5)
    assert len(np.unique(r.labels)) > 1  # the test would be weak on a one-class plane


def test_predict_and_accuracy_agree_with_torch() -> None:
    model, data, t = _trace("2-8-2", "relu")
    with torch.no_grad():
        pred = model(torch.from_numpy(data.x)).argmax(1).numpy()
    np.testing.assert_array_equal(t.predict(), pred)
    assert t.accuracy() == pytest.approx(float((pred == data.y).mean()))
    assert t.classes == 2 and t.n == len(data)


# -- display space -----------------------------------------------------------------------

def test_wide_stage_is_shown_through_labelled_pca() -> None:
    from sklearn.decomposition import PCA

    _, data, t = _trace("2-100-2-5", "relu", n=300)
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
    _, _, t = _trace("2-1-3", "relu")
    for k, s in enumerate(t.stages):
        p = t.projection(k, dims=3)
        assert p.kind == "identity" and p.label == ""
        np.testing.assert_array_equal(t.display(k, 3), pad(s.values, 3))
    # 3-D stage in a 2-D view is projected, and said so
    last = len(t.stages) - 1
    assert t.projection(last, 2).kind == "pca" and "PCA of 3-D" in t.projection(last, 2).label


def test_display_at_equals_at_when_stages_fit() -> None:
    _, _, t = _trace("2-2-2", "relu")
    for k in range(1, len(t.stages)):
        pts, grid = t.display_at(k, 0.4)
        np.testing.assert_allclose(pts, t.at(k, 0.4), rtol=1e-6, atol=1e-7)
        assert grid is not None
        np.testing.assert_allclose(grid, t.grid_at(k, 0.4), rtol=1e-6, atol=1e-7)


# -- carrying other points ---------------------------------------------------------------

def test_carry_matches_stages_and_runs_the_tail() -> None:
    _, data, t = _trace("2-6-4-3", "sin")
    carried = t.carry(data.x)
    assert len(carried) == len(t.stages)
    for c, s in zip(carried, t.stages, strict=True):
        np.testing.assert_allclose(c, s.values, rtol=1e-5, atol=1e-6)
    g0 = t.stages[0].grid
    assert g0 is not None
    for c, s in zip(t.carry(g0.reshape(-1, 2)), t.stages, strict=True):
        assert s.grid is not None
        np.testing.assert_allclose(c.reshape(s.grid.shape), s.grid, rtol=1e-5, atol=1e-6)
    for k in range(len(t.stages)):
        tail = t.carry(t.stages[k].values, start=k)
        assert len(tail) == len(t.stages) - k
        np.testing.assert_allclose(tail[-1], t.output, rtol=1e-5, atol=1e-6)
    with pytest.raises(TraceError, match="points must be"):
        t.carry(np.zeros((4, 3)))


# -- names, colours, export --------------------------------------------------------------

def test_stage_names_kinds_and_meta() -> None:
    _, _, t = _trace("2-2-2", "relu", grid=False)
    assert [s.name for s in t.stages] == ["input", "layer 1 · W·x", "layer 1 · +b",
                                          "layer 1 · ReLU", "layer 2 · W·x", "layer 2 · +b"]
    assert [s.kind for s in t.stages] == ["input", "linear", "bias", "relu", "linear", "bias"]
    assert [s.layer for s in t.stages] == [0, 1, 1, 1, 2, 2]
    assert [s.short for s in t.stages] == ["input", "W·x", "+b", "ReLU", "W·x", "+b"]
    assert t.meta["arch"] == "2-2-2" and t.meta["dataset"] == "moons"
    assert t.max_dim == 2 and len(t) == 6


def test_colors() -> None:
    _, data, t = _trace(grid=False)
    assert t.colors("class").shape == (len(data), 3)
    pc = t.colors("position")
    assert pc.shape == (len(data), 3) and (pc >= 0).all() and (pc <= 1).all()
    with pytest.raises(TraceError, match="'rainbow'"):
        t.colors("rainbow")


def test_to_npz_round_trips(tmp_path: Path) -> None:
    _, data, t = _trace("2-4-3", "tanh")
    path = t.to_npz(tmp_path / "trace.npz")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["trace.npz"]
    with np.load(path, allow_pickle=False) as z:
        assert list(z["names"]) == [s.name for s in t.stages]
        assert list(z["kinds"]) == [s.kind for s in t.stages]
        for s in t.stages:
            np.testing.assert_array_equal(z[f"stage{s.index}_values"], s.values)
            assert s.grid is not None
            np.testing.assert_array_equal(z[f"stage{s.index}_grid"], s.grid)
        np.testing.assert_array_equal(z["labels"], data.y)
        assert t.regions is not None
        np.testing.assert_array_equal(z["regions_labels"], t.regions.labels)
        np.testing.assert_array_equal(z["regions_extent"], np.array(t.regions.extent))


def test_to_npz_into_a_missing_folder_raises_and_writes_nothing(tmp_path: Path) -> None:
    _, _, t = _trace(grid=False)
    with pytest.raises(RenderError, match="does not exist"):
        t.to_npz(tmp_path / "nope" / "trace.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, match", [
    ({"lines": 1}, "grid lines 1"), ({"verts": 1}, "grid vertices 1"),
    ({"regions": 1}, "region resolution 1"), ({"extent": (1.0, 0.0, 0.0, 1.0)}, "extent"),
    ({"extent": (0.0, float("nan"), 0.0, 1.0)}, "extent"),
])
def test_gridspec_rejects_bad_values(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(TraceError, match=match):
        sf.GridSpec(**kwargs)  # type: ignore[arg-type]
