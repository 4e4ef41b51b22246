"""The 3-D scenes: the numbers behind the pictures (fold pieces from the weights, logit planes,
softmax surfaces, PCA and the Grand Tour) and tiny renders that decode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from spacefold.render.frame import Space3D
from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene, render
from spacefold.scenes.fold3d import Fold3D
from spacefold.scenes.folding import creases, fold_pieces, square

NAMES = ("fold-232", "surfaces-argmax", "surfaces-softmax", "wide-layer")


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def timelines() -> dict[str, Timeline]:
    return {name: build_scene(name) for name in NAMES}


# -- fold-232 ----------------------------------------------------------------------------------

def _dist_to_triangle(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Distance from point p to triangle abc (3-D), by least squares on the barycentrics
    clipped to the triangle (fine for the small tolerances used here)."""
    m = np.stack([b - a, c - a], 1)                              # (3, 2)
    st, *_ = np.linalg.lstsq(m, p - a, rcond=None)
    s, t = st
    if s >= -1e-9 and t >= -1e-9 and s + t <= 1 + 1e-9:
        return float(np.linalg.norm(m @ st + a - p))
    return min(_dist_to_segment(p, a, b), _dist_to_segment(p, b, c), _dist_to_segment(p, c, a))


def _dist_to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    d = b - a
    t = float(np.clip((p - a) @ d / max(float(d @ d), 1e-300), 0, 1))
    return float(np.linalg.norm(a + t * d - p))


def test_points_after_relu_lie_on_the_drawn_fold_pieces(timelines: dict[str, Timeline]) -> None:
    tl = timelines["fold-232"]
    f: Fold3D = tl.meta["fold"]
    tr = tl.meta["trace"]
    after = tr.stages[f.k_relu].values.astype(np.float64)          # (N, 3) after ReLU
    # the drawn pieces: the panel at the end of the ReLU stage
    seg = next(s for s in tl.segments if s.name == tr.stages[f.k_relu].name)
    panel = seg.frame(1.0).panels[0][1]
    assert isinstance(panel, Space3D)
    pieces = panel.meshes[:len(f.pieces)]          # then the octant's faint walls
    assert len(pieces) == len(f.pieces) >= 3
    tris = [(m.vertices[t[0]], m.vertices[t[1]], m.vertices[t[2]])
            for m in pieces for t in m.triangles]
    scale = float(np.abs(after).max())
    rng = np.random.default_rng(0)
    for p in after[rng.choice(len(after), 300, replace=False)]:
        d = min(_dist_to_triangle(p, *t) for t in tris)
        assert d <= 1e-5 * scale, (p, d)
    # every point is in the positive octant, and ReLU sent the pieces onto coordinate planes
    assert (after >= 0).all()
    for piece in f.pieces:
        v = piece.folded(f.w, f.b)
        for i in range(3):
            if not piece.positive[i]:
                assert np.abs(v[:, i]).max() <= 1e-12


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def test_fold_pieces_tile_the_square_and_creases_are_the_zero_lines() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        w, b = rng.normal(size=(3, 2)), rng.normal(size=3) * 0.5
        pieces = fold_pieces(w, b, (-1, 1, -1, 1))
        area = sum(_area(p.polygon) for p in pieces)
        assert area == pytest.approx(4.0, rel=1e-9)
        for p in pieces:                  # each piece has its sign pattern (inside, loosely)
            c = p.polygon.mean(axis=0)
            assert tuple(bool(v) for v in (c @ w.T + b > 0)) == p.positive
        for line in creases(w, b, (-1, 1, -1, 1)):
            z = line @ w.T + b
            assert np.abs(z).min(axis=1).max() < 1e-9              # on some zero line
            assert (np.abs(line) <= 1 + 1e-9).all()
    assert square((0, 1, 0, 2)).shape == (4, 2)


def test_fold_232_separates_and_returns_to_the_top_view(timelines: dict[str, Timeline]) -> None:
    tl = timelines["fold-232"]
    assert tl.meta["accuracy"] >= 0.99
    last = tl.segments[-1].frame(1.0).panels[0][1]
    assert isinstance(last, Space3D) and last.camera.elevation == 90.0
    orbit = next(s for s in tl.segments if s.name.startswith("orbit"))
    azs = [orbit.frame(a).panels[0][1].camera.azimuth for a in (0.0, 0.5, 1.0)]  # type: ignore[union-attr]
    assert azs[2] - azs[0] == pytest.approx(360.0)


