"""The 3-D backend (OpenGL on headless EGL): the camera maths agrees with the pixels,
translucent surfaces blend in true depth order where they intersect, opaque things hide what
is behind them, and a missing GL stack is one clear error.

No skipping: CI installs the GL stack (.ci/run), so a missing one must fail here loudly.
"""

from __future__ import annotations

import numpy as np
import pytest

from spacefold.errors import RenderError
from spacefold.render import backend, gl3d
from spacefold.render.frame import Camera, Frame, Line3D, Mesh, Space3D
from spacefold.render.gl3d import project, renderer, sort_back_to_front, surface
from spacefold.render.kernel2d import KernelBackend
from spacefold.render.meshes import colors4

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
    b = backend(None, (320, 180))
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


# -- antialiasing and compositing ---------------------------------------------------------------

def test_boundary_edges_of_a_grid_are_its_outline() -> None:
    g = np.linspace(0, 1, 6)
    x, y = np.meshgrid(g, g[:4])                            # 4 rows × 6 columns of vertices
    m = surface(x, y, 0 * x, np.array([1.0, 1.0, 1.0, 1.0]))
    bnd = gl3d.boundary_edges(m.triangles, len(m.vertices))
    assert bnd.shape == m.triangles.shape
    assert bnd.sum() == 2 * (4 - 1) + 2 * (6 - 1)


