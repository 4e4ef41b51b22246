"""Text drawn from cached bitmaps: Matplotlib lays out and rasterises glyphs on every draw,
which costs more than everything else in a frame; titles and captions rarely change.

Plain strings are rasterised by :mod:`spacefold.render.text`; mathtext and fonts other than
the default ones go through a scratch Matplotlib figure here, the only place Matplotlib is
imported."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from spacefold.colors import color_of
from spacefold.render import text as text_sprites

_SCRATCH_PX = (2400, 600)
_MAX_SPRITES = 512


class _SpriteCache:
    """Mathtext sprites from one shared scratch figure: renders may run in threads side by
    side (the app renders two at a time), so one at a time uses the figure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sprites: OrderedDict[tuple[Any, ...], tuple[np.ndarray, float, float]] = \
            OrderedDict()
        self.fig: Figure | None = None
        self.text: Text | None = None
        self.canvas: FigureCanvasAgg | None = None

    def get(self, key: tuple[Any, ...], props: dict[str, Any], dpi: float
            ) -> tuple[np.ndarray, float, float]:
        with self.lock:
            return self._get(key, props, dpi)

    def _get(self, key: tuple[Any, ...], props: dict[str, Any], dpi: float
             ) -> tuple[np.ndarray, float, float]:
        hit = self.sprites.get(key)
        if hit is not None:
            self.sprites.move_to_end(key)
            return hit
        if self.fig is None or self.fig.dpi != dpi:
            self.fig = Figure(figsize=(_SCRATCH_PX[0] / dpi, _SCRATCH_PX[1] / dpi), dpi=dpi)
            self.fig.patch.set_alpha(0.0)
            self.canvas = FigureCanvasAgg(self.fig)
            self.text = self.fig.text(0.5, 0.5, "")
        assert self.text is not None and self.canvas is not None
        self.text.update(props)
        self.canvas.draw()
        r = self.canvas.get_renderer()
        bb = self.text.get_window_extent(r)
        buf = np.asarray(self.canvas.buffer_rgba())
        h = buf.shape[0]
        pad = 2
        x0 = max(int(np.floor(bb.x0)) - pad, 0)
        x1 = min(int(np.ceil(bb.x1)) + pad, buf.shape[1])
        y0 = max(int(np.floor(bb.y0)) - pad, 0)
        y1 = min(int(np.ceil(bb.y1)) + pad, h)
        img = buf[h - y1:h - y0, x0:x1].copy()          # rows top → bottom
        ax_, ay_ = self.text.get_transform().transform((0.5, 0.5))
        sprite = (img, ax_ - x0, ay_ - y0)              # anchor offset from the lower-left
        self.sprites[key] = sprite
        if len(self.sprites) > _MAX_SPRITES:
            self.sprites.popitem(last=False)
        return sprite


_CACHE = _SpriteCache()


class SpriteText(Text):
    """A ``Text`` that draws a cached bitmap of itself (same fonts and look as Matplotlib)."""

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self.get_text():
            return
        sprite = getattr(self, "_sprite", None)
        if sprite is None or self.stale:      # every Text setter marks the artist stale
            sprite = self._sprite = self._lookup()
        img, ox, oy = sprite
        x, y = self.get_transform().transform(self.get_unitless_position())
        gc = renderer.new_gc()
        clip = self.get_clip_box() if self.get_clip_on() else None
        if clip is not None:
            gc.set_clip_rectangle(clip)
        renderer.draw_image(gc, int(round(x - ox)), int(round(y - oy)), img[::-1])
        gc.restore()
        self.stale = False

    def _lookup(self) -> tuple[np.ndarray, float, float]:
        return sprite(self.get_text(), float(self.get_fontsize()), self.get_color(),
                      self.get_alpha(),
                      self.get_horizontalalignment(), self.get_verticalalignment(),
                      self.get_fontfamily(), self.get_fontweight(),
                      getattr(self, "_multialignment", None),
                      self.figure.dpi if self.figure is not None else 100.0)


def sprite(s: str, size_pt: float, color: Any, alpha: float | None, ha: str, va: str,
           family: Any = "sans-serif", weight: Any = "normal", multialignment: str | None = None,
           dpi: float = 100.0) -> tuple[np.ndarray, float, float]:
    """Any text's sprite (see :mod:`spacefold.render.text`): plain text in the default fonts
    from ``text``, mathtext and other fonts from a scratch Matplotlib figure. The 2-D
    backends print through here, so their text is the same."""
    rgba = color_of(color, alpha)
    fam = (family,) if isinstance(family, str) else tuple(family)
    malign = multialignment or ha
    if not text_sprites.is_mathtext(s) and text_sprites.family_of(fam):
        return text_sprites.CACHE.get(s, size_pt, rgba, ha, va, fam, weight, "normal", malign,
                                      dpi)
    props: dict[str, Any] = {"text": s, "fontsize": size_pt, "color": rgba, "ha": ha, "va": va,
                             "family": fam, "fontweight": weight, "multialignment": malign}
    key = tuple(props.values())
    props["family"] = list(fam)
    return _CACHE.get(key, props, dpi)
