"""A :class:`Space3D` panel inside the 2-D raster backend: the GL image (opaque) is copied
into the canvas's own pixels where the panel's axes are (Agg's ``draw_image`` only where it
would not fit), and titles, texts and 3-D labels are the same cached text sprites as every
2-D panel, so 3-D and 2-D scenes look alike."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Text as MplText

from spacefold.colors import BACKGROUND, FOREGROUND
from spacefold.render.frame import Rect, Space3D
from spacefold.render.gl3d import project, renderer
from spacefold.render.raster import _Pool, _text, _View

# the GL image is opaque wherever its background is (its alpha blends as "over" too)
OPAQUE = to_rgba(BACKGROUND)[3] >= 1.0


class Space3DView(_View):
    kind = "space3d"

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        super().__init__(fig, rect, scale)
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)
        self.image: np.ndarray | None = None
        self.origin = (0, 0)
        self.labels = _Pool(lambda: self._label())

    def _label(self) -> MplText:
        t = _text(self.ax, 0, 0, self.ax.transAxes, color=FOREGROUND,
                  fontsize=11 * self.scale, ha="center", va="bottom")
        return t

    def update(self, p: Space3D) -> None:
        bb = self.ax.get_window_extent()
        x0, y0 = int(round(bb.x0)), int(round(bb.y0))
        w, h = int(round(bb.x1)) - x0, int(round(bb.y1)) - y0
        self.origin = (x0, y0)
        if self.image is None or self.image.shape[:2] != (h, w):
            self.image = np.empty((max(h, 1), max(w, 1), 4), dtype=np.uint8)
        renderer().render(p, w, h, self.scale, out=self.image)
        arts = self.labels.take(len(p.labels))
        if p.labels:
            xy = project(p, np.array([lb.xyz for lb in p.labels], dtype=np.float64), w, h)
            for art, lb, (px, py, pz) in zip(arts, p.labels, xy, strict=True):
                ok = bool(np.isfinite([px, py]).all() and -1 <= pz <= 1)
                art.set_visible(ok)
                art.set_position((px / w, py / h))
                art.set_text(lb.text)
                art.set_color(lb.color)
                art.set_fontsize(lb.size * self.scale)
                art.set_horizontalalignment(lb.ha)
                art.set_verticalalignment(lb.va)
        self._common(p)

    def draw(self) -> None:
        if self.image is not None:
            r = self._renderer()
            buf = np.asarray(r.buffer_rgba())          # (H, W, 4) the canvas, top row first
            (x0, y0), (h, w) = self.origin, self.image.shape[:2]
            top = buf.shape[0] - y0 - h
            if OPAQUE and x0 >= 0 and top >= 0 and y0 >= 0 and x0 + w <= buf.shape[1]:
                # an opaque image covers what is under it: a plain copy, flipped (GL's row 0
                # is the bottom), is the same as Agg's blend and ~10× cheaper
                buf[top:top + h, x0:x0 + w] = self.image[::-1]
            else:
                gc = r.new_gc()
                r.draw_image(gc, x0, y0, self.image)
                gc.restore()
        for a in self.labels.items:
            if a.get_visible():
                self._draw(a)
        super().draw()

