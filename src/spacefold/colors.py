"""Colours shared by every backend, and colour parsing (plain numpy; no drawing library)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

BACKGROUND = "#1a1a1f"
FOREGROUND = "#e8e8ee"
GRID = (0.35, 0.55, 0.85, 0.9)
AXES = (1.0, 1.0, 1.0, 0.22)
POSITIVE = "#4fb3ff"   # positive weights
NEGATIVE = "#ff7a59"   # negative weights

# Distinct, bright on dark: class k gets CLASS_COLORS[k % len].
CLASS_COLORS = np.array([
    [0.98, 0.78, 0.20], [0.25, 0.72, 0.98], [0.98, 0.36, 0.44], [0.45, 0.88, 0.47],
    [0.76, 0.52, 0.98], [0.98, 0.58, 0.22], [0.30, 0.90, 0.85], [0.95, 0.50, 0.80],
    [0.70, 0.75, 0.40], [0.60, 0.65, 0.98],
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

_LOOK: ContextVar[tuple[str, str]] = ContextVar("spacefold_look", default=("dark", "default"))


def check_look(theme: str = "dark", palette: str = "default") -> tuple[str, str]:
    """``(theme, palette)`` if both are known; else a ValueError naming the choices."""
    if theme not in THEMES:
        raise ValueError(f"theme {theme!r}: choose one of {', '.join(THEMES)}")
    if palette not in PALETTES:
        raise ValueError(f"palette {palette!r}: choose one of {', '.join(PALETTES)}")
    return theme, palette


@contextmanager
def look(theme: str = "dark", palette: str = "default") -> Iterator[None]:
    """Within the block, :func:`theme` and :func:`palette` are these (per thread/task)."""
    token = _LOOK.set(check_look(theme, palette))
    try:
        yield
    finally:
        _LOOK.reset(token)


def theme() -> Theme:
    """The theme in use (:func:`look`; dark by default)."""
    return THEMES[_LOOK.get()[0]]


def palette() -> np.ndarray:
    """The class colours in use, (K, 3) RGB: Okabe–Ito's black is grey on the dark theme."""
    name, pal = _LOOK.get()
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

