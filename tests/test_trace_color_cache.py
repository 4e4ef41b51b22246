"""trace/color_cache.py: a trace's point colours through a ColorCache are the numbers
Trace.colors computes, computed once per (points, labels, mode, palette)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import spacefold as sf
from spacefold import colors
from spacefold.trace import ColorCache


def test_cached_colours_are_the_traces_own_and_computed_once(color_calls: Counter[str]) -> None:
    d = sf.dataset("spiral", classes=3, n=60, seed=1)
    cache = ColorCache()
    plain = sf.trace(sf.build("2-5-3", seed=0), d, grid=False)
    want = {by: plain.colors(by) for by in ("class", "position")}
    assert color_calls == {"class": 1, "position": 1}
    for seed in range(3):                     # new networks, the same points and labels
        t = sf.trace(sf.build("2-5-3", seed=seed), d, grid=False, color_cache=cache)
        for by in ("class", "position"):
            np.testing.assert_array_equal(t.colors(by), want[by])
    assert color_calls == {"class": 2, "position": 2} and len(cache) == 2


def test_other_points_labels_or_palette_are_computed_again(color_calls: Counter[str]) -> None:
    d = sf.dataset("moons", n=40, seed=0)
    net = sf.build("2-4-2", seed=0)
    cache = ColorCache()
    sf.trace(net, d, grid=False, color_cache=cache).colors("class")
    sf.trace(net, d.x, labels=1 - d.y, grid=False, color_cache=cache).colors("class")
    sf.trace(net, d.x + 1.0, labels=d.y, grid=False, color_cache=cache).colors("class")
    assert color_calls["class"] == 3
    with colors.look(palette="okabe-ito"):
        t = sf.trace(net, d, grid=False, color_cache=cache)
        got = t.colors("class")
        np.testing.assert_array_equal(got, colors.OKABE_ITO[d.y])     # moons: classes 0, 1
    assert color_calls["class"] == 4
    # no labels: "class" falls back to position colours, kept apart from the labelled ones
    sf.trace(net, d.x, grid=False, color_cache=cache).colors("class")
    assert color_calls == {"class": 4, "position": 1}


def test_a_caller_editing_its_colours_leaves_the_cache_alone() -> None:
    d = sf.dataset("xor", n=30, seed=0)
    cache = ColorCache()
    t = sf.trace(sf.build("2-3-2"), d, grid=False, color_cache=cache)
    first = t.colors("position")
    want = first.copy()
    first[:] = 0.0
    np.testing.assert_array_equal(t.colors("position"), want)


def test_the_oldest_entry_goes_when_the_cache_is_full() -> None:
    cache = ColorCache(size=2)
    calls: list[int] = []

    def get(i: int) -> None:
        cache.get("position", np.full((2, 2), float(i)), None,
                  lambda by: calls.append(i) or np.zeros((2, 3)))

    for i in (0, 1, 0, 2, 1, 0):
        get(i)
    # 0 and 1 computed; 0 hit; 2 evicts 0 (oldest); 1 hit; 0 computed again, evicting 1
    assert calls == [0, 1, 2, 0] and len(cache) == 2


def test_a_bad_colour_mode_is_refused_with_or_without_a_cache() -> None:
    d = sf.dataset("xor", n=20, seed=0)
    for cache in (None, ColorCache()):
        t = sf.trace(sf.build("2-3-2"), d, grid=False, color_cache=cache)
        with pytest.raises(sf.SpacefoldError, match="choose class or position"):
            t.colors("hue")
