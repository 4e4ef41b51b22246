"""``affine`` (scenes/affine.py): at the end of each part the plane is the matrix applied, in
between it moves along the matrix path with straight lines, and nothing leaves the screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scene_helpers import all_frames, panel, renders_tiny, segment, texts_of
from spacefold.render.frame import Space
from spacefold.render.geometry2d import fit_view
from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene


@pytest.fixture(scope="module")
def tl() -> Timeline:
    return build_scene("affine")


def test_renders_tiny_mp4_and_png(tl: Timeline, tmp_path: Path) -> None:
    renders_tiny("affine", tl, tmp_path)


def fit_affine(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares (A, b) with dst ≈ src·Aᵀ + b for (M, 2) points; and the worst residual."""
    X = np.concatenate([src, np.ones((len(src), 1))], axis=1)      # (M, 3)
    coef, *_ = np.linalg.lstsq(X, dst, rcond=None)                  # (3, 2)
    res = float(np.abs(X @ coef - dst).max())
    return coef[:2].T, coef[2], res



def test_affine_at_the_end_of_each_part_is_the_matrix_applied(tl: Timeline
                                                              ) -> None:
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
        tl: Timeline) -> None:
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
        tl: Timeline) -> None:
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
