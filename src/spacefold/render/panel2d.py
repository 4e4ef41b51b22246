"""One panel of a 2-D frame in pixels: where it lies in the buffer (its box, its clip
rectangles), its current view of the data (data to pixel coordinates), and the caches the
2-D backend keeps per panel while the layout holds (region maps painted for the view, stamped
images, point colours, the diagram's last drawing, a 3-D panel's image)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spacefold.render.diagram import DiagramLayout
from spacefold.render.frame import Diagram, Extent, Image, Rect, RegionLayer
from spacefold.render.geometry2d import fit_view, paint_layer, stamp_pixels


class PanelPixels:
    """One panel's pixel geometry and caches (kept while the layout holds)."""

    def __init__(self, rect: Rect, size: tuple[int, int]) -> None:
        w, h = size
        left, bottom, width, height = rect
        self.box = (left * w, bottom * h, (left + width) * w, (bottom + height) * h)  # y up
        x0, y0, x1, y1 = self.box
        self.clip = (math.floor(x0), h - math.ceil(y1), math.ceil(x1), h - math.floor(y0))
        # Agg clips images to the box rounded to whole pixels, its far edges inclusive
        self.image_clip = (math.floor(x0 + 0.5), math.floor(h - y1 + 0.5),
                           math.floor(x1 + 0.5) + 1, math.floor(h - y0 + 0.5) + 1)
        self.height = h
        self.view: Extent = (0.0, 1.0, 0.0, 1.0)
        self.colors_ref: Any = None
        self.rgba = np.zeros((0, 4))
        self.stamps: dict[tuple[Any, ...], tuple[Any, int, int, np.ndarray]] = {}
        self.paint_cache: tuple[Any, RegionLayer, Image | None] | None = None
        self.diagram: DiagramLayout | None = None
        # the diagram's last drawing: (what it depends on, the pixels under it, the result)
        self.drawn: tuple[Any, np.ndarray, np.ndarray] | None = None
        self.image: np.ndarray | None = None          # a 3-D panel's OpenGL image

    def buffer_box(self) -> tuple[float, float, float, float]:
        """The panel as (col0, row0, col1, row1) buffer pixels (floats)."""
        x0, y0, x1, y1 = self.box
        return (x0, self.height - y1, x1, self.height - y0)

    def layout(self, p: Diagram) -> DiagramLayout:
        key = (tuple(p.widths), tuple(id(w) for w in p.weights))
        if self.diagram is None or self.diagram.key != key:
            self.diagram = DiagramLayout(p, key)
        return self.diagram

    def set_view(self, view: Extent, fit: bool = True) -> None:
        x0, y0, x1, y1 = self.box
        v0, v1, w0, w1 = fit_view(view, x1 - x0, y1 - y0) if fit else view
        if not v1 > v0:                 # an empty range: widened, as Matplotlib widens it
            v0, v1 = v0 - 0.5, v0 + 0.5
        if not w1 > w0:
            w0, w1 = w0 - 0.5, w0 + 0.5
        self.view = (v0, v1, w0, w1)
        self.sx, self.sy = (x1 - x0) / (v1 - v0), (y1 - y0) / (w1 - w0)

    def display(self, xy: np.ndarray) -> np.ndarray:
        """Data (…, 2) → display pixels (origin bottom-left, y up), float64."""
        return self._to_pixels(xy, flip=False)

    def pixels(self, xy: np.ndarray) -> np.ndarray:
        """Data (…, 2) → buffer pixels (origin top-left, y down)."""
        return self._to_pixels(xy, flip=True)

    def _to_pixels(self, xy: np.ndarray, flip: bool) -> np.ndarray:
        # box + (xy - view) * scale, in place. A few points: both columns at once. Many (a
        # grid, the data): column by column, the same operations in the same order, so the
        # same bits; numpy runs a (N, 2) op against a (2,) one as N loops of 2 (a 42x200 grid:
        # 129 us, against 29 us by columns)
        xy = np.asarray(xy, dtype=np.float64)
        if xy.size <= 64:
            out = np.subtract(xy, (self.view[0], self.view[2]))
            out *= (self.sx, self.sy)
            out += (self.box[0], self.box[1])
            y = out[..., 1]
        else:
            out = np.empty(xy.shape)
            for i, (v, s, b) in enumerate(((self.view[0], self.sx, self.box[0]),
                                           (self.view[2], self.sy, self.box[1]))):
                col = out[..., i]
                np.subtract(xy[..., i], v, out=col)
                col *= s
                col += b
            y = col
        if flip:
            np.subtract(self.height, y, out=y)
        return out

    def point_colors(self, colors: np.ndarray | None, n: int) -> np.ndarray:
        if colors is None:
            return np.ones((n, 4))
        if self.colors_ref is not colors or len(self.rgba) != n:
            c = np.asarray(colors, dtype=np.float64)
            self.rgba = np.ones((n, 4))
            self.rgba[:, :c.shape[1]] = np.clip(c, 0.0, 1.0)
            self.colors_ref = colors
        return self.rgba

    def painted(self, layer: RegionLayer) -> Image | None:
        """``layer`` painted for this panel's current view (reused while the view stays)."""
        key = (id(layer), self.view, self.box)
        if self.paint_cache is not None and self.paint_cache[0] == key \
                and self.paint_cache[1] is layer:
            return self.paint_cache[2]
        im = paint_layer(layer, self.view, self.display, self.box)
        self.paint_cache = (key, layer, im)
        return im

    def stamp(self, im: Image) -> tuple[int, int, np.ndarray] | None:
        (px0, py0), (px1, py1) = self.display(np.array([[im.extent[0], im.extent[2]],
                                                        [im.extent[1], im.extent[3]]]))
        key = (id(im.rgba), round(px0, 3), round(py0, 3), round(px1, 3), round(py1, 3))
        hit = self.stamps.get(key)
        if hit is not None and hit[0] is im.rgba:
            return hit[1:]
        got = stamp_pixels(im, (px0, py0, px1, py1), self.box)
        if len(self.stamps) > 64:
            self.stamps.clear()
        if got is not None:
            self.stamps[key] = (im.rgba, *got)
        return got
