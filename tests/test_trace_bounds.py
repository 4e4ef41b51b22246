"""Certified boxes (``spacefold.trace.bounds``): a box the bounds give one class has that class
at every point (torch is the oracle), and the region map built from certified blocks equals the
map of every pixel through the network, pixel for pixel."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import spacefold as sf
from spacefold.trace.bounds import certified_map
from spacefold.trace.regions import box_net, full_region_map, pixel_centres, region_map
from trace_helpers import random_mlp

ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.1), "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid, "hardtanh": nn.Hardtanh, "gelu": nn.GELU, "elu": nn.ELU,
        "relu6": nn.ReLU6, "sin": sf.model.Sine}
HEADS = {"none": None, "softmax": lambda: nn.Softmax(dim=-1), "sigmoid": nn.Sigmoid}


def _net(widths: list[int], acts: list[str], head: str, seed: int,
         scale: float) -> nn.Sequential:
    return random_mlp(widths, acts, seed, scale, ACTS, HEADS[head]).eval()


nets = st.builds(
    lambda depth, width, classes, acts, head, seed, scale: _net(
        [2] + [width] * depth + [classes], acts, head, seed, scale),
    depth=st.integers(1, 3), width=st.integers(2, 32), classes=st.integers(1, 6),
    acts=st.lists(st.sampled_from(sorted(ACTS)), min_size=1, max_size=3),
    head=st.sampled_from(sorted(HEADS)), seed=st.integers(0, 2 ** 16),
    scale=st.floats(0.5, 4.0))
extents = st.tuples(st.floats(-60, 20), st.floats(0.01, 80), st.floats(-60, 20),
                    st.floats(0.01, 80)).map(lambda b: (b[0], b[0] + b[1], b[2], b[2] + b[3]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=nets, extent=extents, w=st.integers(1, 400), h=st.integers(1, 300))
def test_the_map_from_certified_blocks_equals_the_full_map(net: nn.Module, extent: tuple,
                                                           w: int, h: int) -> None:
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    fast = region_map(tr, extent, (w, h))
    full = full_region_map(tr, extent, (w, h))
    assert fast.dtype == full.dtype == np.int64
    assert np.array_equal(fast, full), f"{int((fast != full).sum())} of {w * h} pixels differ"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=nets, seed=st.integers(0, 2 ** 16), size=st.floats(1e-3, 3.0))
def test_a_certified_box_has_its_class_at_every_point(net: nn.Module, seed: int,
                                                      size: float) -> None:
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-8, 8, (64, 2))
    half = rng.uniform(0, size, (64, 2))
    got = box_net(tr).classify(centres, half)
    inside = centres[:, None] + half[:, None] * rng.uniform(-1, 1, (64, 200, 2))  # (64, 200, 2)
    corners = centres[:, None] + half[:, None] * np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]])
    pts = np.concatenate([inside, corners], axis=1)
    with torch.no_grad():
        out = net.double()(torch.from_numpy(pts.reshape(-1, 2))).numpy()
    net.float()
    want = tr.predict(out).reshape(64, -1)
    sure = got >= 0
    assert (want[sure] == got[sure, None]).all()


def test_most_of_a_relu_spiral_map_is_certified_in_blocks() -> None:
    """Not a vacuous speed-up: on a trained ReLU net most pixels skip the network."""
    from spacefold.scenes.zoo import spiral_net

    model, data, _ = spiral_net("2-100-5")
    tr = sf.trace(model, data, grid=False)
    for extent in ((-1.6, 1.6, -1.6, 1.6), (-25.0, 25.0, -25.0, 25.0)):
        xs, ys = pixel_centres(extent, (640, 640))
        got = certified_map(box_net(tr), xs, ys)
        assert got is not None and (got >= 0).mean() > 0.8
        assert np.array_equal(np.where(got >= 0, got, 0),
                              np.where(got >= 0, full_region_map(tr, extent, (640, 640)), 0))


def test_networks_it_cannot_follow_fall_back_to_every_pixel() -> None:
    net = nn.Sequential(nn.Linear(2, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))
    tr = sf.trace(net, np.zeros((1, 2)), grid=False)
    assert not box_net(tr).ok
    xs, ys = pixel_centres((-1, 1, -1, 1), (50, 40))
    assert certified_map(box_net(tr), xs, ys) is None
    assert np.array_equal(region_map(tr, (-1, 1, -1, 1), (50, 40)),
                          full_region_map(tr, (-1, 1, -1, 1), (50, 40)))
