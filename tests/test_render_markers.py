"""Class marker shapes (issue 12, for greyscale): ``markers="shapes"`` draws each class with
its own outline, in the C kernel, the numpy kernel (the same pixels) and the 3-D renderer,
through ``sf.render`` and ``--markers``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import spacefold as sf
from spacefold import colors
from spacefold.render import markers, rasterize
from spacefold.render.frame import Space3D

needs_c = pytest.mark.skipif(rasterize.COMPILED is None, reason="the C kernels are not built")


def _one(shape: int, kernels: rasterize.Kernels | None = None, r: float = 14.0,
         at: tuple[float, float] = (50.3, 50.6)) -> np.ndarray:
    """Alpha (0-1) of one white marker of radius ``r`` on a clear 100x100 buffer."""
    buf = np.zeros((100, 100, 4), np.uint8)
    rasterize.draw_discs(buf, np.array([at]), np.array([[1.0, 1.0, 1.0, 1.0]]), r,
                         kernels=kernels, shape=np.array([shape]))
    return buf[..., 3] / 255.0


@needs_c
@pytest.mark.parametrize("opaque", [True, False])
def test_numpy_markers_draw_the_c_kernels_pixels(opaque: bool) -> None:
    rng = np.random.default_rng(3)
    n = 400
    xy = rng.uniform(-12, 332, (n, 2))
    rgba = np.c_[rng.uniform(0, 1, (n, 3)), rng.uniform(0.2, 1.0, n)]
    shape = rng.integers(-2, len(markers.SHAPES) + 3, n)     # unknown indices are discs
    out = []
    for k in (rasterize.COMPILED, rasterize.NUMPY):
        buf = np.zeros((180, 320, 4), np.uint8)
        buf[..., :3] = 30
        buf[..., 3] = 255 if opaque else 90
        rasterize.draw_discs(buf, xy, rgba, 5.5, (3, 2, 310, 170), k, shape=shape)
        out.append(buf.astype(int))
    assert np.abs(out[0] - out[1]).max() <= 2
    assert (out[0] != out[1]).mean() < 1e-3


def test_a_circle_marker_is_the_disc() -> None:
    assert np.array_equal(_one(0), _one(-1))     # shape 0, and an unknown shape: discs
    buf = np.zeros((100, 100, 4), np.uint8)
    rasterize.draw_discs(buf, np.array([[50.3, 50.6]]), np.array([[1.0, 1.0, 1.0, 1.0]]), 14.0)
    assert np.array_equal(buf[..., 3] / 255.0, _one(0))


@pytest.mark.parametrize("k", range(len(markers.SHAPES)))
def test_each_shape_is_its_outline(k: int) -> None:
    """Ink = the outline's area (antialiasing adds and removes half a pixel along the edge),
    and pixels well inside / outside are fully on / off."""
    a = _one(k)
    poly = 14.0 * markers.POLYS[markers.STARTS[k]:markers.STARTS[k + 1]]
    if len(poly) == 0:
        area = np.pi * 14.0 ** 2
    else:
        x, y = poly.T
        area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert a.sum() == pytest.approx(area, rel=0.03)
    assert a[50, 50] == 1.0 and a[0, 0] == 0.0


def test_shapes_are_told_apart_and_triangles_point_their_way() -> None:
    masks = [(_one(k) > 0.5) for k in range(len(markers.SHAPES))]
    for i in range(len(masks)):
        for j in range(i):
            assert (masks[i] != masks[j]).sum() > 20, (markers.SHAPES[i], markers.SHAPES[j])
    up, down = _one(markers.SHAPES.index("triangle")), _one(markers.SHAPES.index("down-triangle"))
    # y grows downwards: an upward triangle has its wide base in the lower half (5/9 of its
    # area lies on the base's side of its centre)
    assert up[51:].sum() > 1.15 * up[:51].sum()
    assert down[:51].sum() > 1.15 * down[51:].sum()


def test_the_look_decides_whether_classes_become_shapes() -> None:
    cls = np.array([0, 1, 2, 11])
    assert markers.marker_shapes(cls, 4) is None                  # dots by default
    with colors.look(markers="shapes"):
        assert markers.marker_shapes(cls, 4).tolist() == [0, 1, 2, 11 % len(markers.SHAPES)]
        assert markers.marker_shapes(None, 4) is None             # no classes: dots
        with pytest.raises(ValueError, match="4 points but 3 classes"):
            markers.marker_shapes(cls[:3], 4)
    with pytest.raises(ValueError, match="markers 'stars'"):
        colors.check_look(markers="stars")


@pytest.fixture(scope="module")
def trace() -> sf.Trace:
    d = sf.dataset("gauss", classes=2, n=160, seed=2)    # as many classes as outputs
    return sf.trace(sf.build("2-3-2", "relu", seed=0), d)


def test_sf_render_draws_shapes_where_dots_were(tmp_path: Path, trace: sf.Trace) -> None:
    dots = np.asarray(Image.open(sf.render(trace, tmp_path / "d.png", size=(480, 270))))
    shapes = np.asarray(Image.open(sf.render(trace, tmp_path / "s.png", size=(480, 270),
                                             markers="shapes")))
    changed = np.abs(dots.astype(int) - shapes.astype(int)).sum(axis=-1) > 30
    assert 0.001 < changed.mean() < 0.2           # the points changed, not the whole frame
    with pytest.raises(sf.SpacefoldError, match="markers"):
        sf.render(trace, tmp_path / "x.png", markers="stars")
    with pytest.raises(sf.SpacefoldError, match="markers"):
        sf.render(trace, tmp_path / "x.npz", markers="shapes")


def test_3d_points_are_drawn_as_their_shapes() -> None:
    from spacefold.render.gl3d import renderer

    def fill(k: int) -> float:
        """Ink of one marker over its bounding box, seen face-on at 48 px radius."""
        with colors.look(markers="shapes"):
            panel = Space3D(box=(-1, 1, -1, 1, -1, 1), points=np.zeros((1, 3)),
                            colors=np.ones((1, 3)), classes=np.array([k]), point_size=48,
                            axes=False)
            img = renderer().render(panel, 320, 320, background="#000000")
        ink = img[..., 0] > 128
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        return float(box.mean())

    assert fill(markers.SHAPES.index("circle")) == pytest.approx(np.pi / 4, abs=0.05)
    assert fill(markers.SHAPES.index("square")) == pytest.approx(1.0, abs=0.05)
    assert fill(markers.SHAPES.index("triangle")) == pytest.approx(0.5, abs=0.05)
    assert fill(markers.SHAPES.index("diamond")) == pytest.approx(0.5, abs=0.05)


def test_cli_markers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.png", "--markers",
                       "stars")
    assert_one_line_error(code, err, "--markers", "stars", "shapes")
    assert not (tmp_path / "f.png").exists()
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.npz", "--markers",
                       "shapes")
    assert_one_line_error(code, err, "markers")
    code, out, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.png", "--size",
                         "640x360", "--markers", "shapes", "--palette", "okabe-ito")
    assert code == 0, err
    assert Image.open(tmp_path / "f.png").size[0] > 640


def test_markers_for_a_scene_without_classes_is_one_line(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    """affine's points have no class: shapes would change nothing, so they are refused (the
    tour applies them only where a scene has classes)."""
    from cli_helpers import assert_one_line_error, run
    from spacefold.scenes.api import draws_classes, to_timeline

    code, _, err = run(capsys, "render", "affine", "-o", tmp_path / "a.png", "--markers",
                       "shapes")
    assert_one_line_error(code, err, "affine", "markers")
    assert not (tmp_path / "a.png").exists()
    assert not draws_classes(to_timeline("affine"))
    assert draws_classes(to_timeline("fold-222"))
