"""The numbers behind ``affine``, ``activations`` and ``argmax-softmax`` (PyTorch as oracle
where it has the function), and a tiny render of each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spacefold.render.frame import Bars, Frame, Plot, Space
from spacefold.render.geometry2d import fit_view
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes import build_scene, render

SCENES = ("affine", "activations", "argmax-softmax")


@pytest.fixture(scope="module")
def timelines() -> dict[str, Timeline]:
    return {name: build_scene(name) for name in SCENES}


def segment(tl: Timeline, name: str) -> Segment:
    return next(s for s in tl.segments if s.name == name)


def panel(frame: Frame, kind: type[Any], i: int = 0) -> Any:
    found = [p for _, p in frame.panels if isinstance(p, kind)]
    return found[i]


def all_frames(tl: Timeline, fps: float = 8.0) -> list[Frame]:
    return list(tl.frames(fps))


def texts_of(frame: Frame) -> list[str]:
    return [t.text for _, p in frame.panels for t in p.texts]


def fit_affine(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares (A, b) with dst ≈ src·Aᵀ + b for (M, 2) points; and the worst residual."""
    X = np.concatenate([src, np.ones((len(src), 1))], axis=1)      # (M, 3)
    coef, *_ = np.linalg.lstsq(X, dst, rcond=None)                  # (3, 2)
    res = float(np.abs(X @ coef - dst).max())
    return coef[:2].T, coef[2], res


# -- affine -------------------------------------------------------------------------------

def test_affine_at_the_end_of_each_part_is_the_matrix_applied(timelines: dict[str, Timeline]
                                                              ) -> None:
    tl = timelines["affine"]
    grid, pts = tl.meta["grid"], tl.meta["points"]
    assert set(tl.meta["steps"]) == {"rotation", "scaling", "shear", "shift", "one matrix"}
    for name, (A, b) in tl.meta["steps"].items():
        f = segment(tl, name).frame(1.0)
        space = panel(f, Space)
        np.testing.assert_allclose(space.grid, grid @ A.T + b, atol=1e-12)
        np.testing.assert_allclose(space.points, pts @ A.T + b, atol=1e-12)
        shown = " ".join(texts_of(f)).replace("−", "-")
        for v in (A[0, 0], A[1, 0], A[0, 1], A[1, 1], b[0], b[1]):   # the numbers on screen
            assert f"{0.0 if abs(v) < 5e-3 else v:.2f}" in shown, (name, v, shown)
    # the composition is the parts multiplied: H·S·R, then the shift
    steps = tl.meta["steps"]
    M = steps["shear"][0] @ steps["scaling"][0] @ steps["rotation"][0]
    np.testing.assert_allclose(steps["one matrix"][0], M, atol=1e-12)
    np.testing.assert_allclose(steps["one matrix"][1], steps["shift"][1], atol=1e-12)


def test_affine_moves_along_the_matrix_path_and_lines_stay_straight(
        timelines: dict[str, Timeline]) -> None:
    tl = timelines["affine"]
    grid = tl.meta["grid"]
    src = grid.reshape(-1, 2)
    for name, (A, b) in tl.meta["steps"].items():
        for alpha in (0.1, 0.3, 0.5, 0.9):
            g = panel(segment(tl, name).frame(alpha), Space).grid      # (L, V, 2)
            At, bt, res = fit_affine(src, g.reshape(-1, 2))
            assert res < 1e-9, "every frame is an affine image of the grid"
            # on the path (1-t)·I + t·A (and t·b) for one t in [0, 1]
            d = np.concatenate([(A - np.eye(2)).ravel(), b])
            e = np.concatenate([(At - np.eye(2)).ravel(), bt])
            t = float(d @ e / (d @ d))
            assert -1e-9 <= t <= 1 + 1e-9
            np.testing.assert_allclose(e, t * d, atol=1e-9)
            # each polyline straight: every vertex on the line through its ends
            u = g[:, -1] - g[:, 0]                                     # (L, 2)
            w = g - g[:, :1]                                           # (L, V, 2)
            cross = u[:, None, 0] * w[..., 1] - u[:, None, 1] * w[..., 0]
            assert np.abs(cross).max() < 1e-9


