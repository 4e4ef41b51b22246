"""The 2-D renderer and the fold-222 video: files decode, sizes and frame counts are right,
and golden frames guard the look (``pytest --regen-golden`` rewrites them on purpose)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import spacefold as sf
from spacefold.errors import RenderError
from spacefold.render import backend
from spacefold.scenes.api import to_timeline

GOLDEN = Path(__file__).parent / "golden"

# Named tolerances for golden frames (0-255 channel units).
TOL_MEAN_ABS = 1.5        # mean absolute difference over all pixels
TOL_BAD_FRACTION = 0.004  # fraction of pixels allowed to differ by more than BAD_LEVEL
BAD_LEVEL = 64

W1 = np.array([[1.2, -0.7], [0.5, 1.1]])
B1 = np.array([0.75, 0.75])
W2 = np.array([[0.9, 0.4], [-0.6, 1.3]])
B2 = np.array([0.1, -0.2])


def fixed_222() -> torch.nn.Sequential:
    """The reference workload's fixed 2-2-2 network (../shared/bench)."""
    m = sf.build("2-2-2", "relu", head="sigmoid")
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(W1))
        m[0].bias.copy_(torch.tensor(B1))
        m[2].weight.copy_(torch.tensor(W2))
        m[2].bias.copy_(torch.tensor(B2))
    return m


@pytest.fixture(scope="module")
def fixed_trace() -> sf.Trace:
    x = np.tanh(np.random.default_rng(222).standard_normal((300, 2)))
    labels = (x[:, 1] > np.abs(x[:, 0]) - 0.3).astype(np.int64)
    return sf.trace(fixed_222(), x, labels=labels,
                    grid=sf.GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=11, verts=100,
                                     regions=64))


def decode(path: Path) -> tuple[int, int, int, float, str]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return n, s.codec_context.width, s.codec_context.height, float(s.average_rate), \
            s.codec_context.name


def compare_golden(name: str, img: np.ndarray, regen: bool) -> None:
    path = GOLDEN / f"{name}.png"
    rgb = np.ascontiguousarray(img[..., :3])
    if regen or not path.exists():
        if not regen:
            pytest.fail(f"golden frame {path.name} is missing; run pytest --regen-golden")
        Image.fromarray(rgb).save(path)
        return
    want = np.asarray(Image.open(path).convert("RGB")).astype(np.int16)
    assert want.shape == rgb.shape, f"{name}: size {rgb.shape} != golden {want.shape}"
    diff = np.abs(rgb.astype(np.int16) - want)
    mean = float(diff.mean())
    bad = float((diff.max(axis=-1) > BAD_LEVEL).mean())
    if mean > TOL_MEAN_ABS or bad > TOL_BAD_FRACTION:
        Image.fromarray(rgb).save(GOLDEN / f"{name}.actual.png")
        pytest.fail(f"{name}: mean |diff| {mean:.2f} (tolerance {TOL_MEAN_ABS}), "
                    f"{100 * bad:.2f}% pixels off by > {BAD_LEVEL} (tolerance "
                    f"{100 * TOL_BAD_FRACTION:.2f}%); saved {name}.actual.png")


# the goldens are pinned on the path users run (the C kernels); the numpy primitives are held
# to the C ones in test_kernels_numpy.py and drawn against the same goldens here when
# SPACEFOLD_NO_KERNELS=1 (or no C compiler)
@pytest.mark.parametrize(("k", "alpha"), [(0, 1.0), (1, 0.5), (3, 1.0), (6, 1.0)])
def test_golden_frames(fixed_trace: sf.Trace, k: int, alpha: float,
                       regen_golden: bool) -> None:
    tl = to_timeline(fixed_trace)
    frame = tl.segments[k].frame(alpha)
    img = backend(None, (320, 180)).draw(frame)
    compare_golden(f"fixed222_seg{k}_a{int(alpha * 100)}", img, regen_golden)


# the light theme with Okabe–Ito: the same frames' look for slides and print
@pytest.mark.parametrize(("k", "alpha"), [(0, 1.0), (3, 1.0), (6, 1.0)])
def test_golden_frames_light(fixed_trace: sf.Trace, k: int, alpha: float,
                             regen_golden: bool) -> None:
    from spacefold.colors import look

    with look("light", "okabe-ito"):
        frame = to_timeline(fixed_trace).segments[k].frame(alpha)
        img = backend(None, (320, 180)).draw(frame)
    compare_golden(f"fixed222_light_seg{k}_a{int(alpha * 100)}", img, regen_golden)


