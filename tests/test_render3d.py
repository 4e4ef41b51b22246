"""The 3-D backend (OpenGL on headless EGL): the camera maths agrees with the pixels,
translucent surfaces blend in true depth order where they intersect, opaque things hide what
is behind them, and a missing GL stack is one clear error.

No skipping: CI installs the GL stack (.ci/run), so a missing one must fail here loudly.
"""

from __future__ import annotations

import numpy as np
import pytest

from spacefold.errors import RenderError
from spacefold.render import gl3d
from spacefold.render.frame import Camera, Frame, Mesh, Space3D
from spacefold.render.gl3d import project, renderer, sort_back_to_front, surface
from spacefold.render.raster import RasterBackend

BG = (0.0, 0.0, 0.0)
W, H = 160, 120


def _blank(**kw: object) -> Space3D:
    p = Space3D(box=(-1, 1, -1, 1, -1, 1), axes=False, **kw)  # type: ignore[arg-type]
    return p


def _render(p: Space3D) -> np.ndarray:
    """(H, W, 4) float image, row 0 at the top."""
    img = renderer().render(p, W, H, background=BG)
    return img[::-1].astype(np.float64) / 255.0


def test_a_point_lands_where_project_says() -> None:
    for cam in (Camera(-60, 25), Camera(30, -10, 2.5), Camera(-90, 90)):
        xyz = np.array([[0.4, -0.3, 0.5]])
        p = _blank(camera=cam, points=xyz, colors=np.array([[1.0, 1.0, 1.0]]), point_size=3)
        img = _render(p)
        lum = img[..., :3].sum(-1)
        ys, xs = np.nonzero(lum > 0.5)
        px, py, _ = project(p, xyz, W, H)[0]
        assert abs(xs.mean() + 0.5 - px) < 1.0 and abs((H - ys.mean() - 0.5) - py) < 1.0


def test_top_view_is_the_2d_orientation() -> None:
    p = _blank(camera=Camera(-90, 90))
    xy = project(p, np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float), W, H)
    assert xy[1, 0] > xy[0, 0] and abs(xy[1, 1] - xy[0, 1]) < 1e-6     # +x to the right
    assert xy[2, 1] > xy[0, 1] and abs(xy[2, 0] - xy[0, 0]) < 1e-6     # +y up


def _over(src: np.ndarray, a: float, dst: np.ndarray) -> np.ndarray:
    return a * src + (1 - a) * dst


def test_intersecting_translucent_planes_blend_in_depth_order() -> None:
    """Planes y = x/2 (red) and y = -x/2 (blue) cross along the z axis. Seen from the front
    (camera on -y), on the left (x < 0) red is nearer, on the right blue. The pixel colours
    must be exactly 'near over far over background' on each side, whatever the list order."""
    g = np.linspace(-1, 1, 30)
    x, z = np.meshgrid(g, g)
    red, blue = np.array([1.0, 0.1, 0.1]), np.array([0.1, 0.2, 1.0])
    a = 0.5
    planes = [surface(x, x / 2, z, np.array([*red, a]), shade=False),
              surface(x, -x / 2, z, np.array([*blue, a]), shade=False)]
    for order in (planes, planes[::-1]):
        p = _blank(camera=Camera(-90, 0, 3.0), meshes=list(order))
        img = _render(p)
        for side, near, far in ((-0.5, red, blue), (0.5, blue, red)):
            px, py, _ = project(p, np.array([[side, 0.0, 0.2]]), W, H)[0]
            got = img[H - 1 - int(py), int(px), :3]
            want = _over(near, a, _over(far, a, np.array(BG)))
            np.testing.assert_allclose(got, want, atol=3 / 255)


def test_opaque_hides_and_translucent_tints() -> None:
    g = np.linspace(-1, 1, 10)
    x, y = np.meshgrid(g, g)
    pt = np.array([[0.0, 0.0, -0.5]])              # below the sheet z = 0
    top = Camera(-90, 90)
    white = np.array([[1.0, 1.0, 1.0]])
    sheet = surface(x, y, np.zeros_like(x), np.array([0.0, 1.0, 0.0, 1.0]), shade=False)
    img = _render(_blank(camera=top, points=pt, colors=white, point_size=4, meshes=[sheet]))
    px, py, _ = project(_blank(camera=top), pt, W, H)[0]
    np.testing.assert_allclose(img[H - 1 - int(py), int(px), :3], [0, 1, 0], atol=2 / 255)
    sheet.colors[:, 3] = 0.25                       # now translucent: the point shows, tinted
    img = _render(_blank(camera=top, points=pt, colors=white, point_size=4, meshes=[sheet]))
    got = img[H - 1 - int(py), int(px), :3]
    np.testing.assert_allclose(got, _over(np.array([0, 1.0, 0]), 0.25, np.ones(3)),
                               atol=0.03)


