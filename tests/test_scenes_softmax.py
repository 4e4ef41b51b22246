"""``argmax-softmax`` (scenes/softmax.py): the one-hot winner is numpy's argmax, every softmax
bar is torch's softmax and sums to 1, bars stay in their limits, and the colour modes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from scene_helpers import all_frames, panel, renders_tiny, segment, texts_of
from spacefold.render.frame import Bars
from spacefold.render.timeline import Timeline
from spacefold.scenes import build_scene


@pytest.fixture(scope="module")
def tl() -> Timeline:
    return build_scene("argmax-softmax")


def test_renders_tiny_mp4_and_png(tl: Timeline, tmp_path: Path) -> None:
    renders_tiny("argmax-softmax", tl, tmp_path)


def test_argmax_is_one_hot_at_np_argmax(tl: Timeline) -> None:
    s = tl.meta["scores"]
    assert s.shape == (25,)
    k = int(np.argmax(s))
    assert tl.meta["argmax"] == k == 3          # the index MISSION.md names
    f = segment(tl, "argmax").frame(1.0)
    want = np.zeros(25)
    want[k] = 1.0
    np.testing.assert_array_equal(panel(f, Bars).values, want)
    assert f"argmax = {k}" in texts_of(f)


def test_softmax_bars_are_torch_softmax_and_sum_to_one(tl: Timeline) -> None:
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


def test_bars_stay_inside_their_limits(tl: Timeline) -> None:
    for f in all_frames(tl):
        bars = panel(f, Bars)
        lo, hi = bars.ylim
        assert lo <= min(bars.values.min(), 0.0) and bars.values.max() < hi


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
