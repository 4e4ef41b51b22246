"""Text as RGBA sprites, without Matplotlib: plain strings are laid out and rasterised with
FreeType through Pillow, in the fonts Matplotlib uses by default (DejaVu, from its own data
folder), with its line spacing and alignment rules. Importing Matplotlib costs more than half
a second, longer than drawing a whole 10-second video; only mathtext (``$...$``) needs it, and
:mod:`spacefold.render.sprites` sends those strings there.

A sprite is ``(image, ox, oy)``: ``image`` (H, W, 4) uint8 RGBA with straight alpha, rows
top to bottom, and the anchor (the point the text is aligned to) at ``(ox, oy)`` pixels from
the image's lower-left corner, y up.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

Sprite = tuple[np.ndarray, float, float]

_PAD = 2
SMALLEST_PX = 1.0
_MAX_SPRITES = 512
_FONT_FILES = {("sans-serif", False): "DejaVuSans.ttf", ("sans-serif", True): "DejaVuSans-Bold.ttf",
               ("monospace", False): "DejaVuSansMono.ttf",
               ("monospace", True): "DejaVuSansMono-Bold.ttf",
               ("serif", False): "DejaVuSerif.ttf", ("serif", True): "DejaVuSerif-Bold.ttf"}
_FAMILIES = {"sans-serif": "sans-serif", "sans": "sans-serif", "dejavu sans": "sans-serif",
             "monospace": "monospace", "mono": "monospace", "dejavu sans mono": "monospace",
             "serif": "serif", "dejavu serif": "serif"}
_MATH = re.compile(r"(?<!\\)\$.*(?<!\\)\$", re.S)


def is_mathtext(s: str) -> bool:
    """True when ``s`` holds a ``$...$`` span (Matplotlib's mathtext)."""
    return bool(_MATH.search(s))


def family_of(family: Any) -> str | None:
    """The generic family ("sans-serif", "monospace", "serif") of a Matplotlib-style family
    name or list of names (first known wins); None when none is known."""
    names = [family] if isinstance(family, str) else list(family or ["sans-serif"])
    for name in names:
        f = _FAMILIES.get(str(name).lower())
        if f is not None:
            return f
    return None


def is_bold(weight: Any) -> bool:
    if isinstance(weight, (int, float)):
        return weight >= 600
    return str(weight).lower() in ("bold", "heavy", "extra bold", "black", "semibold",
                                   "demibold", "demi")


@functools.cache
def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")   # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib's fonts were not found (is matplotlib installed?)")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@functools.lru_cache(maxsize=64)
def _font(family: str, bold: bool, px: float) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(_font_dir() / _FONT_FILES[(family, bold)]), size=px,
                              layout_engine=ImageFont.Layout.BASIC)


def _rgba8(color: tuple[float, ...]) -> np.ndarray:
    c = (list(color) + [1.0] * 4)[:4]
    return np.array([round(min(max(v, 0.0), 1.0) * 255) for v in c], dtype=np.uint8)


@functools.lru_cache(maxsize=16)
def _vertical_metrics(family: str, bold: bool) -> tuple[float, float, float]:
    """(ascent, descent, line gap) in em, as Matplotlib reads them: the OS/2 table's typographic
    metrics, else the hhea table's."""
    data = (_font_dir() / _FONT_FILES[(family, bold)]).read_bytes()
    tables = {data[12 + 16 * i:16 + 16 * i]: struct.unpack(">I", data[20 + 16 * i:24 + 16 * i])[0]
              for i in range(struct.unpack(">H", data[4:6])[0])}
    upem = struct.unpack(">H", data[tables[b"head"] + 18:tables[b"head"] + 20])[0]
    if b"OS/2" in tables:
        asc, desc, gap = struct.unpack(">hhh", data[tables[b"OS/2"] + 68:tables[b"OS/2"] + 74])
    else:
        asc, desc, gap = struct.unpack(">hhh", data[tables[b"hhea"] + 4:tables[b"hhea"] + 10])
    return asc / upem, -desc / upem, gap / upem