def test_lines_are_antialiased_and_keep_their_ink() -> None:
    """A slanted white line: its edges are partial pixels (not a staircase), and summed
    across the line the coverage is its width."""
    width = 3.0
    ln = Line3D(np.array([[-0.8, -0.3, 0.0], [0.8, 0.3, 0.0]]), (1, 1, 1, 1), width)
    p = _blank(camera=Camera(-90, 90), lines=[ln])
    img = _render(p)
    lum = img[..., 0]
    cols = lum[:, W // 2 - 10:W // 2 + 10]                  # columns near the middle
    assert ((cols > 0.05) & (cols < 0.95)).sum() >= 20      # soft edges
    a, b = project(p, ln.xyz, W, H)[:, :2]
    cos = abs(b[0] - a[0]) / np.hypot(*(b - a))             # the column cuts it at an angle
    np.testing.assert_allclose(cols.sum(axis=0), width / cos, rtol=0.1)     # scale 1: px


def test_mesh_outline_is_antialiased_but_its_inside_is_seamless() -> None:
    """An opaque sheet, turned: pixels along its outline are partial, every pixel inside is
    the full colour (the edges between its own triangles, and between two meshes sharing an
    edge, are not faded)."""
    red = np.array([1.0, 0.0, 0.0, 1.0])
    halves = []
    for lo, hi in ((-0.7, 0.0), (0.0, 0.7)):                      # two halves meeting
        x, y = np.meshgrid(np.linspace(lo, hi, 5), np.linspace(-0.7, 0.7, 9))  # along x = 0
        halves.append(surface(x, y, 0 * x, red, shade=False))
    left, right = halves
    p = _blank(camera=Camera(-70, 90), meshes=[left, right])       # turned by 20°
    img = _render(p)[..., 0]
    assert ((img > 0.05) & (img < 0.95)).sum() > 40                 # a soft outline
    ij = np.stack(np.meshgrid(np.linspace(-0.65, 0.65, 40), np.linspace(-0.65, 0.65, 40)),
                  -1).reshape(-1, 2)
    pix = project(p, np.concatenate([ij, np.zeros((len(ij), 1))], 1), W, H)
    inside = img[H - 1 - pix[:, 1].astype(int), pix[:, 0].astype(int)]
    np.testing.assert_allclose(inside, 1.0, atol=1 / 255)


def test_image_is_opaque_under_translucent_meshes() -> None:
    g = np.linspace(-1, 1, 10)
    x, y = np.meshgrid(g, g)
    sheet = surface(x, y, 0 * x, np.array([0.0, 1.0, 0.0, 0.3]))
    img = renderer().render(_blank(camera=Camera(-60, 30), meshes=[sheet]), W, H)
    assert (img[..., 3] == 255).all()


def test_the_frame_holds_the_gl_image_unchanged() -> None:
    """The panel's pixels in the frame are the GL image itself (a copy, no blending)."""
    g = np.linspace(-1, 1, 12)
    x, y = np.meshgrid(g, g)
    sheet = surface(x, y, 0.5 * x * y, np.array([0.2, 0.6, 1.0, 0.5]))
    p = Space3D(box=(-1, 1, -1, 1, -1, 1), camera=Camera(-50, 30), meshes=[sheet],
                axes=True)
    b = KernelBackend((320, 180))
    frame = b.draw(Frame([((0.25, 0.1, 0.5, 0.8), p)])).copy()
    panel = b.panels[0]
    assert panel.image is not None
    gl_img = panel.image[::-1]
    x0, y0 = round(panel.box[0]), round(panel.box[1])
    h, w = gl_img.shape[:2]
    np.testing.assert_array_equal(frame[180 - y0 - h:180 - y0, x0:x0 + w], gl_img)


def test_flushed_chunks_draw_the_same_picture() -> None:
    """The sorted triangles drawn in several flushed draws: the same pixels as one draw."""
    g = np.linspace(-1, 1, 40)
    x, y = np.meshgrid(g, g)
    meshes = [surface(x, y, 0.7 * np.sin(2 * x + k) * y, np.array([*c, 0.5]))
              for k, c in enumerate(([1.0, 0.2, 0.2], [0.2, 0.4, 1.0]))]
    p = _blank(camera=Camera(-40, 25), meshes=meshes)
    gl = renderer()
    saved = gl.chunks
    try:
        gl.chunks = 0
        one = gl.render(p, W, H).copy()
        gl.chunks = 4
        four = gl.render(p, W, H).copy()
    finally:
        gl.chunks = saved
    np.testing.assert_array_equal(one, four)


def test_a_fade_re_uploads_only_the_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Meshes that share their vertices, triangles and normals with the last frame's and
    differ only in colour (a fade) are drawn as a full upload would draw them, without
    working out their geometry again."""
    g = np.linspace(-1, 1, 16)
    x, y = np.meshgrid(g, g)
    base = [surface(x, y, 0.6 * np.sin(2 * x + k) * y, np.array([1.0, 1.0, 1.0, 1.0]))
            for k in range(2)]

    def faded(a: float) -> list[Mesh]:
        return [Mesh(m.vertices, m.triangles, np.tile([0.9, 0.3 + 0.4 * k, 0.2, a],
                                                      (len(m.vertices), 1)), m.shade, m.normals)
                for k, m in enumerate(base)]

    panel = _blank(camera=Camera(-50, 30), meshes=faded(0.3))
    r = renderer()                 # one GL context a process: a second one would be current
    r.render(panel, W, H, background=BG)
    calls = []
    real = gl3d.GL3D._boundary
    monkeypatch.setattr(gl3d.GL3D, "_boundary",
                        lambda self, *a: (calls.append(1), real(self, *a))[1])
    for a in (0.5, 0.8):
        panel.meshes = faded(a)
        got = r.render(panel, W, H, background=BG).copy()
        assert calls == []         # the geometry was kept, the colours gathered again
        r._geometry.clear()        # a full upload of the same meshes
        want = r.render(panel, W, H, background=BG)
        assert len(calls) == 1
        calls.clear()
        np.testing.assert_array_equal(got, want)


def test_moving_vertices_re_gather_the_rows_a_full_upload_would_make(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Meshes with last frame's triangles and new vertices (planes rising off a shared floor,
    so their common outline is a seam at first and a boundary after; normals from the faces
    or given; a mesh keeping its vertices, with a new colour) get, byte for byte, the vertex
    rows, positions and edge flags a full upload makes, without working out the topology
    again; meshes whose triangles changed get a full upload. Both passes, opaque and sorted."""
    g = np.linspace(-1, 1, 9)
    x, y = np.meshgrid(g, g)
    base = surface(x, y, 0 * x, np.array([1.0, 1.0, 1.0, 0.5]))
    still = surface(x, y, 0.3 + 0 * x, np.array([0.2, 0.9, 0.2, 0.5]), shade=False)
    flipped = base.triangles[:, [0, 2, 1]]

    def frame(rise: float, tris: np.ndarray, alpha: float) -> list[Mesh]:
        out = []
        for k in range(2):
            v = base.vertices.copy()
            v[:, 2] = rise * (0.5 * k + 0.3) * np.sin(2 * v[:, 0] + k) * v[:, 1]
            t = base.triangles if k == 0 else tris.copy()        # equal, not the same
            nrm = None if k == 0 else np.tile([rise * 0.2, 0.1, 1.0], (len(v), 1))
            col = np.tile([0.9, 0.3 + 0.4 * k, 0.2, alpha], (len(v), 1))
            out.append(Mesh(v, t, col, True, nrm))
        fade = alpha if alpha == 1 else alpha * (0.5 + 0.5 * rise)        # stays opaque
        col = colors4(np.array([0.2, 0.9, 0.2, fade]), len(still.vertices))  # one row
        return [*out, Mesh(still.vertices, still.triangles, col, False, still.normals)]

    r = renderer()
    calls = []
    real = gl3d.GL3D._boundary
    monkeypatch.setattr(gl3d.GL3D, "_boundary",
                        lambda self, *a: (calls.append(1), real(self, *a))[1])
    steps = ((0.0, base.triangles, True), (0.5, base.triangles, False),
             (1.0, base.triangles, False), (1.0, flipped, True), (0.7, flipped, False),
             (0.0, flipped, False))
    for name, alpha in (("sorted", 0.5), ("opaque", 1.0)):
        r._geometry.clear()
        seamed = []
        for rise, tris, full in steps:
            p = _blank(camera=Camera(-50, 30), meshes=frame(rise, tris, alpha))
            calls.clear()
            got_img = r.render(p, W, H, background=BG).copy()
            assert len(calls) == full          # a full upload only when the triangles changed
            got = r._geometry[name]
            rows, pos, index = got.rows.copy(), got.pos.copy(), got.tris.copy()
            seamed.append(int(got.bnd.sum()))
            r._geometry.clear()
            want_img = r.render(p, W, H, background=BG).copy()
            want = r._geometry[name]
            assert want is not got
            assert rows.tobytes() == want.rows.tobytes()
            np.testing.assert_array_equal(pos, want.pos)
            np.testing.assert_array_equal(index, want.tris)
            np.testing.assert_array_equal(got_img, want_img)
            r._geometry[name] = got            # the next frame updates this one
        assert seamed[0] < seamed[1] and seamed[-1] < seamed[-2]    # the seams did change
