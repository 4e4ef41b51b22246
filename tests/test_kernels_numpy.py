"""The numpy primitives (render/kernels_numpy.py) draw what the C kernels draw: the same
pixels to 2/255 on every primitive, over opaque and translucent buffers, with clipping,
non-finite and far-away coordinates, overlaps, hairlines and densely sampled lines."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from spacefold.render import rasterize

pytestmark = pytest.mark.skipif(rasterize.COMPILED is None, reason="the C extension was not built")
TOL = 2                                  # 0-255 channel units


def canvas(opaque: bool, w: int = 160, h: int = 90) -> np.ndarray:
    buf = np.zeros((h, w, 4), dtype=np.uint8)
    buf[..., :3] = (26, 26, 31)
    buf[..., 3] = 255 if opaque else 120
    buf[h // 2:, : w // 3, 3] = 0 if not opaque else 255        # fully transparent corner
    return buf


def walk(seed: int, lines: int, verts: int, step: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, step, (lines, verts, 2)), axis=1) + [80.0, 45.0]


def _discs(k: rasterize.Kernels, buf: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(-8, 168, (400, 2))
    xy[::7] = xy[3]                                          # a stack on one spot: order shows
    xy[5] = (np.nan, 3.0)
    xy[6] = (1e15, -1e15)
    rasterize.draw_discs(buf, xy, rng.uniform(0, 1, (400, 4)), 3.3, (5, 4, 150, 80), k)
    rasterize.draw_discs(buf, xy[:50] * 0.5, np.tile([1.0, 0.9, 0.2, 1.0], (50, 1)), 0.4,
                         kernels=k)


def _polylines(k: rasterize.Kernels, buf: np.ndarray) -> None:
    pts = walk(2, 12, 90, 2.0)
    pts[3, 40] = np.nan                                      # breaks the line
    rasterize.draw_polylines(buf, pts, (0.3, 0.8, 1.0, 0.7), 1.7, kernels=k)
    t = np.linspace(0, 9, 900)                               # dense: vertices merged into chords
    dense = np.stack([t * 18, 45 + 25 * np.sin(t)], axis=1)[None]
    rasterize.draw_polylines(buf, dense, (1.0, 0.5, 0.2, 0.9), 2.5, kernels=k)
    rng = np.random.default_rng(3)
    hair = rng.uniform(-40, 200, (60, 2, 2))                 # crossing hairlines, clipped
    rasterize.draw_polylines(buf, hair, (1.0, 1.0, 1.0, 0.9), 0.6, (10, 10, 150, 80), k)
    far = np.array([[[-1e9, 20.0], [1e9, 60.0]], [[40.0, 40.0], [40.0, 40.0]]])
    rasterize.draw_polylines(buf, far, (0.2, 1.0, 0.3, 1.0), 4.0, kernels=k)


def _boxes_and_images(k: rasterize.Kernels, buf: np.ndarray) -> None:
    rasterize.fill_rect(buf, (10.3, 5.6, 90.2, 70.9), (0.2, 0.9, 0.4, 0.6), (0, 0, 80, 60), k)
    rasterize.fill_rect(buf, (120.0, 80.5, 100.25, 30.0), (1.0, 0.2, 0.4, 1.0), kernels=k)
    img = np.random.default_rng(4).integers(0, 256, (40, 70, 4), dtype=np.uint8)
    img[:5, :, 3] = 0
    rasterize.draw_image(buf, img, 120, -5, kernels=k)
    rasterize.draw_image(buf, img, -30, 60, (0, 0, 100, 90), k)


DRAW: dict[str, Callable[[rasterize.Kernels, np.ndarray], None]] = {
    "discs": _discs, "polylines": _polylines, "boxes-images": _boxes_and_images}


@pytest.mark.parametrize("opaque", [True, False], ids=["opaque", "translucent"])
@pytest.mark.parametrize("name", list(DRAW))
def test_numpy_primitives_match_the_c_ones(name: str, opaque: bool) -> None:
    got = []
    for k in (rasterize.COMPILED, rasterize.NUMPY):
        assert k is not None
        buf = canvas(opaque)
        DRAW[name](k, buf)
        got.append(buf.astype(int))
    c, n = got
    assert (c != canvas(opaque)).any(axis=-1).mean() > 0.05      # the test draws something
    diff = np.abs(c - n)
    where = np.unravel_index(diff.argmax(), diff.shape)
    assert diff.max() <= TOL, f"max |diff| {diff.max()} at {where}"


@pytest.mark.parametrize("opaque", [True, False], ids=["opaque", "translucent"])
def test_numpy_polylines_are_the_c_polylines(opaque: bool) -> None:
    """Both blend each pixel once by the largest coverage, computed by the same formula (the C
    kernel's single-precision shortcut redoes in double every value it cannot round surely):
    the same bytes, not just within TOL."""
    got = []
    for k in (rasterize.COMPILED, rasterize.NUMPY):
        assert k is not None
        buf = canvas(opaque)
        _polylines(k, buf)
        got.append(buf)
    assert np.array_equal(*got)


@pytest.mark.parametrize("w", [2, 6, 14, 16, 18, 34, 66, 128, 130])
def test_numpy_yuv_is_the_c_yuv(w: int) -> None:
    """Bit for bit, at widths that end in every one of the C kernel's paths (AVX2 lanes of 16
    pixels, SSE2 of 8, scalar pairs), on random and extreme values."""
    rng = np.random.default_rng(5 + w)
    assert rasterize.COMPILED is not None
    for img in (rng.integers(0, 256, (6, w, 4), dtype=np.uint8),
                rng.integers(0, 2, (4, w, 4), dtype=np.uint8) * np.uint8(255),
                np.full((2, w, 4), 255, dtype=np.uint8)):
        assert np.array_equal(rasterize.yuv420(img, kernels=rasterize.COMPILED),
                              rasterize.yuv420(img, kernels=rasterize.NUMPY))
