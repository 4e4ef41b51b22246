"""The 2-D backend: every frame drawn through the primitives of :mod:`.rasterize`.

Plane views (points, the deformed grid, decision regions, lines in Matplotlib's named dash
styles, thumbnails), function plots, bar charts, the network diagram and 3-D panels (the
OpenGL image composed in) are drawn with five primitives (discs, polylines, boxes, images and
the YUV conversion), which run as the compiled kernels or as the same arithmetic in numpy
(:data:`~spacefold.render.rasterize.DEFAULT`; choose by name with
:func:`spacefold.render.backend`). Plain text comes from :mod:`.text` as sprites composited
as images; the diagram and bar geometry are in :mod:`.diagram`, a panel's pixels and caches
in :mod:`.panel2d`, the geometry they share in :mod:`.geometry2d`. Importing Matplotlib's
figure machinery costs ~0.6 s a process, more than drawing a 10-second video: it is imported
only for mathtext and fonts other than the default ones
(:func:`spacefold.render.sprites.sprite`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.colors import color_of, theme
from spacefold.render import rasterize, text
from spacefold.render.camera import project
from spacefold.render.diagram import TICK_PT, bars_view, draw_bars
from spacefold.render.frame import (
    Bars,
    Diagram,
    Frame,
    Image,
    Line,
    Panel,
    Plot,
    Rect,
    RegionLayer,
    Space,
    Space3D,
)
from spacefold.render.geometry2d import AXES_WIDTH_PT, DPI, STYLES, Box, dashed, inked, meets
from spacefold.render.markers import marker_shapes
from spacefold.render.panel2d import PanelPixels

GRID_WIDTH_PX = 1.5          # at 720p
TITLE_PT, SUBTITLE_PT, LABEL_PT, DIAGRAM_LABEL_PT = 15.0, 11.0, 11.0, 10.0
HEADING_PT, CAPTION_PT = 20.0, 13.0
SUBTITLE_ALPHA, CAPTION_ALPHA = 0.75, 0.85
LEGIBLE_PX = 14.0           # no text is smaller at 720p (secondary labels stay legible)
FIT_WIDTH = 0.96             # the heading and caption fit in this share of the frame width


def blit(buf: np.ndarray, sprite: text.Sprite, x: float, y: float,
         clip: rasterize.Clip | None = None, kernels: rasterize.Kernels | None = None
         ) -> tuple[int, int]:
    """Composite a sprite (:mod:`.text`) over ``buf`` with its anchor at display pixel
    ``(x, y)`` (origin bottom-left, y up), where Agg's ``draw_image`` would put it; returns
    the buffer pixel of its top-left corner."""
    img, ox, oy = sprite
    top = buf.shape[0] - (int(round(y - oy)) + img.shape[0])
    left = int(round(x - ox))
    rasterize.draw_image(buf, img, left, top, clip, kernels)
    return left, top


def _plain(s: str, family: Any = "sans-serif") -> bool:
    return not s or (not text.is_mathtext(s) and text.family_of(family) is not None)


class KernelBackend:
    """Draws frames to RGBA arrays of ``size`` (width, height) pixels with ``kernels`` (the C
    ones or numpy's; :data:`~spacefold.render.rasterize.DEFAULT` when None)."""

    def __init__(self, size: tuple[int, int] = (1280, 720),
                 kernels: rasterize.Kernels | None = None) -> None:
        w, h = size
        self.size = size
        self.kernels = kernels or rasterize.DEFAULT
        self.scale = h / 720.0
        self.buf = np.empty((h, w, 4), dtype=np.uint8)
        self.theme = theme()     # the one in use when the backend is made (colors.look)
        self.fg = self.theme.foreground
        # the background as one 32-bit word: a frame is cleared by a fill (writing the
        # buffer), not a copy (reading a second one as well)
        self.background = np.round(np.array(color_of(self.theme.background)) * 255
                                   ).astype(np.uint8).view(np.uint32)[0]
        self.panels: list[PanelPixels] = []
        self.layout: list[Rect] = []
        self._sprites: dict[Any, text.Sprite] = {}
        # the texts drawn (their arguments, and boxes) while a frame's still parts are listed
        self._texts: list[tuple[tuple[Any, ...], Box | None]] | None = None
        self._dry = False            # list the texts only, drawing none
        self._kept: tuple[Any, ...] | None = None   # the still parts the canvas holds

    def draw(self, frame: Frame) -> np.ndarray:
        """Render ``frame`` (see :meth:`supports`); returns the (H, W, 4) uint8 canvas, valid
        until the next call (and not to be written to: it is kept for the next frame).

        A frame whose still parts (texts, diagrams: everything but its plane views) are those
        of the frame before, drawn apart from the plane views, only clears and draws the
        plane views again: the pixels are the same as drawing it all."""
        layout = [tuple(r) for r, _ in frame.panels]
        if layout != self.layout:
            self.panels = [PanelPixels(r, self.size) for r in layout]  # type: ignore[arg-type]
            self.layout = layout  # type: ignore[assignment]
            self._kept = None
        parts = self._still_parts(frame)
        if parts is not None and parts == self._kept:
            planes = [(panel, p) for panel, (_, p) in zip(self.panels, frame.panels,
                                                          strict=True) if isinstance(p, Space)]
            for panel, _ in planes:
                c0, r0, c1, r1 = self._area(panel)
                self.buf[r0:r1, c0:c1].view(np.uint32).fill(self.background)
            for panel, p in planes:
                self._space(panel, p)
            return self.buf
        self._kept = None
        drawn: list[tuple[tuple[Any, ...], Box | None]] = []
        self._texts = drawn
        try:
            self._draw_all(frame)
        finally:
            self._texts = None
        self._kept = self._keepable(frame, parts, drawn)
        return self.buf

    def _still_parts(self, frame: Frame) -> tuple[Any, ...] | None:
        """What ``frame`` draws besides its plane views (the texts' arguments, the diagrams'
        keys), or None when it has more than plane views and diagrams, or labelled lines."""
        if not all(isinstance(p, Diagram) or isinstance(p, Space)
                   and not any(ln.label for ln in p.lines) for _, p in frame.panels):
            return None
        self._texts, self._dry = [], True
        try:
            keys = []
            for panel, (_, p) in zip(self.panels, frame.panels, strict=True):
                if isinstance(p, Diagram):
                    keys.append(self._diagram_texts(panel, p))
                self._common(panel, p)
            self._ends(frame)
            parts = (int(self.background), tuple(keys),
                     tuple(args for args, _ in self._texts))
        finally:
            self._texts, self._dry = None, False
        try:
            hash(parts)
        except TypeError:        # an array among the arguments (a colour): drawn every time
            return None
        return parts

    def _keepable(self, frame: Frame, parts: tuple[Any, ...] | None,
                  drawn: list[tuple[tuple[Any, ...], Box | None]]) -> tuple[Any, ...] | None:
        """The still ``parts`` of the frame just drawn (its texts ``drawn``) when the canvas
        may keep them: none of them (the texts, the diagrams) meets a plane view's area."""
        if parts is None:
            return None
        still = [box for _, box in drawn if box is not None] + \
            [panel.clip for panel, (_, p) in zip(self.panels, frame.panels, strict=True)
             if isinstance(p, Diagram)]
        areas = [self._area(panel) for panel, (_, p) in zip(self.panels, frame.panels,
                                                            strict=True)
                 if isinstance(p, Space)]
        if any(meets(a, b) for a in areas for b in still):
            return None
        return parts

    def _area(self, panel: PanelPixels) -> Box:
        """The buffer pixels a plane view's drawing may change."""
        (a0, b0, a1, b1), (c0, d0, c1, d1) = panel.clip, panel.image_clip
        w, h = self.size
        return (max(min(a0, c0), 0), max(min(b0, d0), 0), min(max(a1, c1), w),
                min(max(b1, d1), h))

    def _draw_all(self, frame: Frame) -> None:
        self.buf.view(np.uint32).fill(self.background)
        for panel, (_, p) in zip(self.panels, frame.panels, strict=True):
            if isinstance(p, Diagram):
                self._diagram(panel, p)
            elif isinstance(p, Space3D):
                self._space3d(panel, p)
            elif isinstance(p, Plot):
                self._plot(panel, p)
            elif isinstance(p, Bars):
                self._bars(panel, p)
            else:
                assert isinstance(p, Space)
                self._space(panel, p)
            self._common(panel, p)
        self._ends(frame)

    def _ends(self, frame: Frame) -> None:
        """The heading and the caption."""
        w, h = self.size
        self._text(frame.heading, HEADING_PT, self.fg, "center", "top", 0.5 * w, 0.975 * h,
                   fit=FIT_WIDTH * w)
        self._text(frame.caption, CAPTION_PT, self.fg, "center", "bottom", 0.5 * w, 0.02 * h,
                   alpha=CAPTION_ALPHA, fit=FIT_WIDTH * w)

    def close(self) -> None:
        self.panels = []

    def _text(self, s: str, size_pt: float, color: Any, ha: str, va: str, x: float, y: float,
              alpha: float | None = None, family: Any = "sans-serif",
              fit: float | None = None) -> None:
        """Text at display pixel (x, y), never under :data:`LEGIBLE_PX` at 720p; with ``fit``
        (pixels), a line wider than that shrinks (to 0.7×), then wraps at its middle " · "."""
        if not s:
            return
        if self._dry:
            assert self._texts is not None
            self._texts.append(((s, size_pt, color, alpha, ha, va, family, fit, x, y), None))
            return
        try:        # the sprite of the same call last time (colour parsing, fitting: ~30 µs)
            key: Any = (s, size_pt, color, alpha, ha, va, family, fit)
            sprite = self._sprites.get(key)
        except TypeError:       # an unhashable colour (an array): worked out every time
            key, sprite = None, None
        if sprite is None:
            sprite = self._fitted(s, size_pt, color, ha, va, alpha, family, fit)
            if key is not None:
                if len(self._sprites) > 1024:
                    self._sprites.clear()
                self._sprites[key] = sprite
        left, top = blit(self.buf, sprite, x, y, kernels=self.kernels)
        if self._texts is not None:
            self._texts.append(((s, size_pt, color, alpha, ha, va, family, fit, x, y),
                                inked(sprite[0], left, top)))

    def _fitted(self, s: str, size_pt: float, color: Any, ha: str, va: str,
                alpha: float | None, family: Any, fit: float | None) -> text.Sprite:
        c = self.theme.ink(color_of(color, alpha))
        size_pt = max(size_pt, LEGIBLE_PX * 72 / DPI)
        sprite = self._sprite(s, size_pt, c, ha, va, family)
        if fit is not None and sprite[0].shape[1] > fit:
            shrink = max(fit / sprite[0].shape[1], 0.7)
            seps = [i for i in range(len(s)) if s.startswith(" · ", i)] if "\n" not in s else []
            if shrink == 0.7 and seps:      # still too wide: two lines
                mid = min(seps, key=lambda i: abs(i - len(s) / 2))
                s = s[:mid].rstrip() + "\n" + s[mid + 3:].lstrip()
                sprite = self._sprite(s, size_pt, c, ha, va, family)
                shrink = min(fit / sprite[0].shape[1], 1.0)
            sprite = self._sprite(s, max(size_pt * shrink, LEGIBLE_PX * 72 / DPI), c, ha, va,
                                  family)
        return sprite

    def _sprite(self, s: str, size_pt: float, c: tuple[float, float, float, float], ha: str,
                va: str, family: Any) -> text.Sprite:
        if _plain(s, family):
            return text.CACHE.get(s, size_pt * self.scale, c, ha, va, family, "normal",
                                  "normal", ha, DPI)
        from spacefold.render.sprites import sprite as mpl_sprite  # mathtext, other fonts

        return mpl_sprite(s, size_pt * self.scale, c[:3], c[3], ha, va, family, dpi=DPI)

    def _stamp(self, panel: PanelPixels, im: Image) -> None:
        got = panel.stamp(im)
        if got is not None:
            left, bottom, pix = got
            blit(self.buf, (pix[::-1], 0.0, 0.0), left, bottom, panel.image_clip, self.kernels)

    def _space(self, panel: PanelPixels, p: Space) -> None:
        buf, s, clip = self.buf, self.scale, panel.clip
        panel.set_view(p.view)
        if isinstance(p.regions, RegionLayer):
            im = panel.painted(p.regions)
            if im is not None:
                self._stamp(panel, im)
        elif p.regions is not None:
            self._stamp(panel, p.regions)
        if p.grid is not None and p.grid.size:
            r, g, b, a = self.theme.grid
            rasterize.draw_polylines(buf, panel.pixels(p.grid), (r, g, b, a * p.grid_alpha),
                                     GRID_WIDTH_PX * s, clip, self.kernels)
        if p.axes:
            self._axes(panel)
        if p.points is not None and len(p.points):
            rasterize.draw_discs(buf, panel.pixels(p.points),
                                 panel.point_colors(p.colors, len(p.points)),
                                 p.point_size * s, clip, self.kernels,
                                 shape=marker_shapes(p.classes, len(p.points)))
        for im in p.thumbnails:
            self._stamp(panel, im)
        self._lines(panel, p.lines)
        for ln in p.lines:
            if ln.label:
                (x, y), = panel.display(ln.xy[-1:])
                self._text(ln.label, LABEL_PT, ln.color, "left", "bottom", x, y)

    def _axes(self, panel: PanelPixels) -> None:
        """The x and y axes through the origin, across the view."""
        x0, x1, y0, y1 = panel.view
        rasterize.draw_polylines(
            self.buf, panel.pixels(np.array([[[x0, 0.0], [x1, 0.0]], [[0.0, y0], [0.0, y1]]])),
            self.theme.axes, AXES_WIDTH_PT * self.scale * DPI / 72, panel.clip, self.kernels)

    def _lines(self, panel: PanelPixels, lines: list[Line]) -> None:
        for ln in lines:
            if ln.width > 0 and len(ln.xy):
                if ln.style not in STYLES:
                    raise ValueError(f"line style {ln.style!r}: use one of "
                                     f"{', '.join(repr(x) for x in STYLES)}")
                c = self.theme.ink(color_of(ln.color))
                w = ln.width * self.scale
                rasterize.draw_polylines(self.buf, dashed(panel.pixels(ln.xy), ln.style, w), c,
                                         w, panel.clip, self.kernels)

    def _bars(self, panel: PanelPixels, p: Bars) -> None:
        panel.set_view(bars_view(p), fit=False)
        draw_bars(self.buf, panel.pixels, panel.clip, p, self.scale, self.kernels)
        lo, hi = p.ylim
        for i, label in enumerate(p.xlabels or []):
            (x, y), = panel.display(np.array([[i, lo - 0.02 * (hi - lo)]]))
            self._text(label, TICK_PT, self.fg, "center", "top", x, y)

    def _plot(self, panel: PanelPixels, p: Plot) -> None:
        panel.set_view(p.view, fit=False)
        self._axes(panel)
        self._lines(panel, p.lines)

    def _diagram_texts(self, panel: PanelPixels, p: Diagram) -> tuple[Any, ...]:
        """The diagram's labels; returns what its drawing depends on."""
        lay = panel.layout(p)
        panel.set_view((*lay.xlim, *lay.ylim), fit=False)
        for xy, s in lay.texts(p):
            (x, y), = panel.display(np.array([xy]))
            self._text(s, DIAGRAM_LABEL_PT, self.fg, "center", "top", x, y)
        return (lay, p.highlight, p.stage_kind, theme(), self.scale)

    def _diagram(self, panel: PanelPixels, p: Diagram) -> None:
        lay = panel.layout(p)
        panel.set_view((*lay.xlim, *lay.ylim), fit=False)
        # The band, edges and nodes change only with the stage shown (~85 strokes for a
        # 2-100-5 net: 3.6 ms a frame): drawn once, then copied while the stage and the
        # pixels under the panel are the same (so the copy is what drawing would give).
        c0, r0, c1, r1 = panel.clip
        region = self.buf[r0:r1, c0:c1]
        key = (lay, p.highlight, p.stage_kind, theme(), self.scale)
        hit = panel.drawn
        if hit is not None and hit[0] == key and np.array_equal(hit[1].view(np.uint32),
                                                                region.view(np.uint32)):
            np.copyto(region, hit[2])
        else:
            under = region.copy()
            lay.draw(self.buf, panel.pixels, panel.buffer_box(), panel.clip, p, self.scale,
                     self.kernels)
            panel.drawn = (key, under, region.copy())
        self._diagram_texts(panel, p)

    def _space3d(self, panel: PanelPixels, p: Space3D) -> None:
        """The OpenGL image (opaque) copied where the panel is, its labels over it."""
        from spacefold.render.gl3d import renderer  # moderngl, on the first 3-D panel

        x0, y0, x1, y1 = panel.box
        left, bottom = round(x0), round(y0)
        w, h = max(round(x1) - left, 1), max(round(y1) - bottom, 1)
        if panel.image is None or panel.image.shape[:2] != (h, w):
            panel.image = np.empty((h, w, 4), dtype=np.uint8)
        renderer().render(p, w, h, self.scale, background=self.theme.background,
                          out=panel.image)
        if color_of(self.theme.background)[3] >= 1.0:
            # over an opaque background the GL image is opaque: copied (its rows flipped),
            # not composited (2.6 ms of a 720p frame, the copy 0.2)
            H, W = self.buf.shape[:2]
            top = H - (bottom + h)
            r0, c0 = max(top, 0), max(left, 0)
            r1, c1 = min(top + h, H), min(left + w, W)
            if r1 > r0 and c1 > c0:
                src = panel.image[::-1][r0 - top:r1 - top, c0 - left:c1 - left]
                np.copyto(self.buf[r0:r1, c0:c1], src)
        else:
            blit(self.buf, (panel.image[::-1], 0.0, 0.0), left, bottom, kernels=self.kernels)
        if p.labels:
            xy = project(p, np.array([lb.xyz for lb in p.labels], dtype=np.float64), w, h)
            for lb, (px, py, pz) in zip(p.labels, xy, strict=True):
                if np.isfinite([px, py]).all() and -1 <= pz <= 1:
                    self._text(lb.text, lb.size, lb.color, lb.ha,
                               lb.va, x0 + px / w * (x1 - x0), y0 + py / h * (y1 - y0))

    def _common(self, panel: PanelPixels, p: Panel) -> None:
        """Title, subtitle and texts, as every Matplotlib view draws them."""
        bx0, by0, bx1, by1 = panel.box
        self._text(p.title, TITLE_PT, self.fg, "left", "bottom", bx0, by1, alpha=1.0)
        self._text(p.subtitle, SUBTITLE_PT, self.fg, "right", "bottom", bx1, by1,
                   alpha=SUBTITLE_ALPHA)
        for t in p.texts:
            self._text(t.text, t.size, t.color, t.ha, t.va, bx0 + t.xy[0] * (bx1 - bx0),
                       by0 + t.xy[1] * (by1 - by0), family=t.family)
