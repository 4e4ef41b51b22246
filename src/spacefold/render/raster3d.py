"""A :class:`Space3D` panel inside the 2-D raster backend: the GL image is stamped into the
panel's axes with one ``draw_image``, and titles, texts and 3-D labels are the same cached
text sprites as every 2-D panel, so 3-D and 2-D scenes look alike."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text as MplText

from spacefold.colors import FOREGROUND
from spacefold.render.frame import Rect, Space3D
from spacefold.render.gl3d import project, renderer
from spacefold.render.raster import _Pool, _text, _View


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
        self.image = renderer().render(p, w, h, self.scale)
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
            gc = r.new_gc()
            r.draw_image(gc, self.origin[0], self.origin[1], self.image)
            gc.restore()
        for a in self.labels.items:
            if a.get_visible():
                self.ax.draw_artist(a)
        super().draw()