def render(text: str, size_pt: float, color: tuple[float, ...], ha: str = "left",
           va: str = "baseline", family: Any = "sans-serif", weight: Any = "normal",
           linespacing: float | str = "normal", multialignment: str | None = None,
           dpi: float = 100.0) -> Sprite:
    """Rasterise plain (non-math) ``text``, laid out as Matplotlib's ``Text`` does: each line
    as tall as its ink but at least the font's ascent and descent (plus half the line gap
    each, for several lines; or exactly ``linespacing`` x the font's height when that is a
    number), the block aligned by ``ha``/``va`` and its lines by ``multialignment``."""
    from PIL import Image, ImageDraw

    fam = family_of(family) or "sans-serif"
    bold = is_bold(weight)
    # FreeType takes no size below one pixel ("invalid ppem value"): text on the smallest
    # frames (16 px tall) is drawn at one pixel, a speck where a caption would be
    px = max(size_pt * dpi / 72.0, SMALLEST_PX)
    font = _font(fam, bold, px)
    asc_em, desc_em, gap_em = _vertical_metrics(fam, bold)
    min_a, min_d = asc_em * px, desc_em * px
    lines = text.split("\n")
    gap = gap_em * px if len(lines) > 1 else 0.0
    boxes = [font.getbbox(line, anchor="ls") if line else (0, 0, 0, 0) for line in lines]
    baselines, widths = [], []
    y = d = 0.0
    for left, top, right, bottom in boxes:
        a, d = float(-top), float(bottom)
        if isinstance(linespacing, str):
            a, d = max(a, min_a) + gap / 2, max(d, min_d) + gap / 2
        else:
            lead = linespacing * (min_a + min_d) - (a + d)
            a, d = a + lead / 2, d + lead / 2
        baselines.append(y + a)
        widths.append(float(right - left))
        y += a + d
    block_h, block_w = y, max(widths)
    w = int(np.ceil(block_w)) + 2 * _PAD
    h = int(np.ceil(block_h)) + 2 * _PAD
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    align = multialignment or ha
    for line, (left, *_), lw, base in zip(lines, boxes, widths, baselines, strict=True):
        if line:
            dx = {"center": (block_w - lw) / 2, "right": block_w - lw}.get(align, 0.0)
            draw.text((_PAD + dx - left, _PAD + base), line, font=font, fill=255, anchor="ls")
    img = np.empty((h, w, 4), dtype=np.uint8)
    rgba = _rgba8(color)
    img[..., :3] = rgba[:3]
    img[..., 3] = (np.asarray(mask, dtype=np.uint16) * rgba[3] + 127) // 255
    ox = _PAD + {"center": block_w / 2, "right": block_w}.get(ha, 0.0)
    bottom_up = h - _PAD - block_h                  # the block's bottom, from the image bottom
    oy = {"top": h - _PAD, "center": bottom_up + block_h / 2, "bottom": bottom_up,
          "center_baseline": h - _PAD - baselines[-1] / 2}.get(va, bottom_up + d)
    return img, float(ox), float(oy)


class SpriteCache:
    """Least-recently-used sprites by their full description."""

    def __init__(self, limit: int = _MAX_SPRITES) -> None:
        self.limit = limit
        self.sprites: OrderedDict[tuple[Any, ...], Sprite] = OrderedDict()
        self.lock = threading.Lock()        # renders may run in threads side by side

    def get(self, text: str, size_pt: float, color: tuple[float, ...], ha: str, va: str,
            family: Any = "sans-serif", weight: Any = "normal",
            linespacing: float | str = "normal", multialignment: str | None = None,
            dpi: float = 100.0) -> Sprite:
        fam = family if isinstance(family, str) else tuple(family)
        key = (text, size_pt, tuple(color), ha, va, fam, weight, linespacing,
               multialignment, dpi)
        with self.lock:
            hit = self.sprites.get(key)
            if hit is not None:
                self.sprites.move_to_end(key)
                return hit
        sprite = render(text, size_pt, color, ha, va, family, weight, linespacing,
                        multialignment, dpi)
        with self.lock:
            self.sprites[key] = sprite
            if len(self.sprites) > self.limit:
                self.sprites.popitem(last=False)
        return sprite


CACHE = SpriteCache()