def test_affine_keeps_every_point_on_screen_and_the_grid_fills_it(
        timelines: dict[str, Timeline]) -> None:
    tl = timelines["affine"]
    src = tl.meta["grid"].reshape(-1, 2)
    half = float(np.abs(src).max())
    for f in all_frames(tl):
        rect, space = f.panels[0]
        assert isinstance(space, Space) and space.points is not None and space.grid is not None
        x0, x1, y0, y1 = space.view
        p = space.points
        assert (p[:, 0] > x0).all() and (p[:, 0] < x1).all()
        assert (p[:, 1] > y0).all() and (p[:, 1] < y1).all()
        # the drawn view (grown to equal aspect) lies inside the image of the grid's square
        x0, x1, y0, y1 = fit_view(space.view, rect[2] * 1280, rect[3] * 720)
        A, b, _ = fit_affine(src, space.grid.reshape(-1, 2))
        corners = np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]])
        assert np.abs(np.linalg.solve(A, (corners - b).T)).max() < half


# -- activations ----------------------------------------------------------------------------

TORCH: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "sin": torch.sin,
}


def test_activation_grids_are_the_functions_applied_elementwise(
        timelines: dict[str, Timeline]) -> None:
    tl = timelines["activations"]
    views = tl.meta["views"]
    assert list(views) == list(TORCH)
    for name, fn in TORCH.items():
        v = views[name]
        assert v.grid0.min() == -2.0 and v.grid0.max() == 2.0      # the grid of [-2, 2]²
        want = fn(torch.from_numpy(v.grid0)).numpy()
        np.testing.assert_allclose(v.grid1, want, atol=1e-6)
        np.testing.assert_allclose(v.points1, fn(torch.from_numpy(v.points0)).numpy(),
                                   atol=1e-6)
        np.testing.assert_allclose(v.curve_y, fn(torch.from_numpy(v.curve_x)).numpy(),
                                   atol=1e-12)
        f = segment(tl, v.pretty).frame(1.0)
        np.testing.assert_allclose(panel(f, Space).grid, want, atol=1e-6)
        curve = panel(f, Plot).lines[-1].xy
        np.testing.assert_allclose(curve[:, 1], fn(torch.from_numpy(curve[:, 0])).numpy(),
                                   atol=1e-12)
        # half way: the straight line between the grid and its image
        mid = panel(segment(tl, v.pretty).frame(0.35), Space).grid
        t = np.nanmax(np.abs(mid - v.grid0)) / np.nanmax(np.abs(want - v.grid0))
        np.testing.assert_allclose(mid, (1 - t) * v.grid0 + t * want, atol=1e-6)


def test_activations_keep_every_point_on_screen(timelines: dict[str, Timeline]) -> None:
    for f in all_frames(timelines["activations"]):
        space = panel(f, Space)
        x0, x1, y0, y1 = space.view
        p = space.points
        assert (p[:, 0] >= x0).all() and (p[:, 0] <= x1).all()
        assert (p[:, 1] >= y0).all() and (p[:, 1] <= y1).all()


# -- argmax / softmax -----------------------------------------------------------------------

def test_argmax_is_one_hot_at_np_argmax(timelines: dict[str, Timeline]) -> None:
    tl = timelines["argmax-softmax"]
    s = tl.meta["scores"]
    assert s.shape == (25,)
    k = int(np.argmax(s))
    assert tl.meta["argmax"] == k == 3          # the index MISSION.md names
    f = segment(tl, "argmax").frame(1.0)
    want = np.zeros(25)
    want[k] = 1.0
    np.testing.assert_array_equal(panel(f, Bars).values, want)
    assert f"argmax = {k}" in texts_of(f)


