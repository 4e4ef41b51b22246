"""trace/regions.py: exact decision maps (issue 11). ``Trace.region_map`` is ``argmax model(x)``
at every pixel centre, checked against torch on full 1920×1080 grids of random networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.trace.regions import pixel_centres, region_coverage
from trace_helpers import random_mlp

ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.1), "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid}


def _net(widths: list[int], acts: list[str], seed: int, scale: float) -> nn.Sequential:
    return random_mlp(widths, acts, seed, scale, ACTS)


def _torch_labels(net: nn.Module, extent: tuple, size: tuple[int, int]) -> tuple[np.ndarray,
                                                                                  np.ndarray]:
    """The float64 torch network's class and top-two margin at every pixel centre."""
    xs, ys = pixel_centres(extent, size)
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
    with torch.no_grad():
        out = net.double()(pts).numpy()
    net.float()
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64).reshape(size[1], size[0]), \
            np.abs(out[:, 0]).reshape(size[1], size[0])
    top = np.sort(out, axis=1)
    return out.argmax(axis=1).reshape(size[1], size[0]), \
        (top[:, -1] - top[:, -2]).reshape(size[1], size[0])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(1, 3), width=st.integers(2, 32), classes=st.integers(1, 6),
       acts=st.lists(st.sampled_from(["relu", "leaky_relu", "tanh", "sigmoid"]), min_size=1,
                     max_size=3),
       seed=st.integers(0, 2 ** 16), scale=st.floats(0.5, 4.0),
       box=st.tuples(st.floats(-6, 2), st.floats(0.01, 8), st.floats(-6, 2), st.floats(0.01, 8)))
def test_region_map_is_the_networks_decision_at_every_pixel(depth: int, width: int,
                                                            classes: int, acts: list[str],
                                                            seed: int, scale: float,
                                                            box: tuple) -> None:
    torch.set_num_threads(1)
    net = _net([2] + [width] * depth + [classes], acts, seed, scale)
    extent = (box[0], box[0] + box[1], box[2], box[2] + box[3])
    size = (1920, 1080)
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    got = tr.region_map(extent, size)
    want, margin = _torch_labels(net, extent, size)
    assert got.shape == (1080, 1920) and got.dtype == np.int64
    wrong = got != want
    assert not (wrong & (margin >= 1e-6)).any(), \
        f"{int(wrong.sum())} pixels differ, smallest margin there {margin[wrong].min()}"


def test_region_map_rows_start_at_ymin_and_columns_at_xmin() -> None:
    d = sf.dataset("moons", n=100, seed=0)
    tr = sf.trace(sf.build("2-8-3", activation="relu", seed=1), d, grid=False)
    lab = tr.region_map((-2, 3, -1.5, 2), (20, 10))
    x = -2 + (np.arange(20) + 0.5) * 0.25
    y = -1.5 + (np.arange(10) + 0.5) * 0.35
    gx, gy = np.meshgrid(x, y)
    want = tr.predict(tr.carry(np.stack([gx.ravel(), gy.ravel()], axis=1))[-1])
    np.testing.assert_array_equal(lab, want.reshape(10, 20))
    assert len(np.unique(lab)) > 1


def test_coverage_gives_boundary_pixels_their_class_fractions() -> None:
    net = nn.Sequential(nn.Linear(2, 2))
    with torch.no_grad():       # class 1 where x > 0.3: a vertical boundary
        net[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -0.3]))
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    cov = region_coverage(tr, (0.0, 1.0, 0.0, 1.0), (10, 4), ss=8)
    assert (cov.labels[:, :3] == 0).all() and (cov.labels[:, 3:] == 1).all()
    cols = np.unique(cov.edges % 10)
    np.testing.assert_array_equal(cols, [2, 3])
    frac1 = cov.fractions[:, 1].reshape(4, 2)
    np.testing.assert_allclose(frac1[:, 0], 0.0)      # pixel [0.2, 0.3]: all class 0
    np.testing.assert_allclose(frac1[:, 1], 1.0)      # pixel [0.3, 0.4]: all class 1


@pytest.mark.parametrize("size, extent", [((0, 10), (0, 1, 0, 1)), ((10, 10), (1, 0, 0, 1)),
                                          ((10, 10), (0, np.nan, 0, 1))])
def test_bad_region_requests_are_one_line_errors(size: tuple, extent: tuple) -> None:
    tr = sf.trace(sf.build("2-3-2", activation="relu"), np.zeros((1, 2)), grid=False)
    with pytest.raises(TraceError):
        tr.region_map(extent, size)


@pytest.mark.parametrize("head", [nn.Sigmoid, nn.Hardsigmoid, nn.LogSigmoid, nn.Tanh,
                                  nn.Identity])
def test_a_one_output_map_cuts_where_predict_does(head: type[nn.Module]) -> None:
    """The threshold of one output (0.5 after a sigmoid or hard sigmoid, log 0.5 after a
    log-sigmoid, else 0) is Trace.predict's, in the certified blocks and the pixel pass."""
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), head())
    with torch.no_grad():      # the head's input is ~x + 0.3 y: every head cuts it at 0
        net[0].weight.copy_(torch.linspace(-0.2, 0.2, 16).reshape(8, 2))
        net[0].weight[0] = torch.tensor([0.5, 0.15])
        net[0].bias.zero_()
        net[2].weight.zero_()
        net[2].weight[0, 0] = 2.0
        net[2].bias.zero_()
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    extent, size = (-3.0, 3.0, -3.0, 3.0), (96, 64)
    xs, ys = pixel_centres(extent, size)
    gx, gy = np.meshgrid(xs, ys)
    want = tr.predict(tr.carry(np.stack([gx.ravel(), gy.ravel()], axis=1))[-1])
    got = tr.region_map(extent, size)
    assert 0 < want.mean() < 1          # both classes in view
    np.testing.assert_array_equal(got, want.reshape(size[1], size[0]))