def test_frames_show_the_trace(fixed_trace: sf.Trace) -> None:
    """Frames are data: the space panel's points are the trace's interpolated positions."""
    tl = to_timeline(fixed_trace)
    for k in range(1, len(fixed_trace.stages)):
        seg = tl.segments[k]           # segment 0 holds the input
        for a in (0.0, 0.3, 1.0):
            space = seg.frame(a).panels[0][1]
            s = a * a * (3 - 2 * a)    # the smooth easing the story applies
            np.testing.assert_allclose(space.points, fixed_trace.at(k, s)[:, :2], atol=1e-6)
            np.testing.assert_allclose(space.grid, fixed_trace.grid_at(k, s)[..., :2],
                                       atol=1e-6)
            x0, x1, y0, y1 = space.view
            p = space.points
            assert (p[:, 0] >= x0).all() and (p[:, 0] <= x1).all()
            assert (p[:, 1] >= y0).all() and (p[:, 1] <= y1).all()


def test_fold_222_mp4_full_size(tmp_path: Path) -> None:
    out = tmp_path / "fold.mp4"
    tl = to_timeline("fold-222")
    sf.render(tl, out)
    n, w, h, fps, codec = decode(out)
    assert (w, h) == (1280, 720)
    assert codec == "h264"
    assert fps == pytest.approx(30.0)
    assert n == tl.n_frames(30) == sum(max(1, round(s.duration * 30)) for s in tl.segments)
    # the stages the issue names, in order, then the separating line
    names = [s.name for s in tl.segments]
    assert names == ["input", "layer 1 · W·x", "layer 1 · +b", "layer 1 · ReLU",
                     "layer 2 · W·x", "layer 2 · +b", "layer 2 · sigmoid", "separating line"]
    assert tl.meta["accuracy"] >= 0.99


def test_gif_png_npz(tmp_path: Path, fixed_trace: sf.Trace) -> None:
    gif = sf.render(fixed_trace, tmp_path / "a.gif", size=(160, 90), fps=5)
    with Image.open(gif) as im:
        assert im.size == (160, 90)
        total = 0
        for i in range(im.n_frames):  # Pillow merges identical frames into longer ones
            im.seek(i)
            total += im.info["duration"]
        assert total == to_timeline(fixed_trace).n_frames(5) * 200
    png = sf.render(fixed_trace, tmp_path / "a.png", size=(160, 90))
    with Image.open(png) as im:
        a = np.asarray(im.convert("RGB"))
    assert a.std() > 5            # not blank
    assert a.shape[1] == 3 * 160 + 2 * 6   # three stages per row
    poster = sf.render(fixed_trace, tmp_path / "p.png", size=(160, 90), still="poster")
    with Image.open(poster) as im:
        assert im.size == (160, 90)
    npz = sf.render(fixed_trace, tmp_path / "t.npz")
    with np.load(npz) as z:
        np.testing.assert_array_equal(z["stage3_values"], fixed_trace.stages[3].values)


def test_output_never_half_written(tmp_path: Path, fixed_trace: sf.Trace) -> None:
    class Boom(Exception):
        pass

    def progress(i: int, total: int) -> None:
        if i == 3:
            raise Boom

    out = tmp_path / "x.mp4"
    with pytest.raises(Boom):
        sf.render(fixed_trace, out, size=(160, 90), fps=5, progress=progress)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"size": (0, 0)}, "size 0x0"),
    ({"size": (161, 90)}, "even"),
    ({"fps": -3}, "fps -3"),
    ({"still": "x"}, "still 'x'"),
])
def test_bad_render_options(tmp_path: Path, fixed_trace: sf.Trace, kwargs: dict,
                            match: str) -> None:
    with pytest.raises(RenderError, match=match):
        sf.render(fixed_trace, tmp_path / "x.mp4", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bad_paths(tmp_path: Path, fixed_trace: sf.Trace) -> None:
    with pytest.raises(RenderError, match="unknown format '.avi'"):
        sf.render(fixed_trace, tmp_path / "x.avi")
    with pytest.raises(RenderError, match="does not exist"):
        sf.render(fixed_trace, tmp_path / "missing" / "x.mp4")


def test_reused_backend_draws_what_a_fresh_one_draws(fixed_trace: sf.Trace) -> None:
    """Artists and view limits are updated in place frame after frame (the camera moves
    between stages); every frame must equal the same frame drawn by a new backend."""
    frames = list(to_timeline(fixed_trace).frames(6))[::5]
    reused = backend(None, (320, 180))
    for f in frames:
        got = reused.draw(f).copy()
        want = backend(None, (320, 180)).draw(f)
        assert np.array_equal(got, want)
