"""Colours shared by every backend, and colour parsing (plain numpy; no drawing library)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

BACKGROUND = "#1a1a1f"
FOREGROUND = "#e8e8ee"
GRID = (0.35, 0.55, 0.85, 0.9)
AXES = (1.0, 1.0, 1.0, 0.22)
POSITIVE = "#4fb3ff"   # positive weights
NEGATIVE = "#ff7a59"   # negative weights

# Distinct, bright on dark: class k gets CLASS_COLORS[k % len]; twenty, as many classes as a
# generated dataset has at most (the first ten bright, the next ten paler or deeper)
CLASS_COLORS = np.array([
    [0.98, 0.78, 0.20], [0.25, 0.72, 0.98], [0.98, 0.36, 0.44], [0.45, 0.88, 0.47],
    [0.76, 0.52, 0.98], [0.98, 0.58, 0.22], [0.30, 0.90, 0.85], [0.95, 0.50, 0.80],
    [0.70, 0.75, 0.40], [0.60, 0.65, 0.98],
    [0.98, 0.93, 0.60], [0.62, 0.87, 1.00], [1.00, 0.70, 0.68], [0.75, 1.00, 0.70],
    [0.89, 0.78, 1.00], [0.78, 0.42, 0.10], [0.10, 0.58, 0.55], [0.72, 0.28, 0.58],
    [0.86, 0.86, 0.86], [0.32, 0.42, 0.84],
])


# Okabe & Ito's colour-blind-safe palette (8 colours, black last; the web viewer's OKABE_ITO).
OKABE_ITO = np.array([[0xe6, 0x9f, 0x00], [0x56, 0xb4, 0xe9], [0x00, 0x9e, 0x73],
                      [0xf0, 0xe4, 0x42], [0x00, 0x72, 0xb2], [0xd5, 0x5e, 0x00],
                      [0xcc, 0x79, 0xa7], [0x00, 0x00, 0x00]], dtype=np.float64) / 255


@dataclass(frozen=True)
class Theme:
    """The colours of a frame that are not data: background, text, grid, axes, weights.

    Scenes draw in the dark theme's terms, where white is ink: the light theme turns white
    and the dark theme's foreground (any alpha) into its own foreground (:meth:`ink`)."""

    name: str
    background: str
    foreground: str
    grid: RGBA
    axes: RGBA
    positive: str
    negative: str
    band: RGBA              # the diagram's highlight of the layer playing

    def ink(self, color: RGBA) -> RGBA:
        """``color`` as drawn in this theme: white/the dark foreground → this foreground."""
        if self.name == "dark":
            return color
        r, g, b, a = color
        if min(r, g, b) >= 0.9:
            f = color_of(self.foreground)
            return (f[0], f[1], f[2], a)
        return color

    def region(self, rgb: np.ndarray, dim: float) -> np.ndarray:
        """Class colours as a decision region's tint: darkened on dark, as they are on light."""
        return rgb * dim if self.name == "dark" else rgb


# The two themes; the names and the light colours are the web viewer's (web/src/viewer.ts)
THEMES = {
    "dark": Theme("dark", BACKGROUND, FOREGROUND, GRID, AXES, POSITIVE, NEGATIVE,
                  (1.0, 1.0, 1.0, 0.07)),
    "light": Theme("light", "#fbfbf8", "#1d1d22", (0.32, 0.45, 0.66, 0.75),
                   (0.0, 0.0, 0.0, 0.35), "#0072b2", "#d55e00", (0.0, 0.0, 0.0, 0.06)),
}
PALETTES = {"default": CLASS_COLORS, "okabe-ito": OKABE_ITO}

# How points tell their class: "dots" (colour alone) or "shapes" (a marker shape per class as
# well, for greyscale print; render/markers.py draws them, in the web viewer's order).
MARKERS = ("dots", "shapes")

_LOOK: ContextVar[tuple[str, str, str]] = ContextVar("spacefold_look",
                                                     default=("dark", "default", "dots"))


def check_look(theme: str = "dark", palette: str = "default",
               markers: str = "dots") -> tuple[str, str, str]:
    """``(theme, palette, markers)`` if all are known; else a ValueError naming the choices."""
    if theme not in THEMES:
        raise ValueError(f"theme {theme!r}: choose one of {', '.join(THEMES)}")
    if palette not in PALETTES:
        raise ValueError(f"palette {palette!r}: choose one of {', '.join(PALETTES)}")
    if markers not in MARKERS:
        raise ValueError(f"markers {markers!r}: choose one of {', '.join(MARKERS)}")
    return theme, palette, markers