def test_softmax_bars_are_torch_softmax_and_sum_to_one(timelines: dict[str, Timeline]) -> None:
    tl = timelines["argmax-softmax"]
    s = torch.from_numpy(tl.meta["scores"])
    f = segment(tl, "softmax").frame(1.0)
    p = panel(f, Bars).values
    np.testing.assert_allclose(p, torch.softmax(s, 0).numpy(), atol=1e-12)
    assert abs(p.sum() - 1.0) < 1e-12
    assert any("Σ p = 1.000" in t for t in texts_of(f))
    # every frame of the sharpening is an exact softmax(s / T), summing to 1
    seg = segment(tl, "softmax, T → 0")
    for alpha in (0.2, 0.6, 1.0):
        q = panel(seg.frame(alpha), Bars).values
        assert abs(q.sum() - 1.0) < 1e-12
        T = float((s[0] - s[1]) / (np.log(q[0]) - np.log(q[1])))   # recover T from two bars
        np.testing.assert_allclose(q, torch.softmax(s / T, 0).numpy(), atol=1e-12)


def test_bars_stay_inside_their_limits(timelines: dict[str, Timeline]) -> None:
    for f in all_frames(timelines["argmax-softmax"]):
        bars = panel(f, Bars)
        lo, hi = bars.ylim
        assert lo <= min(bars.values.min(), 0.0) and bars.values.max() < hi


# -- every scene renders ----------------------------------------------------------------

@pytest.mark.parametrize("name", SCENES)
def test_scene_renders_tiny_mp4_and_png(name: str, tmp_path: Path,
                                        timelines: dict[str, Timeline]) -> None:
    tl = timelines[name]
    assert 10.0 <= tl.duration <= 25.0
    assert isinstance(tl.meta.get("caption"), str) and tl.meta["caption"]
    mp4 = render(name, tmp_path / f"{name}.mp4", size=(192, 108), fps=4)
    av = pytest.importorskip("av")
    with av.open(str(mp4)) as f:
        frames = sum(1 for _ in f.decode(video=0))
    assert frames == tl.n_frames(4)
    png = render(name, tmp_path / f"{name}.png", size=(192, 108), fps=4)
    from PIL import Image

    with Image.open(png) as im:
        a = np.asarray(im.convert("L"), dtype=np.float64)
    assert a.shape[0] >= 108 and a.shape[1] >= 192
    assert a.std() > 5.0, "the picture is not blank"


# -- color_by: offered only where it colours something ----------------------------------------

def test_activations_colour_by_quadrant_or_by_start() -> None:
    from spacefold.colors import CLASS_COLORS
    from spacefold.scenes import build_scene

    by_class = build_scene("activations", color_by="class").poster().panels[1][1]
    by_start = build_scene("activations", color_by="position").poster().panels[1][1]
    views = build_scene("activations").meta["views"]
    p0 = next(iter(views.values())).points0
    quadrant = (p0[:, 0] > 0).astype(int) + 2 * (p0[:, 1] > 0)
    np.testing.assert_allclose(by_class.colors, CLASS_COLORS[quadrant])   # type: ignore[union-attr]
    assert not np.allclose(by_start.colors, by_class.colors)              # type: ignore[union-attr]
    assert "quadrant" in by_class.subtitle                                # type: ignore[union-attr]


def test_argmax_softmax_colours_bars_by_class_and_refuses_position() -> None:
    from spacefold.colors import CLASS_COLORS
    from spacefold.errors import SpacefoldError
    from spacefold.scenes import build_scene

    bars = build_scene("argmax-softmax", color_by="class").poster().panels[0][1]
    n = len(bars.values)                                                  # type: ignore[union-attr]
    np.testing.assert_allclose(bars.colors,                               # type: ignore[union-attr]
                               CLASS_COLORS[np.arange(n) % len(CLASS_COLORS)])
    with pytest.raises(SpacefoldError, match="by class only") as e:
        build_scene("argmax-softmax", color_by="position")
    assert "\n" not in str(e.value)
