"""The 2-D backend: every frame drawn through the primitives of :mod:`.rasterize`.

Plane views (points, the deformed grid, decision regions, lines in Matplotlib's named dash
styles, thumbnails), function plots, bar charts, the network diagram and 3-D panels (the
OpenGL image composed in) are drawn with five primitives (discs, polylines, boxes, images and
the YUV conversion), which run as the compiled kernels or as the same arithmetic in numpy
(:data:`~spacefold.render.rasterize.DEFAULT`; choose by name with
:func:`spacefold.render.backend`). Plain text comes from :mod:`.text` as sprites composited
as images. Importing Matplotlib's figure machinery costs ~0.6 s a process, more than drawing a
10-second video: it is imported only for mathtext and fonts other than the default ones
(:func:`spacefold.render.sprites.sprite`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.colors import (
    AXES,
    BACKGROUND,
    FOREGROUND,
    GRID,
    NEGATIVE,
    POSITIVE,
    color_of,
)
from spacefold.render import rasterize, text
from spacefold.render.camera import project
from spacefold.render.frame import (
    Bars,
    Diagram,
    Extent,
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

DPI = 100.0                  # Matplotlib's default dpi: sizes in pt scale by DPI / 72
GRID_WIDTH_PX = 1.5          # at 720p
AXES_WIDTH_PT = 1.2
TITLE_PT, SUBTITLE_PT, LABEL_PT, DIAGRAM_LABEL_PT = 15.0, 11.0, 11.0, 10.0
HEADING_PT, CAPTION_PT = 20.0, 13.0
SUBTITLE_ALPHA, CAPTION_ALPHA = 0.75, 0.85
SOLID = ("-", "solid")
BAND = (1.0, 1.0, 1.0, 0.07)         # the diagram's highlight of the layer playing
LINK = (1.0, 0.85, 0.3, 1.0)         # a skip connection's arc while its sum plays
LINK_DIM = (1.0, 0.85, 0.3, 0.45)
MAX_NODES = 12    # a wider layer is drawn as its MAX_NODES strongest units plus a "⋮ n more"
# Matplotlib's dash patterns (rcParams lines.*_pattern), in line widths
DASHES = {"--": (3.7, 1.6), "dashed": (3.7, 1.6), ":": (1.0, 1.65), "dotted": (1.0, 1.65),
          "-.": (6.4, 1.6, 1.0, 1.6), "dashdot": (6.4, 1.6, 1.0, 1.6)}
STYLES = SOLID + tuple(DASHES)

def fit_view(view: Extent, width_px: float, height_px: float) -> Extent:
    """Grow ``view`` so one data unit has the same length on both axes (equal aspect)."""
    x0, x1, y0, y1 = view
    w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    target = width_px / max(height_px, 1e-9)
    if w / h < target:
        cx, w = (x0 + x1) / 2, h * target
        x0, x1 = cx - w / 2, cx + w / 2
    else:
        cy, h = (y0 + y1) / 2, w / target
        y0, y1 = cy - h / 2, cy + h / 2
    return (x0, x1, y0, y1)


def stamp_pixels(im: Image, corners: tuple[float, float, float, float],
                 box: tuple[float, float, float, float]
                 ) -> tuple[int, int, np.ndarray] | None:
    """``im`` resampled by nearest neighbour onto exactly the display pixels it covers:
    ``corners`` = display (px0, py0, px1, py1) of its extent's (xmin, ymin) and (xmax, ymax),
    ``box`` = the panel's display (x0, y0, x1, y1) it is clipped to (y up). Returns
    ``(left, bottom, pixels)`` with pixel row 0 at the bottom, or None when nothing shows."""
    px0, py0, px1, py1 = corners
    if not np.isfinite(corners).all() or px0 == px1 or py0 == py1:
        return None
    bx0, by0, bx1, by1 = box
    left = max(int(round(min(px0, px1))), math.floor(bx0))
    right = min(int(round(max(px0, px1))), math.ceil(bx1))
    bottom = max(int(round(min(py0, py1))), math.floor(by0))
    top = min(int(round(max(py0, py1))), math.ceil(by1))
    if right <= left or top <= bottom:
        return None
    sh, sw = im.rgba.shape[:2]
    # the source pixel under each display pixel's centre
    fx = (np.arange(left, right) + 0.5 - px0) / (px1 - px0)
    fy = (np.arange(bottom, top) + 0.5 - py0) / (py1 - py0)
    cols = np.clip((fx * sw).astype(np.int64), 0, sw - 1)
    rows = np.clip((fy * sh).astype(np.int64), 0, sh - 1)
    src = np.ascontiguousarray(im.rgba, dtype=np.uint8).view(np.uint32)[..., 0]  # (h, w)
    pix = src.take(rows, axis=0).take(cols, axis=1)    # one 4-byte gather per pixel
    return left, bottom, pix.view(np.uint8).reshape(len(rows), len(cols), 4)


def paint_layer(layer: RegionLayer, view: Extent,
                to_display: Callable[[np.ndarray], np.ndarray],
                box: tuple[float, float, float, float]) -> Image | None:
    """The image of ``layer`` for exactly the whole display pixels of its extent (None: the
    ``view``) inside ``box`` (display x0, y0, x1, y1, y up); ``to_display`` maps data (…, 2) to
    display pixels. Stamped with :func:`stamp_pixels`, each source pixel lands on one display
    pixel."""
    ex0, ex1, ey0, ey1 = layer.extent if layer.extent is not None else view
    (px0, py0), (px1, py1) = to_display(np.array([[ex0, ey0], [ex1, ey1]], dtype=np.float64))
    if not np.isfinite([px0, py0, px1, py1]).all() or px1 <= px0 or py1 <= py0:
        return None
    bx0, by0, bx1, by1 = box
    left = max(int(round(px0)), math.floor(bx0))
    right = min(int(round(px1)), math.ceil(bx1))
    bottom = max(int(round(py0)), math.floor(by0))
    top = min(int(round(py1)), math.ceil(by1))
    if right <= left or top <= bottom:
        return None
    sx, sy = (ex1 - ex0) / (px1 - px0), (ey1 - ey0) / (py1 - py0)
    ext = (ex0 + (left - px0) * sx, ex0 + (right - px0) * sx,
           ey0 + (bottom - py0) * sy, ey0 + (top - py0) * sy)
    rgba = np.asarray(layer.paint(ext, (right - left, top - bottom)), dtype=np.uint8)
    if rgba.shape != (top - bottom, right - left, 4):
        raise ValueError(f"a region layer painted {rgba.shape} for {right - left}×"
                         f"{top - bottom} pixels")
    return Image(rgba, ext)


def dashed(xy: np.ndarray, style: str, width: float) -> np.ndarray:
    """The "on" pieces of the polyline ``xy`` (V, 2) in pixels under the dash pattern of
    ``style`` (Matplotlib's, scaled by the line ``width`` in px, starting at the first vertex),
    as (M, 2, 2) segments to fill as one shape; ``xy[None]`` for a solid line."""
    pattern = DASHES.get(style)
    xy = np.asarray(xy, dtype=np.float64)
    if pattern is None or len(xy) < 2:
        return xy[None]
    on_off = np.asarray(pattern) * max(width, 1e-3)
    period = float(on_off.sum())
    edges = np.concatenate([[0.0], np.cumsum(on_off)])          # phase boundaries in a period
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[~np.isfinite(seg)] = 0.0
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(s[-1])
    if total <= 0 or total / period > 1e5:
        return xy[None]
    starts = np.arange(int(total // period) + 1) * period
    cuts = (starts[:, None] + edges[None, :]).ravel()
    at = np.unique(np.concatenate([s, cuts[cuts < total], [total]]))
    pts = np.stack([np.interp(at, s, xy[:, 0]), np.interp(at, s, xy[:, 1])], axis=1)
    mid = (at[:-1] + at[1:]) / 2
    phase = np.searchsorted(edges, np.mod(mid, period), side="right") - 1
    keep = (phase % 2 == 0) & (at[1:] > at[:-1])
    return np.stack([pts[:-1][keep], pts[1:][keep]], axis=1)


class DiagramLayout:
    """Node positions and edges of a diagram, computed once per network; its colours per
    stage, and its shapes (highlight band, edges, nodes) drawn by the kernels."""

    ylim = (-0.08, 1.05)
    band_half = 0.45
    node_radius = 5.0           # px at 720p

    def __init__(self, p: Diagram, key: Any) -> None:
        self.key = key
        self.shown: list[np.ndarray] = []
        for i, w in enumerate(p.widths):
            if w <= MAX_NODES:
                self.shown.append(np.arange(w))
                continue
            # strongest units by total |weight| in and out
            s = np.zeros(w)
            if i > 0:
                s += np.abs(p.weights[i - 1]).sum(1)
            if i < len(p.weights):
                s += np.abs(p.weights[i]).sum(0)
            self.shown.append(np.sort(np.argsort(-s)[:MAX_NODES]))
        self.ys = [self._ys(len(s), p.widths[i] > MAX_NODES) for i, s in enumerate(self.shown)]
        xy, col = [], []
        for i, ys in enumerate(self.ys):
            xy += [(i, y) for y in ys]
            col += [i] * len(ys)
        self.node_xy = np.array(xy, dtype=np.float64)
        self.node_col = np.array(col)
        segs: list[list[tuple[float, float]]] = []
        rgba: list[tuple[float, ...]] = []
        width: list[float] = []
        layer: list[int] = []
        wmax = max(float(np.abs(w).max()) for w in p.weights) if p.weights else 1.0
        for li, wl in enumerate(p.weights):
            src, dst = self.shown[li], self.shown[li + 1]
            sub = wl[np.ix_(dst, src)]                      # (out_shown, in_shown)
            for a, ya in enumerate(self.ys[li]):
                for b, yb in enumerate(self.ys[li + 1]):
                    v = float(sub[b, a])
                    segs.append([(li, ya), (li + 1, yb)])
                    c = POSITIVE if v >= 0 else NEGATIVE
                    rgba.append(color_of(c))
                    width.append(0.3 + 3.2 * abs(v) / (wmax or 1.0))
                    layer.append(li + 1)
        self.segments = np.array(segs, dtype=np.float64).reshape(-1, 2, 2)
        self.edge_rgba = np.array(rgba, dtype=np.float64).reshape(-1, 4)
        self.edge_width = np.array(width)
        self.edge_layer = np.array(layer)
        self.widths = p.widths
        self.links = list(p.links)
        self.arcs = []
        for i, (a, b, _) in enumerate(self.links):
            cols = [c for c in range(min(a, b), max(a, b) + 1) if c < len(self.ys)]
            top = max((float(self.ys[c].max()) for c in cols), default=0.5)
            self.arcs.append(self._arc(a, b, i, top + 0.05))
        if self.arcs:       # room above the columns for the arcs and their labels
            high = max(float(arc[:, 1].max()) for arc in self.arcs) + 0.14
            self.ylim = (DiagramLayout.ylim[0], max(DiagramLayout.ylim[1], high))

    def arc_style(self, p: Diagram) -> tuple[np.ndarray, np.ndarray]:
        """(RGBA (A, 4), width in pt (A,)) of the arcs: bright while their sum plays."""
        on = [p.highlight == b and p.stage_kind in ("add", "concat") for _, b, _ in self.links]
        rgba = np.array([LINK if o else LINK_DIM for o in on], dtype=np.float64).reshape(-1, 4)
        return rgba, np.array([2.4 if o else 1.4 for o in on])

    @staticmethod
    def _arc(a: int, b: int, i: int, base: float) -> np.ndarray:
        """(V, 2) an arc from column a to column b (a skip connection) starting at height
        ``base``; neighbouring arcs alternate heights so overlapping ones stay apart."""
        t = np.linspace(0.0, 1.0, 33)
        lift = 0.06 + 0.035 * (i % 2)
        span = max(b - a, 0.35)
        x = a + t * span if b > a else a - 0.175 + t * span      # a loop over its own column
        y = base + lift * np.sin(np.pi * t)
        return np.stack([x, y], axis=1)

    @property
    def xlim(self) -> tuple[float, float]:
        return (-0.6, len(self.widths) - 0.4)

    def colors(self, p: Diagram) -> tuple[np.ndarray, np.ndarray]:
        """(edge RGBA (E, 4), node RGBA (V, 4)) for the stage ``p`` shows: layers before the
        highlighted one lit, the current one brightest; its nodes glow."""
        alphas = np.where(self.edge_layer < p.highlight, 0.55,
                          np.where(self.edge_layer == p.highlight, 1.0, 0.18))
        if p.highlight and p.stage_kind not in ("linear",):
            alphas = np.where(self.edge_layer == p.highlight, 0.6, alphas)
        edges = self.edge_rgba.copy()
        edges[:, 3] = alphas
        nodes = np.tile([[0.85, 0.85, 0.9, 1.0]], (len(self.node_xy), 1))
        lit = self.node_col == p.highlight
        if p.highlight and p.stage_kind not in ("linear", "bias"):
            nodes[lit] = [1.0, 0.85, 0.3, 1.0]      # activation stage: nodes glow
        elif p.highlight:
            nodes[lit] = [0.55, 0.85, 1.0, 1.0]
        return edges, nodes

    def draw(self, buf: np.ndarray, pixels: Callable[[np.ndarray], np.ndarray],
             box: tuple[float, float, float, float], clip: rasterize.Clip, p: Diagram,
             scale: float, kernels: rasterize.Kernels | None = None) -> None:
        """The band, edges and nodes into ``buf``: ``pixels`` maps data (N, 2) to buffer
        pixels, ``box`` is the panel's (col0, row0, col1, row1) in buffer pixels."""
        edge_rgba, node_rgba = self.colors(p)
        (bx0, _), (bx1, _) = pixels(np.array([[p.highlight - self.band_half, 0.0],
                                              [p.highlight + self.band_half, 0.0]]))
        rasterize.fill_rect(buf, (bx0, box[1], bx1, box[3]), BAND, clip, kernels)
        segs = pixels(self.segments.reshape(-1, 2)).reshape(-1, 2, 2)
        widths = self.edge_width * scale * DPI / 72
        for seg, c, w in zip(segs, edge_rgba, widths, strict=True):
            rasterize.draw_polylines(buf, seg[None], tuple(c), float(w), clip, kernels)
        arc_rgba, arc_width = self.arc_style(p)
        for arc, c, w in zip(self.arcs, arc_rgba, arc_width, strict=True):
            rasterize.draw_polylines(buf, pixels(arc)[None], tuple(c), float(w) * scale * DPI / 72,
                                     clip, kernels)
        rasterize.draw_discs(buf, pixels(self.node_xy), node_rgba, self.node_radius * scale, clip,
                             kernels)

    @staticmethod
    def _ys(n: int, truncated: bool) -> np.ndarray:
        top, bottom = 0.95, 0.1 if truncated else 0.05
        if n == 1:
            return np.array([0.5])
        span = min(top - bottom, 0.09 * (n - 1))
        mid = (top + bottom) / 2
        return np.linspace(mid + span / 2, mid - span / 2, n)

    def texts(self, p: Diagram) -> list[tuple[tuple[float, float], str]]:
        out = []
        for i, w in enumerate(self.widths):
            name = "input" if i == 0 else (p.activations[i - 1] if i - 1 < len(p.activations)
                                          else "")
            # two short lines: neighbouring wide columns' labels must not run into each other
            extra = f"{w}\n{len(self.shown[i])} shown" if w > MAX_NODES else f"{w}"
            out.append(((float(i), 0.0), f"{name}\n{extra}" if name else extra))
        for arc, (_, _, label) in zip(self.arcs, self.links, strict=True):
            top = arc[len(arc) // 2]
            out.append(((float(top[0]), float(top[1]) + 0.075), label))
        return out


BAR_WIDTH = 0.8
BAR_COLOR = (0.45, 0.7, 1.0)
BAR_EDGE_PX = 1.0 * DPI / 72        # Matplotlib strokes each bar with a 1 pt edge of its colour
TICK_PT = 9.0


def bars_view(p: Bars) -> Extent:
    return (-0.7, len(p.values) - 0.3, p.ylim[0], p.ylim[1])


def draw_bars(buf: np.ndarray, pixels: Callable[[np.ndarray], np.ndarray], clip: rasterize.Clip,
              p: Bars, scale: float, kernels: rasterize.Kernels | None = None) -> None:
    """The bars (filled and edged as Matplotlib's ``bar`` draws them) and their baseline."""
    k = len(p.values)
    colors = p.colors if p.colors is not None else np.tile([BAR_COLOR], (k, 1))
    half = BAR_WIDTH / 2
    for i, (v, c) in enumerate(zip(p.values, colors, strict=True)):
        (x0, y0), (x1, y1) = pixels(np.array([[i - half, 0.0], [i + half, float(v)]]))
        e = BAR_EDGE_PX / 2
        rasterize.fill_rect(buf, (min(x0, x1) - e, min(y0, y1) - e, max(x0, x1) + e,
                                  max(y0, y1) + e), color_of(c), clip, kernels)
    x0, x1, _, _ = bars_view(p)
    rasterize.draw_polylines(buf, pixels(np.array([[[x0, 0.0], [x1, 0.0]]])), AXES,
                             AXES_WIDTH_PT * scale * DPI / 72, clip, kernels)


def blit(buf: np.ndarray, sprite: text.Sprite, x: float, y: float,
         clip: rasterize.Clip | None = None, kernels: rasterize.Kernels | None = None) -> None:
    """Composite a sprite (:mod:`.text`) over ``buf`` with its anchor at display pixel
    ``(x, y)`` (origin bottom-left, y up), where Agg's ``draw_image`` would put it."""
    img, ox, oy = sprite
    top = buf.shape[0] - (int(round(y - oy)) + img.shape[0])
    rasterize.draw_image(buf, img, int(round(x - ox)), top, clip, kernels)


def _plain(s: str, family: Any = "sans-serif") -> bool:
    return not s or (not text.is_mathtext(s) and text.family_of(family) is not None)


class _Panel:
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
        xy = np.asarray(xy, dtype=np.float64)
        out = np.empty(xy.shape)
        out[..., 0] = self.box[0] + (xy[..., 0] - self.view[0]) * self.sx
        out[..., 1] = self.box[1] + (xy[..., 1] - self.view[2]) * self.sy
        return out

    def pixels(self, xy: np.ndarray) -> np.ndarray:
        """Data (…, 2) → buffer pixels (origin top-left, y down)."""
        out = self.display(xy)
        out[..., 1] = self.height - out[..., 1]
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
        self.background = np.empty_like(self.buf)
        self.background[:] = np.round(np.array(color_of(BACKGROUND)) * 255).astype(np.uint8)
        self.panels: list[_Panel] = []
        self.layout: list[Rect] = []

    def draw(self, frame: Frame) -> np.ndarray:
        """Render ``frame`` (see :meth:`supports`); returns the (H, W, 4) uint8 canvas, valid
        until the next call."""
        layout = [tuple(r) for r, _ in frame.panels]
        if layout != self.layout:
            self.panels = [_Panel(r, self.size) for r in layout]  # type: ignore[arg-type]
            self.layout = layout  # type: ignore[assignment]
        np.copyto(self.buf, self.background)
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
        w, h = self.size
        self._text(frame.heading, HEADING_PT, FOREGROUND, "center", "top", 0.5 * w, 0.975 * h)
        self._text(frame.caption, CAPTION_PT, FOREGROUND, "center", "bottom", 0.5 * w, 0.02 * h,
                   alpha=CAPTION_ALPHA)
        return self.buf

    def close(self) -> None:
        self.panels = []

    def _text(self, s: str, size_pt: float, color: Any, ha: str, va: str, x: float, y: float,
              alpha: float | None = None, family: Any = "sans-serif") -> None:
        if not s:
            return
        c = color_of(color, alpha)
        if _plain(s, family):
            sprite = text.CACHE.get(s, size_pt * self.scale, c, ha, va, family, "normal",
                                    "normal", ha, DPI)
        else:       # mathtext or other fonts: through Matplotlib
            from spacefold.render.sprites import sprite as mpl_sprite

            sprite = mpl_sprite(s, size_pt * self.scale, color, alpha, ha, va, family, dpi=DPI)
        blit(self.buf, sprite, x, y, kernels=self.kernels)

    def _stamp(self, panel: _Panel, im: Image) -> None:
        got = panel.stamp(im)
        if got is not None:
            left, bottom, pix = got
            blit(self.buf, (pix[::-1], 0.0, 0.0), left, bottom, panel.image_clip, self.kernels)

    def _space(self, panel: _Panel, p: Space) -> None:
        buf, s, clip = self.buf, self.scale, panel.clip
        panel.set_view(p.view)
        if isinstance(p.regions, RegionLayer):
            im = panel.painted(p.regions)
            if im is not None:
                self._stamp(panel, im)
        elif p.regions is not None:
            self._stamp(panel, p.regions)
        if p.grid is not None and p.grid.size:
            r, g, b, a = GRID
            rasterize.draw_polylines(buf, panel.pixels(p.grid), (r, g, b, a * p.grid_alpha),
                                     GRID_WIDTH_PX * s, clip, self.kernels)
        if p.axes:
            self._axes(panel)
        if p.points is not None and len(p.points):
            rasterize.draw_discs(buf, panel.pixels(p.points),
                                 panel.point_colors(p.colors, len(p.points)),
                                 p.point_size * s, clip, self.kernels)
        for im in p.thumbnails:
            self._stamp(panel, im)
        self._lines(panel, p.lines)
        for ln in p.lines:
            if ln.label:
                (x, y), = panel.display(ln.xy[-1:])
                self._text(ln.label, LABEL_PT, ln.color, "left", "bottom", x, y)

    def _axes(self, panel: _Panel) -> None:
        """The x and y axes through the origin, across the view."""
        x0, x1, y0, y1 = panel.view
        rasterize.draw_polylines(
            self.buf, panel.pixels(np.array([[[x0, 0.0], [x1, 0.0]], [[0.0, y0], [0.0, y1]]])),
            AXES, AXES_WIDTH_PT * self.scale * DPI / 72, panel.clip, self.kernels)

    def _lines(self, panel: _Panel, lines: list[Line]) -> None:
        for ln in lines:
            if ln.width > 0 and len(ln.xy):
                if ln.style not in STYLES:
                    raise ValueError(f"line style {ln.style!r}: use one of "
                                     f"{', '.join(repr(x) for x in STYLES)}")
                c = color_of(ln.color)
                w = ln.width * self.scale
                rasterize.draw_polylines(self.buf, dashed(panel.pixels(ln.xy), ln.style, w), c,
                                         w, panel.clip, self.kernels)

    def _bars(self, panel: _Panel, p: Bars) -> None:
        panel.set_view(bars_view(p), fit=False)
        draw_bars(self.buf, panel.pixels, panel.clip, p, self.scale, self.kernels)
        lo, hi = p.ylim
        for i, label in enumerate(p.xlabels or []):
            (x, y), = panel.display(np.array([[i, lo - 0.02 * (hi - lo)]]))
            self._text(label, TICK_PT, FOREGROUND, "center", "top", x, y)

    def _plot(self, panel: _Panel, p: Plot) -> None:
        panel.set_view(p.view, fit=False)
        self._axes(panel)
        self._lines(panel, p.lines)

    def _diagram(self, panel: _Panel, p: Diagram) -> None:
        lay = panel.layout(p)
        panel.set_view((*lay.xlim, *lay.ylim), fit=False)
        lay.draw(self.buf, panel.pixels, panel.buffer_box(), panel.clip, p, self.scale,
                 self.kernels)
        for xy, s in lay.texts(p):
            (x, y), = panel.display(np.array([xy]))
            self._text(s, DIAGRAM_LABEL_PT, FOREGROUND, "center", "top", x, y)

    def _space3d(self, panel: _Panel, p: Space3D) -> None:
        """The OpenGL image (opaque) copied where the panel is, its labels over it."""
        from spacefold.render.gl3d import renderer  # moderngl, on the first 3-D panel

        x0, y0, x1, y1 = panel.box
        left, bottom = round(x0), round(y0)
        w, h = max(round(x1) - left, 1), max(round(y1) - bottom, 1)
        if panel.image is None or panel.image.shape[:2] != (h, w):
            panel.image = np.empty((h, w, 4), dtype=np.uint8)
        renderer().render(p, w, h, self.scale, out=panel.image)
        blit(self.buf, (panel.image[::-1], 0.0, 0.0), left, bottom, kernels=self.kernels)
        if p.labels:
            xy = project(p, np.array([lb.xyz for lb in p.labels], dtype=np.float64), w, h)
            for lb, (px, py, pz) in zip(p.labels, xy, strict=True):
                if np.isfinite([px, py]).all() and -1 <= pz <= 1:
                    self._text(lb.text, lb.size, lb.color, lb.ha,
                               lb.va, x0 + px / w * (x1 - x0), y0 + py / h * (y1 - y0))

    def _common(self, panel: _Panel, p: Panel) -> None:
        """Title, subtitle and texts, as every Matplotlib view draws them."""
        bx0, by0, bx1, by1 = panel.box
        self._text(p.title, TITLE_PT, FOREGROUND, "left", "bottom", bx0, by1, alpha=1.0)
        self._text(p.subtitle, SUBTITLE_PT, FOREGROUND, "right", "bottom", bx1, by1,
                   alpha=SUBTITLE_ALPHA)
        for t in p.texts:
            self._text(t.text, t.size, t.color, t.ha, t.va, bx0 + t.xy[0] * (bx1 - bx0),
                       by0 + t.xy[1] * (by1 - by0), family=t.family)