# -- surfaces ----------------------------------------------------------------------------------

def _last_linear() -> tuple[np.ndarray, np.ndarray]:
    from spacefold.scenes.surfaces3d import BOTTLENECK
    from spacefold.scenes.zoo import spiral_net

    w, b, _ = list(spiral_net(BOTTLENECK)[0].layers())[-1]
    assert b is not None
    return w.astype(np.float64), b.astype(np.float64)


def _orbit_panel(tl: Timeline) -> Space3D:
    p = next(s for s in tl.segments if s.name == "orbit").frame(0.3).panels[0][1]
    assert isinstance(p, Space3D)
    return p


def test_argmax_planes_are_the_last_layers_rows(timelines: dict[str, Timeline]) -> None:
    w, b = _last_linear()
    p = _orbit_panel(timelines["surfaces-argmax"])
    assert len(p.meshes) == 5
    for k, m in enumerate(p.meshes):
        v = m.vertices
        np.testing.assert_allclose(v[:, 2], v[:, :2] @ w[k] + b[k], rtol=1e-6, atol=1e-6)
        assert len(m.triangles) < 2 * 59 * 59 / 4          # flat pieces, not a 60×60 mesh


def test_softmax_surfaces_sum_to_one(timelines: dict[str, Timeline]) -> None:
    w, b = _last_linear()
    p = _orbit_panel(timelines["surfaces-softmax"])
    z = np.stack([m.vertices[:, 2] for m in p.meshes], 1)          # (R·R, 5)
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-9)
    assert (z >= 0).all() and (z <= 1).all()
    h = p.meshes[0].vertices[:, :2]
    logits = h @ w.T + b
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(z, e / e.sum(axis=1, keepdims=True), atol=1e-9)


@pytest.mark.parametrize("name", ["surfaces-argmax", "surfaces-softmax"])
def test_top_view_colours_are_argmax(name: str, timelines: dict[str, Timeline]) -> None:
    """Render the final top view and read the colour under sampled points of the bottleneck
    plane: it is the class colour of argmax of the last layer there."""
    from spacefold.colors import CLASS_COLORS
    from spacefold.render import backend
    from spacefold.render.gl3d import project
    from spacefold.scenes.surfaces3d import RECT, REGION_DIM

    w, b = _last_linear()
    tl = timelines[name]
    frame = tl.segments[-1].frame(1.0)
    p = frame.panels[0][1]
    assert isinstance(p, Space3D) and p.camera.elevation == 90.0
    p.points, p.grid = None, None                      # the regions alone
    size = (640, 360)
    img = backend(None, size).draw(frame)[..., :3].astype(np.float64) / 255
    x0, x1, y0, y1 = p.box[:4]
    rng = np.random.default_rng(0)
    h = np.stack([rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)], 1)
    s = np.sort(h @ w.T + b, axis=1)
    h = h[(s[:, -1] - s[:, -2]) > 0.05 * (s[:, -1] - s[:, 0]).mean()]   # off the boundaries
    want = np.argmax(h @ w.T + b, axis=1)
    pw, ph = int(round(RECT[2] * size[0])), int(round(RECT[3] * size[1]))
    left, bottom = int(round(RECT[0] * size[0])), int(round(RECT[1] * size[1]))
    xyz = np.concatenate([h, np.full((len(h), 1), p.box[4])], 1)
    pix = project(p, xyz, pw, ph)
    # the sheet's outermost pixel is antialiased (blended with the background): not a
    # colour decision, so samples within 1.5 px of the plane's outline are left out
    corners = project(p, np.array([[x0, y0, p.box[4]], [x1, y1, p.box[4]]]), pw, ph)
    lo, hi = corners[:, :2].min(0) + 1.5, corners[:, :2].max(0) - 1.5
    inside = ((pix[:, :2] >= lo) & (pix[:, :2] <= hi)).all(1)
    pix, want = pix[inside], want[inside]
    palette = CLASS_COLORS[:5] * REGION_DIM
    got = []
    for px, py, _ in pix:
        c = img[size[1] - 1 - (bottom + int(py)), left + int(px)]
        got.append(int(np.argmin(((palette - c) ** 2).sum(1))))
    assert len(h) > 200
    assert (np.array(got) == want).mean() >= 0.99


