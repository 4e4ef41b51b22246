"""``activations`` (scenes/activations.py): each grid, point and curve is torch's function
applied elementwise, the motion is the straight line between, and the colour modes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scene_helpers import all_frames, panel, renders_tiny, segment
from spacefold.render.frame import Plot, Space
from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene


@pytest.fixture(scope="module")
def tl() -> Timeline:
    return build_scene("activations")


def test_renders_tiny_mp4_and_png(tl: Timeline, tmp_path: Path) -> None:
    renders_tiny("activations", tl, tmp_path)


TORCH: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "sin": torch.sin,
}


def test_activation_grids_are_the_functions_applied_elementwise(
        tl: Timeline) -> None:
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


def test_activations_keep_every_point_on_screen(tl: Timeline) -> None:
    for f in all_frames(tl):
        space = panel(f, Space)
        x0, x1, y0, y1 = space.view
        p = space.points
        assert (p[:, 0] >= x0).all() and (p[:, 0] <= x1).all()
        assert (p[:, 1] >= y0).all() and (p[:, 1] <= y1).all()


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