# Matplotlib's colour names (CSS4, the one-letter base colours, "tab:" and the "C0".."C9" cycle)
NAMED = {
    "aliceblue": "#f0f8ff", "antiquewhite": "#faebd7", "aqua": "#00ffff", "aquamarine": "#7fffd4",
    "azure": "#f0ffff", "b": "#0000ff", "beige": "#f5f5dc", "bisque": "#ffe4c4",
    "black": "#000000", "blanchedalmond": "#ffebcd", "blue": "#0000ff", "blueviolet": "#8a2be2",
    "brown": "#a52a2a", "burlywood": "#deb887", "c": "#00bfbf", "cadetblue": "#5f9ea0",
    "chartreuse": "#7fff00", "chocolate": "#d2691e", "coral": "#ff7f50",
    "cornflowerblue": "#6495ed", "cornsilk": "#fff8dc", "crimson": "#dc143c", "cyan": "#00ffff",
    "darkblue": "#00008b", "darkcyan": "#008b8b", "darkgoldenrod": "#b8860b",
    "darkgray": "#a9a9a9", "darkgreen": "#006400", "darkgrey": "#a9a9a9", "darkkhaki": "#bdb76b",
    "darkmagenta": "#8b008b", "darkolivegreen": "#556b2f", "darkorange": "#ff8c00",
    "darkorchid": "#9932cc", "darkred": "#8b0000", "darksalmon": "#e9967a",
    "darkseagreen": "#8fbc8f", "darkslateblue": "#483d8b", "darkslategray": "#2f4f4f",
    "darkslategrey": "#2f4f4f", "darkturquoise": "#00ced1", "darkviolet": "#9400d3",
    "deeppink": "#ff1493", "deepskyblue": "#00bfff", "dimgray": "#696969", "dimgrey": "#696969",
    "dodgerblue": "#1e90ff", "firebrick": "#b22222", "floralwhite": "#fffaf0",
    "forestgreen": "#228b22", "fuchsia": "#ff00ff", "g": "#008000", "gainsboro": "#dcdcdc",
    "ghostwhite": "#f8f8ff", "gold": "#ffd700", "goldenrod": "#daa520", "gray": "#808080",
    "green": "#008000", "greenyellow": "#adff2f", "grey": "#808080", "honeydew": "#f0fff0",
    "hotpink": "#ff69b4", "indianred": "#cd5c5c", "indigo": "#4b0082", "ivory": "#fffff0",
    "k": "#000000", "khaki": "#f0e68c", "lavender": "#e6e6fa", "lavenderblush": "#fff0f5",
    "lawngreen": "#7cfc00", "lemonchiffon": "#fffacd", "lightblue": "#add8e6",
    "lightcoral": "#f08080", "lightcyan": "#e0ffff", "lightgoldenrodyellow": "#fafad2",
    "lightgray": "#d3d3d3", "lightgreen": "#90ee90", "lightgrey": "#d3d3d3",
    "lightpink": "#ffb6c1", "lightsalmon": "#ffa07a", "lightseagreen": "#20b2aa",
    "lightskyblue": "#87cefa", "lightslategray": "#778899", "lightslategrey": "#778899",
    "lightsteelblue": "#b0c4de", "lightyellow": "#ffffe0", "lime": "#00ff00",
    "limegreen": "#32cd32", "linen": "#faf0e6", "m": "#bf00bf", "magenta": "#ff00ff",
    "maroon": "#800000", "mediumaquamarine": "#66cdaa", "mediumblue": "#0000cd",
    "mediumorchid": "#ba55d3", "mediumpurple": "#9370db", "mediumseagreen": "#3cb371",
    "mediumslateblue": "#7b68ee", "mediumspringgreen": "#00fa9a", "mediumturquoise": "#48d1cc",
    "mediumvioletred": "#c71585", "midnightblue": "#191970", "mintcream": "#f5fffa",
    "mistyrose": "#ffe4e1", "moccasin": "#ffe4b5", "navajowhite": "#ffdead", "navy": "#000080",
    "oldlace": "#fdf5e6", "olive": "#808000", "olivedrab": "#6b8e23", "orange": "#ffa500",
    "orangered": "#ff4500", "orchid": "#da70d6", "palegoldenrod": "#eee8aa",
    "palegreen": "#98fb98", "paleturquoise": "#afeeee", "palevioletred": "#db7093",
    "papayawhip": "#ffefd5", "peachpuff": "#ffdab9", "peru": "#cd853f", "pink": "#ffc0cb",
    "plum": "#dda0dd", "powderblue": "#b0e0e6", "purple": "#800080", "r": "#ff0000",
    "rebeccapurple": "#663399", "red": "#ff0000", "rosybrown": "#bc8f8f", "royalblue": "#4169e1",
    "saddlebrown": "#8b4513", "salmon": "#fa8072", "sandybrown": "#f4a460", "seagreen": "#2e8b57",
    "seashell": "#fff5ee", "sienna": "#a0522d", "silver": "#c0c0c0", "skyblue": "#87ceeb",
    "slateblue": "#6a5acd", "slategray": "#708090", "slategrey": "#708090", "snow": "#fffafa",
    "springgreen": "#00ff7f", "steelblue": "#4682b4", "tab:blue": "#1f77b4",
    "tab:brown": "#8c564b", "tab:cyan": "#17becf", "tab:gray": "#7f7f7f", "tab:green": "#2ca02c",
    "tab:olive": "#bcbd22", "tab:orange": "#ff7f0e", "tab:pink": "#e377c2",
    "tab:purple": "#9467bd", "tab:red": "#d62728", "tan": "#d2b48c", "teal": "#008080",
    "thistle": "#d8bfd8", "tomato": "#ff6347", "turquoise": "#40e0d0", "violet": "#ee82ee",
    "w": "#ffffff", "wheat": "#f5deb3", "white": "#ffffff", "whitesmoke": "#f5f5f5",
    "y": "#bfbf00", "yellow": "#ffff00", "yellowgreen": "#9acd32",
}
NAMED.update({f"C{i}": NAMED[f"tab:{n}"] for i, n in enumerate(
    ("blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan"))})


def rgba(color: Any, alpha: float | None = None) -> RGBA | None:
    """A colour as (r, g, b, a) floats: "#rgb", "#rrggbb", "#rrggbbaa", a colour name
    (:data:`NAMED`, "none") or a 3/4-tuple; like Matplotlib's ``to_rgba``, ``alpha`` replaces
    the colour's own alpha. None for anything else."""
    if isinstance(color, str):
        if color.lower() == "none":
            return (0.0, 0.0, 0.0, 0.0)
        color = NAMED.get(color, NAMED.get(color.lower(), color))
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