def test_sort_is_far_to_near() -> None:
    v = np.array([[0, 0, z] for z in (0.0, 1.0, -1.0)], dtype=float)
    tris = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2]])
    p = _blank(camera=Camera(0, 90))                # looking down: high z is near
    order = sort_back_to_front(v, tris, gl3d.camera_matrix(p, 1.0))
    assert list(order) == [2, 0, 1]


def test_panel_composites_into_the_frame_with_titles() -> None:
    g = np.linspace(-1, 1, 8)
    x, y = np.meshgrid(g, g)
    mesh = surface(x, y, 0 * x, np.array([1.0, 0.0, 0.0, 1.0]), shade=False)
    b = RasterBackend((320, 180))
    p = Space3D(box=(-1, 1, -1, 1, -1, 1), camera=Camera(-90, 90, 2.0), meshes=[mesh],
                title="a title", axes=False)
    img = b.draw(Frame([((0.5, 0.0, 0.5, 1.0), p)], heading="3-D"))
    assert img.shape == (180, 320, 4)
    red = (img[..., 0] > 200) & (img[..., 1] < 60)
    ys, xs = np.nonzero(red)
    assert len(xs) > 1000 and xs.min() >= 159            # only inside the right-hand panel
    assert not red[:, :150].any()


def test_missing_gl_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import moderngl

    def boom(**_: object) -> None:
        raise Exception("libEGL.so.1: cannot open shared object file")

    monkeypatch.setattr(moderngl, "create_standalone_context", boom)
    with pytest.raises(RenderError, match="apt-get install libegl1 libgl1 libegl-mesa0 "
                                          "libgl1-mesa-dri"):
        gl3d.GL3D()


def test_argmax_colouring_is_exact_per_pixel() -> None:
    """A flat 2×2-vertex sheet coloured by argmax of three scores: every pixel, also next to
    the boundaries, has the colour of the class that wins at that pixel's own (x, y)."""
    w = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.array([0.0, 0.1, 0.0])
    rgb = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    g = np.linspace(-1, 1, 2)
    x, y = np.meshgrid(g, g)
    sheet = surface(x, y, 0 * x, np.array([0.5, 0.5, 0.5, 1.0]), shade=False)
    sheet.argmax = (w, b, rgb)
    p = _blank(camera=Camera(-90, 90), meshes=[sheet])
    img = _render(p)
    rng = np.random.default_rng(0)
    xy = rng.uniform(-0.95, 0.95, (500, 2))
    pix = project(p, np.concatenate([xy, np.zeros((500, 1))], 1), W, H)
    # the colour under each pixel centre, and the class at that pixel centre's own (x, y)
    cols = np.floor(pix[:, 0]).astype(int)
    rows = np.floor(pix[:, 1]).astype(int)
    centre = np.stack([cols + 0.5, rows + 0.5], 1)
    p0 = project(p, np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]), W, H)
    ux, uy = p0[1, 0] - p0[0, 0], p0[2, 1] - p0[0, 1]
    h = np.stack([(centre[:, 0] - p0[0, 0]) / ux, (centre[:, 1] - p0[0, 1]) / uy], 1)
    want = np.argmax(h @ w.T + b, axis=1)
    got = img[H - 1 - rows, cols, :3]
    np.testing.assert_allclose(got, rgb[want], atol=2 / 255)


def test_mesh_and_surface_shapes() -> None:
    g = np.linspace(0, 1, 5)
    x, y = np.meshgrid(g, g[:4])
    m = surface(x, y, x + y, np.array([1, 1, 1, 0.5]))
    assert isinstance(m, Mesh)
    assert m.vertices.shape == (20, 3) and m.triangles.shape == (2 * 4 * 3, 3)
    assert m.colors.shape == (20, 4)
