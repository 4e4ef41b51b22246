"""trace/core.py: the Trace — grids carried through the stages, interpolation, decision
regions, carrying other points, names, colours and the .npz export."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.trace.project import pad
from trace_helpers import SMALL, small_trace


def _straightness(polylines: np.ndarray | None) -> np.ndarray:
    """(L, V, d) → (L,) ratio of the 2nd to the 1st singular value of each centred polyline:
    0 for collinear vertices (rank ≤ 1), of order 1 for a curve."""
    assert polylines is not None
    out = []
    for line in polylines.astype(np.float64):
        s = np.linalg.svd(line - line.mean(axis=0), compute_uv=False)
        out.append(0.0 if s[0] < 1e-9 else (s[1] if len(s) > 1 else 0.0) / s[0])
    return np.array(out)


@pytest.mark.parametrize("arch, activation", [
    ("2-2-2", "tanh"), ("2-3-2", "relu"), ("2-5-1", "sigmoid"), ("2-1-3", "tanh"),
    ("2-4-3-2", "identity"),  # all affine: every grid line stays straight to the end
])
def test_grid_lines_stay_straight_through_linear_and_bias_stages(arch: str,
                                                                activation: str) -> None:
    """W·x and +b map straight lines to straight lines: a grid line that is straight going
    into an affine stage is straight in it, and in every frame of the move into it."""
    _, _, t = small_trace(arch, activation)
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


def test_no_grid_for_other_input_dims_or_when_off() -> None:
    model = sf.build("3-4-2")
    t = sf.trace(model, np.ones((5, 3)))
    assert all(s.grid is None for s in t.stages) and t.regions is None
    with pytest.raises(TraceError, match="no grid"):
        t.grid_at(1, 0.5)
    _, _, off = small_trace(grid=False)
    assert off.stages[0].grid is None and off.regions is None


@pytest.mark.parametrize("arch", ["2-2-2", "2-5-3-1"])
def test_at_ends_are_the_two_stages_zero_padded(arch: str) -> None:
    _, data, t = small_trace(arch, "relu")
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
    model, _, t = small_trace(arch, "relu")
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
    _, _, t = small_trace("2-3-2")
    for k in range(1, len(t.stages)):
        ga, gb = t.stages[k - 1].grid, t.stages[k].grid
        assert ga is not None and gb is not None
        np.testing.assert_array_equal(t.grid_at(k, 0.0)[..., :ga.shape[-1]], ga)
        np.testing.assert_array_equal(t.grid_at(k, 1.0)[..., :gb.shape[-1]], gb)


@pytest.mark.parametrize("k", [0, -1, 99])
def test_at_rejects_stage_out_of_range(k: int) -> None:
    _, _, t = small_trace()
    with pytest.raises(TraceError, match="out of range"):
        t.at(k, 0.5)


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
    model, data, t = small_trace("2-8-2", "relu")
    with torch.no_grad():
        pred = model(torch.from_numpy(data.x)).argmax(1).numpy()
    np.testing.assert_array_equal(t.predict(), pred)
    assert t.accuracy() == pytest.approx(float((pred == data.y).mean()))
    assert t.classes == 2 and t.n == len(data)


def test_carry_matches_stages_and_runs_the_tail() -> None:
    _, data, t = small_trace("2-6-4-3", "sin")
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


def test_stage_names_kinds_and_meta() -> None:
    _, _, t = small_trace("2-2-2", "relu", grid=False)
    assert [s.name for s in t.stages] == ["input", "layer 1 · W·x", "layer 1 · +b",
                                          "layer 1 · ReLU", "layer 2 · W·x", "layer 2 · +b"]
    assert [s.kind for s in t.stages] == ["input", "linear", "bias", "relu", "linear", "bias"]
    assert [s.layer for s in t.stages] == [0, 1, 1, 1, 2, 2]
    assert [s.short for s in t.stages] == ["input", "W·x", "+b", "ReLU", "W·x", "+b"]
    assert t.meta["arch"] == "2-2-2" and t.meta["dataset"] == "moons"
    assert t.max_dim == 2 and len(t) == 6


def test_colors() -> None:
    _, data, t = small_trace(grid=False)
    assert t.colors("class").shape == (len(data), 3)
    pc = t.colors("position")
    assert pc.shape == (len(data), 3) and (pc >= 0).all() and (pc <= 1).all()
    with pytest.raises(TraceError, match="'rainbow'"):
        t.colors("rainbow")
