"""The drawing primitives (the default kernels: the C ones, or numpy's under
``SPACEFOLD_NO_KERNELS=1``): coverage, order, union, clipping, bad input, YUV and MP4 colours.
test_kernels_numpy.py holds the two implementations to the same pixels."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from spacefold.render import encode, rasterize

BG = 0x1a


@pytest.mark.skipif(bool(os.environ.get("SPACEFOLD_NO_KERNELS")), reason="turned off on purpose")
def test_the_extension_is_built() -> None:
    """The dev install compiles it; without it everything still works, only slower."""
    assert rasterize.COMPILED is not None, ("spacefold.render._kernels is missing: `pip "
                                            "install -e .` needs a C compiler and the Python "
                                            "headers")
    assert rasterize.DEFAULT is rasterize.COMPILED


def canvas(w: int = 100, h: int = 80) -> np.ndarray:
    buf = np.full((h, w, 4), BG, dtype=np.uint8)
    buf[..., 3] = 255
    return buf


def ink(buf: np.ndarray, channel: int = 0) -> np.ndarray:
    """How much of a pure colour (255 in ``channel``) each pixel received, 0..1."""
    return (buf[..., channel].astype(float) - BG) / (255 - BG)


def test_disc_covers_its_area_and_nothing_beyond() -> None:
    buf = canvas()
    r = 6.0
    rasterize.draw_discs(buf, np.array([[40.3, 30.7]]), np.array([[1.0, 0, 0, 1]]), r)
    cov = ink(buf)
    assert cov.sum() == pytest.approx(np.pi * r * r, rel=0.03)
    assert cov[30, 40] == pytest.approx(1.0, abs=1 / 255)
    rows, cols = np.nonzero(cov > 0)
    assert np.hypot(cols + 0.5 - 40.3, rows + 0.5 - 30.7).max() < r + 0.5
    assert (buf[..., 3] == 255).all()


def test_later_discs_are_on_top_and_alpha_blends() -> None:
    buf = canvas()
    xy = np.array([[20.0, 20.0], [20.0, 20.0], [60.0, 20.0]])
    rgba = np.array([[1.0, 0, 0, 1], [0, 1.0, 0, 1], [0, 0, 1.0, 0.5]])
    rasterize.draw_discs(buf, xy, rgba, 4.0)
    assert tuple(buf[20, 20, :3]) == (0, 255, 0)
    assert abs(int(buf[20, 60, 2]) - (0.5 * 255 + 0.5 * BG)) <= 1


def test_polyline_width_and_union() -> None:
    once, twice, crossed = canvas(), canvas(), canvas()
    line = np.array([[[10.0, 40.5], [90.0, 40.5]]])
    rasterize.draw_polylines(once, line, (1.0, 0, 0, 1), 3.0)
    # per column, the ink across the line adds up to its width (away from the caps)
    assert ink(once)[:, 30:70].sum(axis=0) == pytest.approx(np.full(40, 3.0), abs=0.05)
    # the same line twice in one call is one shape: no darker than once
    rasterize.draw_polylines(twice, np.concatenate([line, line]), (1.0, 0, 0, 0.6), 3.0)
    single = canvas()
    rasterize.draw_polylines(single, line, (1.0, 0, 0, 0.6), 3.0)
    assert np.abs(twice.astype(int) - single.astype(int)).max() <= 1
    # a translucent crossing is not darkened twice at the crossing
    cross = np.array([[[10.0, 40.5], [90.0, 40.5]], [[50.5, 5.0], [50.5, 75.0]]])
    rasterize.draw_polylines(crossed, cross, (1.0, 0, 0, 0.6), 3.0)
    assert abs(int(crossed[40, 50, 0]) - int(crossed[40, 30, 0])) <= 1


@pytest.mark.skipif(rasterize.COMPILED is None, reason="the C extension was not built")
def test_polyline_mask_is_left_clear_and_each_pixel_blended_once() -> None:
    """The C kernel max-combines a set's coverage into a scratch mask, then blends each pixel
    once by its largest coverage and clears the mask behind: a set over itself, many times and
    clipped, draws what one copy draws, and the next call starts from a clear mask."""
    k = rasterize.COMPILED
    assert k is not None
    rng = np.random.default_rng(7)
    walk = np.cumsum(rng.normal(0, 3.0, (6, 40, 2)), axis=1) + [50.0, 40.0]
    for clip in (None, (15, 5, 70, 60)):
        once, many = canvas(), canvas()
        rasterize.draw_polylines(once, walk, (0.3, 0.9, 1.0, 0.7), 1.5, clip, k)
        rasterize.draw_polylines(many, np.concatenate([walk] * 5), (0.3, 0.9, 1.0, 0.7), 1.5,
                                 clip, k)
        assert np.array_equal(once, many)
        h, w = once.shape[:2]
        assert not rasterize._scratch(w, h)[8 * h:].any()


def test_dense_curve_matches_its_chords() -> None:
    """Merging near-collinear vertices (a tenth of a pixel) does not move the stroke."""
    t = np.linspace(0, 2 * np.pi, 400)
    circle = np.stack([50 + 25 * np.cos(t), 40 + 25 * np.sin(t)], axis=1)[None]
    a, b = canvas(), canvas()
    rasterize.draw_polylines(a, circle, (1.0, 0, 0, 1), 1.5)
    coarse = circle[:, ::4]
    rasterize.draw_polylines(b, coarse, (1.0, 0, 0, 1), 1.5)
    length = 2 * np.pi * 25
    assert ink(a).sum() == pytest.approx(1.5 * length, rel=0.05)
    assert np.abs(ink(a) - ink(b)).mean() < 0.01


def test_clip_nan_and_far_coordinates() -> None:
    buf = canvas()
    lines = np.array([[[-1e12, 40.0], [1e12, 40.0], [np.nan, 5.0], [50.0, -1e9]]])
    rasterize.draw_polylines(buf, lines, (1.0, 0, 0, 1), 2.0, clip=(20, 10, 80, 70))
    rasterize.draw_discs(buf, np.array([[np.inf, 3.0], [20.0, 40.0], [1e15, 1e15]]),
                         np.tile([[0, 1.0, 0, 1]], (3, 1)), 5.0, clip=(20, 10, 80, 70))
    touched = (buf[..., :3] != BG).any(axis=-1)
    assert touched[:, 20:80].any()
    assert not touched[:, :20].any() and not touched[:, 80:].any()
    assert not touched[:10].any() and not touched[70:].any()


def test_threads_draw_side_by_side() -> None:
    """Each thread has its own coverage buffer: concurrent strokes equal sequential ones."""
    t = np.linspace(0, 1, 200)
    lines = np.stack([np.stack([10 + 80 * t, 10 + 60 * t * t + k], axis=1)
                      for k in range(0, 40, 4)])
    want = canvas()
    rasterize.draw_polylines(want, lines, (1.0, 1.0, 0, 0.7), 1.5)
    got = [canvas() for _ in range(4)]

    def work(buf: np.ndarray) -> None:
        for _ in range(50):
            buf[:] = canvas()
            rasterize.draw_polylines(buf, lines, (1.0, 1.0, 0, 0.7), 1.5)

    threads = [threading.Thread(target=work, args=(g,)) for g in got]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for g in got:
        assert np.array_equal(g, want)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        rasterize.draw_discs(np.zeros((10, 10, 4)), np.zeros((1, 2)), np.ones((1, 4)), 2.0)
    with pytest.raises(ValueError, match="colours"):
        rasterize.draw_discs(canvas(), np.zeros((3, 2)), np.ones((2, 4)), 2.0)
    with pytest.raises(ValueError, match="vertices"):
        rasterize.draw_polylines(canvas(), np.zeros((3, 2)), (1, 1, 1, 1), 1.0)


@pytest.mark.parametrize("own_yuv", [True, False], ids=["kernel-yuv", "ffmpeg-yuv"])
def test_mp4_colours_survive_the_round_trip(tmp_path: Path, own_yuv: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both conversions (the kernel's, ffmpeg's fallback) write BT.709 and tag it so, and a
    decoder that reads the tags gets the colours back."""
    import av

    if own_yuv and rasterize.COMPILED is None:
        pytest.skip("the C extension was not built")
    monkeypatch.setattr(rasterize, "DEFAULT", rasterize.COMPILED if own_yuv else rasterize.NUMPY)
    h, w = 64, 320
    img = canvas(w, h)
    colours = [(26, 26, 31), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 200, 0),
               (60, 130, 230), (232, 232, 238), (128, 128, 128)]
    for i, c in enumerate(colours):
        img[:, i * 40:(i + 1) * 40, :3] = c
    encode.write_mp4(tmp_path / "c.mp4", [img] * 3, (w, h), 30)
    with av.open(str(tmp_path / "c.mp4")) as c:
        frame = next(c.decode(c.streams.video[0]))
        assert frame.colorspace == 1 and frame.color_range == 1     # BT.709, limited range
        rgb = frame.to_ndarray(format="rgb24").astype(int)
    got = np.array([rgb[h // 2, i * 40 + 20] for i in range(len(colours))])
    assert np.abs(got - np.array(colours)).max() <= 6


def test_yuv420_planes() -> None:
    img = canvas(4, 2)
    img[:, :2, :3] = (255, 0, 0)
    img[:, 2:, :3] = (128, 128, 128)
    out = rasterize.yuv420(img)
    assert out.shape == (12,)
    assert list(out[:4]) == [63, 63, 126, 126]           # Y: 16 + 219 * luma
    assert list(out[8:10]) == [102, 128] and list(out[10:12]) == [240, 128]   # U, V
    with pytest.raises(ValueError, match="uint8"):
        rasterize.yuv420(np.zeros((2, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="even"):
        rasterize.yuv420(np.zeros((3, 4, 4), np.uint8))


def test_image_is_composited_over_with_straight_alpha() -> None:
    buf = canvas(40, 30)
    img = np.zeros((10, 12, 4), dtype=np.uint8)
    img[..., 0] = 255
    img[..., 3] = np.linspace(0, 255, 12).astype(np.uint8)[None, :]
    rasterize.draw_image(buf, img, 35, -4)                 # hangs over the right and top edges
    a = img[4:, :5, 3].astype(int)
    want = (255 * a + BG * (255 - a) + 127) // 255
    assert np.array_equal(buf[:6, 35:40, 0], want)
    assert (buf[:6, 35:40, 1] == (BG * (255 - a) + 127) // 255).all()
    assert (buf[6:, :, :3] == BG).all() and (buf[:, :35, :3] == BG).all()
    clipped = canvas(40, 30)
    rasterize.draw_image(clipped, img, 35, -4, clip=(0, 0, 37, 30))
    assert np.array_equal(clipped[:6, 35:37], buf[:6, 35:37])
    assert (clipped[:, 37:, :3] == BG).all()


def test_box_edges_get_their_coverage() -> None:
    buf = canvas(20, 10)
    rasterize.fill_rect(buf, (2.5, 1.0, 6.0, 4.25), (1.0, 0.0, 0.0, 0.5))
    cov = ink(buf) / 0.5
    assert cov[1:4, 3:6] == pytest.approx(1.0, abs=0.01)        # inside
    assert cov[1:4, 2] == pytest.approx(0.5, abs=0.01)          # half a column
    assert cov[4, 3:6] == pytest.approx(0.25, abs=0.01)         # a quarter row
    assert cov[4, 2] == pytest.approx(0.125, abs=0.01)          # the corner
    assert cov.sum() == pytest.approx(3.5 * 3.25, rel=0.01)


def test_frames_reach_the_video_in_order_through_the_buffer_ring(tmp_path: Path) -> None:
    """More frames than the ring of YUV buffers: each decodes to its own grey, in order."""
    import av

    h, w = 32, 48
    greys = [16 + 13 * i for i in range(15)]
    frames = []
    for g in greys:
        img = canvas(w, h)
        img[..., :3] = g
        frames.append(img)
    encode.write_mp4(tmp_path / "g.mp4", iter(frames), (w, h), 30)
    with av.open(str(tmp_path / "g.mp4")) as c:
        got = [float(f.to_ndarray(format="rgb24")[..., 0].mean()) for f in c.decode(video=0)]
    assert got == pytest.approx(greys, abs=3)