@contextmanager
def look(theme: str = "dark", palette: str = "default", markers: str = "dots"
         ) -> Iterator[None]:
    """Within the block, :func:`theme`, :func:`palette` and :func:`markers` are these (per
    thread/task)."""
    token = _LOOK.set(check_look(theme, palette, markers))
    try:
        yield
    finally:
        _LOOK.reset(token)


def theme() -> Theme:
    """The theme in use (:func:`look`; dark by default)."""
    return THEMES[_LOOK.get()[0]]


def markers() -> str:
    """How points tell their class in the look in use: "dots" or "shapes"."""
    return _LOOK.get()[2]


def palette() -> np.ndarray:
    """The class colours in use, (K, 3) RGB: Okabe–Ito's black is grey on the dark theme."""
    name, pal, _ = _LOOK.get()
    if pal == "okabe-ito" and name == "dark":
        out = OKABE_ITO.copy()
        out[7] = 0.6
        return out
    return PALETTES[pal]


def class_colors(labels: np.ndarray) -> np.ndarray:
    """(N,) int labels → (N, 3) RGB floats in [0, 1], in the palette in use."""
    pal = palette()
    return pal[np.asarray(labels, dtype=np.int64) % len(pal)]


def position_colors(x: np.ndarray) -> np.ndarray:
    """A 2-D colour map: hue from the angle, brightness from the radius of the start position.

    (N, 2) → (N, 3) RGB in [0, 1]; you can see where each point of the plane went.
    """
    x = np.asarray(x, dtype=np.float64)[:, :2]
    c = x - np.median(x, axis=0)
    scale = np.percentile(np.hypot(c[:, 0], c[:, 1]), 95) or 1.0
    ang = (np.arctan2(c[:, 1], c[:, 0]) + np.pi) / (2 * np.pi)
    r = np.clip(np.hypot(c[:, 0], c[:, 1]) / scale, 0.25, 1.0)
    h6 = ang * 6.0
    rgb = np.stack([np.clip(np.abs(h6 - 3) - 1, 0, 1),
                    np.clip(2 - np.abs(h6 - 2), 0, 1),
                    np.clip(2 - np.abs(h6 - 4), 0, 1)], axis=1)
    return np.clip(0.35 + 0.65 * rgb * r[:, None], 0, 1)


RGBA = tuple[float, float, float, float]
_HEX = re.compile(r"#[0-9a-fA-F]{3,8}")

# Matplotlib's colour names (CSS4, the one-letter base colours, "tab:") as data, and its "C0".."C9"
# cycle, read on first use (:func:`named_colors`)
NAMES_FILE = Path(__file__).with_name("color_names.json")
CYCLE = ("blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan")


@cache
def named_colors() -> Mapping[str, str]:
    """Matplotlib's colour names → ``"#rrggbb"``: :data:`NAMES_FILE`, and ``"C0"``..``"C9"``
    as its default cycle (the ``"tab:"`` colours in :data:`CYCLE`'s order)."""
    table: dict[str, str] = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    table.update({f"C{i}": table[f"tab:{n}"] for i, n in enumerate(CYCLE)})
    return MappingProxyType(table)


def rgba(color: Any, alpha: float | None = None) -> RGBA | None:
    """A colour as (r, g, b, a) floats: "#rgb", "#rrggbb", "#rrggbbaa", a colour name
    (:func:`named_colors`, "none") or a 3/4-tuple; like Matplotlib's ``to_rgba``, ``alpha``
    replaces the colour's own alpha. None for anything else."""
    if isinstance(color, str):
        if color.lower() == "none":
            return (0.0, 0.0, 0.0, 0.0)
        names = named_colors()
        color = names.get(color, names.get(color.lower(), color))
        if not _HEX.fullmatch(color) or len(color) not in (4, 7, 9):
            return None
        h = color[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        vals = [int(h[i:i + 2], 16) / 255 for i in range(0, len(h), 2)] + [1.0]
    else:
        try:
            vals = [float(v) for v in color] + [1.0]
        except (TypeError, ValueError):
            return None
        if len(vals) not in (4, 5) or not all(0.0 <= v <= 1.0 for v in vals):
            return None
    r, g, b, a = vals[:4]
    return (r, g, b, a if alpha is None else float(alpha))


def color_of(color: Any, alpha: float | None = None) -> RGBA:
    """:func:`rgba`, or a one-line ValueError naming what is not a colour."""
    got = rgba(color, alpha)
    if got is None:
        raise ValueError(f"{color!r} is not a colour (use \"#rrggbb\", a name such as "
                         f"\"white\" or an (r, g, b[, a]) tuple of 0..1 floats)")
    return got
