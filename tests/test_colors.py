"""colors.py: colour names read as Matplotlib reads them (Matplotlib as the oracle), the
palette and theme in use, and the two point colourings."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from matplotlib import colors as mcolors

from spacefold import colors


def test_every_name_is_matplotlibs_colour() -> None:
    """The names file holds Matplotlib's CSS4, base and Tableau names, each its colour; the
    C0..C9 cycle is Matplotlib's default cycle."""
    want = {**mcolors.BASE_COLORS, **mcolors.TABLEAU_COLORS, **mcolors.CSS4_COLORS}
    names = colors.named_colors()
    assert set(names) == set(want) | {f"C{i}" for i in range(10)}
    for name in names:
        assert colors.rgba(name) == pytest.approx(mcolors.to_rgba(name), abs=1 / 255), name
        assert colors.rgba(name.upper()) == colors.rgba(name)     # names ignore case


def test_a_colour_that_is_not_one_is_a_one_line_error() -> None:
    for bad in ("blurple", "#12345", "#ggg", (1, 2), (2.0, 0.0, 0.0), None, 3):
        assert colors.rgba(bad) is None
        with pytest.raises(ValueError, match="is not a colour") as e:
            colors.color_of(bad)
        assert "\n" not in str(e.value)
    assert colors.color_of("#ff000080", alpha=0.25) == (1.0, 0.0, 0.0, 0.25)


def test_the_palette_and_theme_are_the_looks_for_the_block_only() -> None:
    labels = np.arange(12)
    assert colors.theme().name == "dark"
    np.testing.assert_array_equal(colors.class_colors(labels),
                                  colors.CLASS_COLORS[labels % len(colors.CLASS_COLORS)])
    with colors.look("light", "okabe-ito"):
        assert colors.theme().name == "light"
        np.testing.assert_array_equal(colors.class_colors(labels),
                                      colors.OKABE_ITO[labels % 8])   # black stays black
        seen: list[str] = []
        t = threading.Thread(target=lambda: seen.append(colors.theme().name))
        t.start()
        t.join()
        assert seen == ["dark"]                                      # per thread
    with colors.look("dark", "okabe-ito"):
        assert colors.class_colors(np.array([7]))[0] == pytest.approx([0.6] * 3)  # black → grey
    assert colors.theme().name == "dark"
    with pytest.raises(ValueError, match="choose one of dark, light"):
        colors.check_look("sepia")
    with pytest.raises(ValueError, match="choose one of default, okabe-ito"):
        colors.check_look(palette="viridis")


def test_the_light_theme_inks_white_with_its_foreground() -> None:
    light, dark = colors.THEMES["light"], colors.THEMES["dark"]
    fg = colors.color_of(light.foreground)
    assert light.ink((1.0, 1.0, 1.0, 0.4)) == (*fg[:3], 0.4)
    assert light.ink(colors.color_of(colors.FOREGROUND, 0.7)) == (*fg[:3], 0.7)
    assert light.ink((0.98, 0.36, 0.44, 1.0)) == (0.98, 0.36, 0.44, 1.0)    # data stay
    assert dark.ink((1.0, 1.0, 1.0, 0.4)) == (1.0, 1.0, 1.0, 0.4)
    rgb = np.array([[0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(dark.region(rgb, 0.4), rgb * 0.4)
    np.testing.assert_array_equal(light.region(rgb, 0.4), rgb)


def _hue(angle: np.ndarray) -> np.ndarray:
    """(N,) angle about the centre → (N, 3) the hue wheel's RGB (red at angle π, then
    yellow, green, cyan at 0, blue, magenta)."""
    h6 = (angle + np.pi) / (2 * np.pi) * 6.0
    return np.stack([np.clip(np.abs(h6 - 3) - 1, 0, 1), np.clip(2 - np.abs(h6 - 2), 0, 1),
                     np.clip(2 - np.abs(h6 - 4), 0, 1)], axis=1)


def test_position_colours_follow_angle_and_radius_around_the_median() -> None:
    """Hue from the angle about the median point (not the origin), brightness from the radius
    as a share of the 95th percentile, clipped to [0.25, 1]."""
    ang = np.linspace(-np.pi, np.pi, 12, endpoint=False)
    centre = np.array([5.0, -3.0])
    ring = np.stack([np.cos(ang), np.sin(ang)], axis=1) * 2.0 + centre
    inner = (ring[:4] - centre) * 0.5 + centre                # half the radius
    x = np.concatenate([ring, ring, inner, [centre]])          # the median is the centre
    c = colors.position_colors(x)
    assert c.shape == (len(x), 3)
    np.testing.assert_allclose(c[:12], 0.35 + 0.65 * _hue(ang), atol=1e-12)
    np.testing.assert_allclose(c[24:28], 0.35 + 0.65 * 0.5 * _hue(ang[:4]), atol=1e-12)
    # the centre has no angle to speak of; its brightness is the floor's (a quarter)
    assert np.all(c[-1] <= 0.35 + 0.65 * 0.25 + 1e-12)
    assert c[0] == pytest.approx([1.0, 0.35, 0.35])                   # angle -π: red
    assert c[6] == pytest.approx([0.35, 1.0, 1.0])                    # angle 0: cyan
