"""Exact decision maps (issue 11): ``Trace.region_map`` is ``argmax model(x)`` at every pixel
centre, checked against torch on full 1920×1080 grids of random networks."""

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

ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.1), "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid}


def _net(widths: list[int], acts: list[str], seed: int, scale: float) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1])
        with torch.no_grad():
            lin.weight.mul_(scale)
            lin.bias.mul_(scale)
        layers.append(lin)
        if i < len(widths) - 2:
            a = acts[i % len(acts)]
            layers.append(ACTS[a]())
    return nn.Sequential(*layers)


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


def test_both_backends_paint_a_region_layer_at_the_panels_own_pixels() -> None:
    """A RegionLayer is asked for exactly the display pixels the panel shows, and what it
    paints lands one source pixel per display pixel (no resampling)."""
    from spacefold.render import rasterize
    from spacefold.render.frame import Frame, RegionLayer, Space
    from spacefold.render.kernel2d import KernelBackend

    calls: list[tuple[tuple[float, ...], tuple[int, int]]] = []

    def paint(ext: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
        calls.append((ext, size))
        xs, ys = pixel_centres(ext, size)
        img = np.zeros((size[1], size[0], 4), dtype=np.uint8)
        img[..., 0] = np.where(xs[None, :] > 0.1, 255, 0)      # red right of x = 0.1
        img[..., 1] = np.where(ys[:, None] > -0.3, 255, 0)     # green above y = -0.3
        img[..., 3] = 255
        return img

    frame = Frame([((0.1, 0.1, 0.8, 0.8), Space(view=(-1, 1, -1, 1), regions=RegionLayer(paint),
                                                 axes=False))])
    for backend in (KernelBackend((400, 300)), KernelBackend((400, 300), rasterize.NUMPY)):
        calls.clear()
        buf = backend.draw(frame)[..., :3].astype(int)
        assert len(calls) == 1
        (x0, x1, y0, y1), (w, h) = calls[0]
        assert 200 <= w <= 400 and 200 <= h <= 300
        # the view (widened to the panel's aspect) within a pixel
        assert x0 <= -1 + 1 / w and x1 >= 1 - 1 / w and y0 <= -1 + 1 / h and y1 >= 1 - 1 / h
        red = (buf[..., 0] > 200).any(axis=0)
        cols = np.flatnonzero(red)
        # first red column: where x = 0.1 lies, to one pixel
        left = np.flatnonzero((buf[..., 1] > 200).any(axis=0))[0]       # the panel's left
        want = left + (0.1 - x0) / (x1 - x0) * w
        assert abs(cols[0] - want) <= 1.0, type(backend).__name__
        green_rows = np.flatnonzero((buf[..., 1] > 200).any(axis=1))
        top = green_rows[0]
        want_bottom = top + (y1 - (-0.3)) / (y1 - y0) * h
        assert abs(green_rows[-1] + 1 - want_bottom) <= 1.0, type(backend).__name__
        backend.draw(frame)
        assert len(calls) == 1, "an unchanged view is painted once"


def test_exact_regions_paint_the_class_colours_and_mix_only_boundaries() -> None:
    from spacefold.colors import CLASS_COLORS
    from spacefold.scenes.regionmaps import ExactRegions

    d = sf.dataset("spiral", classes=3, n=150, seed=0)
    tr = sf.trace(sf.build("2-16-3", activation="relu", seed=2), d, grid=False)
    ext, size = (-1.2, 1.2, -1.0, 1.0), (96, 80)
    reg = ExactRegions(tr, alpha=0.5, dim=0.6)
    img = reg.layer().paint(ext, size)
    lab = tr.region_map(ext, size)
    assert img.shape == (80, 96, 4) and (img[..., 3] == 128).all()
    want = np.round(CLASS_COLORS[lab] * 0.6 * 255)
    same = (np.abs(img[..., :3] - want) <= 1).all(axis=2)
    interior = np.ones_like(same)
    interior[:, 1:] &= lab[:, 1:] == lab[:, :-1]
    interior[:, :-1] &= lab[:, 1:] == lab[:, :-1]
    interior[1:] &= lab[1:] == lab[:-1]
    interior[:-1] &= lab[1:] == lab[:-1]
    assert same[interior].all() and not same.all()   # boundaries are mixed colours
    assert reg.layer(0.5).paint(ext, size)[0, 0, 3] == 64
