"""The spiral scenes (``spiral``, ``bottleneck``, ``extrapolation``): the numbers behind the
pictures, checked against the torch models, and tiny renders that decode.

Networks come from the zoo's per-process cache, so each trains once per test session.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene, render
from spacefold.scenes.bottleneck import BOTTLENECK
from spacefold.scenes.extrapolation import EXTRAPOLATORS
from spacefold.scenes.planes import scale_extent
from spacefold.scenes.zoo import spiral_net
from spacefold.scenes.zoom_maps import ZoomMaps
from spacefold.trace.analysis import Boundary, boundary_segments, period_vectors, raster

NAMES = ("spiral", "bottleneck", "extrapolation")


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    """OpenBLAS threads spin against each other on a loaded 2-core machine (a 1000×100 SVD
    takes 0.5 s instead of 20 ms); one thread keeps this file fast."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def timelines() -> dict[str, Timeline]:
    return {name: build_scene(name) for name in NAMES}


def f64(model: Any) -> Any:
    """A float64 copy of a torch model (a zoo Network as its nn.Sequential): the oracle, on
    the same footing as the trace."""
    model = model.to_torch() if hasattr(model, "to_torch") else model
    return copy.deepcopy(model).double().eval()


def argmax_of(model: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M,) torch argmax on points (M, d) and (M,) the margin between the top two scores."""
    with torch.no_grad():
        out = model(torch.as_tensor(x, dtype=torch.float64)).numpy()
    top2 = np.sort(out, axis=1)[:, -2:]
    return out.argmax(axis=1), top2[:, 1] - top2[:, 0]


# -- spiral ------------------------------------------------------------------------------------

def test_spiral_network_fits(timelines: dict[str, Timeline]) -> None:
    tl = timelines["spiral"]
    model, data, _ = spiral_net("2-100-5")
    pred, _ = argmax_of(f64(model), data.x)
    acc = float((pred == data.y).mean())
    assert acc >= 0.99
    assert tl.meta["accuracy"] == pytest.approx(acc)
    assert f"{100 * acc:.1f}%" in tl.poster().heading         # the accuracy is on screen
    assert tl.meta["caption"]


def test_spiral_regions_are_the_model(timelines: dict[str, Timeline]) -> None:
    tr = timelines["spiral"].meta["trace"]
    r = tr.regions
    x0, x1, y0, y1 = r.extent
    pred, margin = argmax_of(f64(spiral_net("2-100-5")[0]), raster(r.extent, r.res, r.res))
    bad = (pred != r.labels.ravel()) & (margin > 1e-9)
    assert not bad.any()
    assert r.res >= 300 and (x1 - x0) > 2.5                  # fine, and wider than the data


# -- bottleneck --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bottleneck_parts(timelines: dict[str, Timeline]) -> tuple[list[Boundary], Any, tuple]:
    tl = timelines["bottleneck"]
    model = f64(spiral_net(BOTTLENECK)[0])
    return tl.meta["boundaries"], model[-1], tl.meta["view"]


def test_bottleneck_plane_is_the_last_layers_input(timelines: dict[str, Timeline]) -> None:
    tl = timelines["bottleneck"]
    tr, kb = tl.meta["trace"], tl.meta["bottleneck_stage"]
    assert tr.stages[kb].dim == 2
    assert tr.ops[kb].kind == "linear" and kb == max(i for i, o in enumerate(tr.ops)
                                                     if o.kind == "linear")
    assert tl.meta["accuracy"] >= 0.99


def test_bottleneck_lines_split_the_two_classes_they_name(bottleneck_parts: Any) -> None:
    bounds, last, view = bottleneck_parts
    assert 2 <= len(bounds) <= 10                             # "the few straight lines"
    span = max(view[1] - view[0], view[3] - view[2])
    for bd in bounds:
        n = bd.normal / np.linalg.norm(bd.normal)
        eps = min(1e-4 * span, 1e-3 * bd.length)
        t = np.linspace(0.02, 0.98, 49)[:, None]
        on = bd.start + t * (bd.end - bd.start)               # (49, 2) points on the segment
        plus, _ = argmax_of(last, on + eps * n)
        minus, _ = argmax_of(last, on - eps * n)
        assert (plus == bd.k).all(), f"{bd.k}|{bd.j}: + side is {set(plus)}"
        assert (minus == bd.j).all(), f"{bd.k}|{bd.j}: − side is {set(minus)}"
        # on the line the two scores tie, and they are the top two
        with torch.no_grad():
            s = last(torch.as_tensor(on, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(s[:, bd.k], s[:, bd.j], atol=1e-9 * np.abs(s).max())
        assert (np.sort(s, axis=1)[:, -3] <= s[:, bd.k] + 1e-9).all()


def test_bottleneck_lines_are_every_change_of_decision(bottleneck_parts: Any) -> None:
    """Wherever two neighbouring pixels of the view decide differently, a drawn segment
    passes between them: the segments are the whole boundary, not a sample of it."""
    bounds, last, view = bottleneck_parts
    res = 300
    pred, _ = argmax_of(last, raster(view, res, res))
    lab = pred.reshape(res, res)
    px = max((view[1] - view[0]) / res, (view[3] - view[2]) / res)
    xy = raster(view, res, res).reshape(res, res, 2)
    mids = np.concatenate([((xy[:, 1:] + xy[:, :-1]) / 2)[lab[:, 1:] != lab[:, :-1]],
                           ((xy[1:] + xy[:-1]) / 2)[lab[1:] != lab[:-1]]])
    assert len(mids) > 0
    dist = np.full(len(mids), np.inf)
    for bd in bounds:
        d = bd.end - bd.start
        t = np.clip(((mids - bd.start) @ d) / (d @ d), 0, 1)
        dist = np.minimum(dist, np.hypot(*(mids - (bd.start + t[:, None] * d)).T))
    assert dist.max() <= px


def test_boundary_segments_by_hand() -> None:
    """Three classes with scores x, y, 0 in the box [-1, 1]²: the boundaries are the ray
    x = y > 0 (classes 0|1), and the two half-axes x = 0, y < 0 and y = 0, x < 0."""
    w, b = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.zeros(3)
    segs = {(s.k, s.j): s for s in boundary_segments(w, b, (-1, 1, -1, 1))}
    assert set(segs) == {(0, 1), (0, 2), (1, 2)}
    ends = {key: sorted(map(tuple, np.round([s.start, s.end], 9) + 0.0))
            for key, s in segs.items()}
    assert ends[(0, 1)] == [(0.0, 0.0), (1.0, 1.0)]
    assert ends[(0, 2)] == [(0.0, -1.0), (0.0, 0.0)]
    assert ends[(1, 2)] == [(-1.0, 0.0), (0.0, 0.0)]
    assert boundary_segments(w, b, (2, 3, 5, 6)) == []       # class 1 wins all of that box


# -- extrapolation -----------------------------------------------------------------------------

def test_extrapolation_networks_fit(timelines: dict[str, Timeline]) -> None:
    tl = timelines["extrapolation"]
    assert min(tl.meta["accuracies"]) >= 0.99 and tl.meta["accuracy"] >= 0.99
    relu, sine = tl.meta["periods"]
    assert relu is None and sine is not None        # the cell only where it is periodic


@pytest.mark.parametrize("which", [0, 1])
def test_zoom_region_map_is_argmax_of_the_model(timelines: dict[str, Timeline],
                                                which: int) -> None:
    zm: ZoomMaps = timelines["extrapolation"].meta["zoom_maps"][which]
    arch, act, kw = EXTRAPOLATORS[which]
    model = f64(spiral_net(arch, act, **kw)[0])
    for level in (0, zm.levels // 2, zm.levels):
        pred, margin = argmax_of(model, zm.samples(level))
        bad = (pred != zm.labels(level).ravel()) & (margin > 1e-9)
        assert not bad.any(), f"level {level}: {bad.sum()} pixels differ"
    assert zm.zoom(zm.levels) == pytest.approx(16.0)
    for zoom in (1.0, 1.7, 4.0, 9.3, 16.0):                   # every view is fully covered
        e, v = zm.extent(zm.level(zoom)), scale_extent(zm.base, zoom)
        assert e[0] <= v[0] and e[1] >= v[1] and e[2] <= v[2] and e[3] >= v[3]


def test_sine_network_repeats_and_relu_runs_off_in_rays(timelines: dict[str, Timeline]) -> None:
    relu_tr, sine_tr = timelines["extrapolation"].meta["traces"]
    rng = np.random.default_rng(0)
    x = rng.uniform(-20, 20, (500, 2))
    sine = f64(spiral_net(EXTRAPOLATORS[1][0], "sin", **EXTRAPOLATORS[1][2])[0])
    for p in period_vectors(sine_tr):
        with torch.no_grad():
            a = sine(torch.as_tensor(x)).numpy()
            b = sine(torch.as_tensor(x + 3 * p)).numpy()
        np.testing.assert_allclose(a, b, atol=1e-8)
    relu = f64(spiral_net("2-100-5")[0])
    u = np.stack([np.cos(np.linspace(0, 2 * np.pi, 720)), np.sin(np.linspace(0, 2 * np.pi,
                                                                              720))], 1)
    near, _ = argmax_of(relu, 40 * u)
    far, _ = argmax_of(relu, 4000 * u)
    assert (near == far).mean() >= 0.98                      # far out: constant along rays


# -- renders -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_scene_renders_tiny(name: str, tmp_path: Path, timelines: dict[str, Timeline]) -> None:
    import av
    from PIL import Image

    mp4, png = tmp_path / f"{name}.mp4", tmp_path / f"{name}.png"
    render(name, mp4, size=(192, 108), fps=4)
    with av.open(str(mp4)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert (s.codec_context.width, s.codec_context.height) == (192, 108)
    tl = timelines[name]
    assert n == tl.n_frames(4) and 10 <= tl.duration <= 20
    render(name, png, size=(192, 108), still="poster")
    assert Image.open(png).size == (192, 108)