# -- wide-layer ----------------------------------------------------------------------------------

def test_wide_layer_pca_is_labelled_with_explained_variance(
        timelines: dict[str, Timeline]) -> None:
    tl = timelines["wide-layer"]
    proj = tl.meta["projection"]
    tr = tl.meta["trace"]
    z = tr.stages[tl.meta["stage"]].values.astype(np.float64)
    zc = z - z.mean(0)
    ev = np.linalg.svd(zc, compute_uv=False) ** 2
    np.testing.assert_allclose(proj.explained, ev[:3] / ev.sum(), rtol=1e-6)
    orbit = next(s for s in tl.segments if s.name == "PCA orbit").frame(0.5)
    p = orbit.panels[0][1]
    assert isinstance(p, Space3D)
    on_screen = " ".join([p.subtitle] + [t.text for t in p.texts] + [lb.text for lb in p.labels])
    for i in range(3):
        assert f"PC{i + 1} {100 * proj.explained[i]:.0f}%" in on_screen
    assert f"{100 * proj.explained.sum():.0f}% of variance shown" in on_screen
    assert "PCA of 100-D" in on_screen


def test_grand_tour_moves_smoothly(timelines: dict[str, Timeline]) -> None:
    tl = timelines["wide-layer"]
    tour = tl.meta["tour"]
    seg = next(s for s in tl.segments if s.name == "Grand Tour")
    fps = 30
    n = round(seg.duration * fps)
    frames = [seg.frame((j + 1) / n).panels[0][1].points for j in range(0, n, 1)]
    span = float(np.ptp(frames[0], axis=0).max())
    steps = [float(np.linalg.norm(b - a, axis=1).max()) for a, b in zip(frames, frames[1:],
                                                                         strict=False)]
    assert max(steps) <= 0.02 * span                   # no point jumps 2% of the view per frame
    assert max(steps) > 0                              # it does move
    # every projection is orthonormal, and the tour starts at the PCA view
    for t in (0.0, 3.3, 9.0):
        f = tour.frame(t)
        np.testing.assert_allclose(f.T @ f, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(tour.frame(0.0), tl.meta["projection"].components, atol=1e-9)


# -- renders -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_scene_renders_tiny(name: str, tmp_path: Path, timelines: dict[str, Timeline]) -> None:
    import av
    from PIL import Image

    mp4, png = tmp_path / f"{name}.mp4", tmp_path / f"{name}.png"
    render(timelines[name], mp4, size=(192, 108), fps=2)
    with av.open(str(mp4)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        assert (s.codec_context.width, s.codec_context.height) == (192, 108)
    assert n == timelines[name].n_frames(2)
    render(name, png, size=(192, 108), still="poster")
    with Image.open(png) as im:
        assert im.size == (192, 108)
        px = np.asarray(im.convert("RGB"), dtype=np.int64)
    assert px.std() > 5                                            # not a blank frame


@pytest.mark.parametrize("name", NAMES)
def test_both_kernels_compose_3d_frames_alike(name: str, timelines: dict[str, Timeline]) -> None:
    """The C and the numpy primitives compose the GL image, labels and titles alike (a few
    frames across the scene)."""
    from spacefold.render import rasterize
    from spacefold.render.kernel2d import KernelBackend

    if rasterize.COMPILED is None:
        pytest.skip("the C extension was not built")
    tl = timelines[name]
    frames = list(tl.frames(1))
    kc = KernelBackend((480, 270), rasterize.COMPILED)
    kn = KernelBackend((480, 270), rasterize.NUMPY)
    for f in frames[:: max(len(frames) // 3, 1)]:
        ours = kc.draw(f)[..., :3].astype(int)
        diff = np.abs(ours - kn.draw(f)[..., :3])
        assert diff.max() <= 2, (name, diff.max())
