"""The 2-D raster backend: Matplotlib Agg, one figure, artists created once and updated.

``sf.render`` uses it for every frame when the compiled kernels are missing, and for the
rare frame :mod:`spacefold.render.kernel2d` does not draw (a custom dash pattern).

Speed comes from three habits: the static background is rendered once and restored each
frame (blitting); the moving parts — points, grid and axes — are drawn by compiled kernels
straight into the Agg canvas's buffer, between Agg's own draws so the z-order holds
(``rasterize``; through Agg, where the extension is missing, points are stamped with the
cached-marker path, one call per colour group); and each frame goes to the encoder straight
from the canvas buffer (``encode.write_mp4`` converts it to YUV with the same extension).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path
from matplotlib.text import Text as MplText
from matplotlib.transforms import Affine2D, IdentityTransform

from spacefold.colors import AXES, BACKGROUND, FOREGROUND, GRID
from spacefold.render import rasterize
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
    Text,
)
from spacefold.render.kernel2d import (
    BAND,
    BAR_COLOR,
    SOLID,
    STYLES,
    TICK_PT,
    DiagramLayout,
    dashed,
    draw_bars,
    fit_view,
    paint_layer,
    stamp_pixels,
)
from spacefold.render.sprites import SpriteText

DPI = 100.0
MAX_COLOR_GROUPS = 32


def _agg_buffer(renderer: Any) -> np.ndarray | None:
    """The Agg canvas's pixels as a writable (H, W, 4) array, when the kernels can draw."""
    if not rasterize.AVAILABLE or not hasattr(renderer, "buffer_rgba"):
        return None
    return np.asarray(renderer.buffer_rgba())


def _pixel_clip(ax: Any, height: int) -> rasterize.Clip:
    """The Axes' box as buffer pixels (rows from the top), half-open."""
    bb = ax.bbox
    return (int(np.floor(bb.x0)), height - int(np.ceil(bb.y1)),
            int(np.ceil(bb.x1)), height - int(np.floor(bb.y0)))


def _to_buffer(pix: np.ndarray, height: int) -> np.ndarray:
    """Display pixels (origin bottom-left) → buffer pixels (origin top-left), in place."""
    pix[..., 1] = height - pix[..., 1]
    return pix


class Discs(Artist):
    """Antialiased discs of one radius, each in its own colour, drawn in order.

    Through Agg (no compiled kernels) they are stamped by colour group with the marker path;
    more than ``MAX_COLOR_GROUPS`` distinct colours are then reduced once (k-means on the
    colours), which keeps continuous colour maps (start-position colouring) continuous.
    """

    def __init__(self) -> None:
        super().__init__()
        self._xy = np.zeros((0, 2))
        self._groups: list[tuple[np.ndarray, tuple[float, ...]]] | None = None
        self._key: tuple[int, int] | None = None
        self._colors_ref: np.ndarray | None = None
        self._rgba = np.zeros((0, 4))
        self.radius_px = 4.0
        self._marker = Path.unit_circle()

    def set_points(self, xy: np.ndarray, colors: np.ndarray | None, radius_px: float) -> None:
        self._xy = np.asarray(xy, dtype=np.float64)
        self.radius_px = radius_px
        n = len(self._xy)
        if colors is None:
            colors = np.ones((n, 3))
        if self._colors_ref is not colors or self._key != (id(colors), n):
            c = np.asarray(colors, dtype=np.float64)
            self._rgba = np.ones((n, 4))
            self._rgba[:, :c.shape[1]] = np.clip(c, 0.0, 1.0)
            self._groups = None                     # colour groups: made if Agg draws
            self._colors_ref = colors
            self._key = (id(colors), n)
        self.stale = True

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not len(self._xy):
            return
        ax = self.axes
        assert ax is not None
        pix = ax.transData.transform(self._xy)                    # (N, 2) display px
        buf = _agg_buffer(renderer)
        if buf is not None:
            h = buf.shape[0]
            rasterize.draw_discs(buf, _to_buffer(pix, h), self._rgba, self.radius_px,
                                 _pixel_clip(ax, h))
            return
        if self._groups is None:
            self._groups = _color_groups(self._rgba)
        ok = np.isfinite(pix).all(axis=1)
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_antialiased(True)
        gc.set_clip_rectangle(ax.bbox)
        marker_trans = Affine2D().scale(self.radius_px)
        ident = IdentityTransform()
        for idx, rgba in self._groups:
            sel = idx[ok[idx]]
            if len(sel):
                renderer.draw_markers(gc, self._marker, marker_trans, Path(pix[sel]), ident, rgba)
        gc.restore()


class Polylines(Artist):
    """Many polylines of one colour and width, filled as one stroke with one call.

    Through Agg (no compiled kernels): ``LineCollection`` builds a Path per line and never
    simplifies; one path with MOVETO codes, simplified below a tenth of a pixel (as ``Line2D``
    does), halves the grid's cost.
    """

    def __init__(self, color: tuple[float, ...], linewidth_pt: float) -> None:
        super().__init__()
        self.set_animated(True)
        self.color = color
        self.linewidth = linewidth_pt
        self.style = "-"          # a dash style (kernels only): one line, cut into dashes
        self._lines = np.zeros((0, 2, 2))
        self._codes = np.zeros(0, dtype=np.uint8)

    def set_lines(self, lines: np.ndarray) -> None:
        """(L, V, 2) polylines in data units."""
        self._lines = np.asarray(lines, dtype=np.float64)
        n_lines, n_verts = self._lines.shape[:2]
        if len(self._codes) != n_lines * n_verts:
            self._codes = np.full(n_lines * n_verts, Path.LINETO, dtype=np.uint8)
            self._codes[::n_verts] = Path.MOVETO
        self.stale = True

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self._lines.size:
            return
        ax = self.axes
        assert ax is not None
        pix = ax.transData.transform(self._lines.reshape(-1, 2))
        r, g, b, a = (list(self.color) + [1.0])[:4]
        alpha = self.get_alpha()
        rgba = (r, g, b, a * (1.0 if alpha is None else alpha))
        buf = _agg_buffer(renderer)
        if buf is not None:
            h = buf.shape[0]
            lines = _to_buffer(pix, h).reshape(self._lines.shape)
            width = renderer.points_to_pixels(self.linewidth)
            if self.style not in SOLID:
                lines = dashed(lines[0], self.style, width)
            rasterize.draw_polylines(buf, lines, rgba, width, _pixel_clip(ax, h))
            return
        path = Path(pix, self._codes)
        path.should_simplify = True
        gc = renderer.new_gc()
        gc.set_foreground(rgba, isRGBA=True)
        gc.set_linewidth(self.linewidth)
        gc.set_antialiased(True)
        gc.set_capstyle("round")
        gc.set_joinstyle("round")
        gc.set_clip_rectangle(ax.bbox)
        renderer.draw_path(gc, path, IdentityTransform())
        gc.restore()


class Stamps(Artist):
    """RGBA images (row 0 = ymin) placed on data extents: decision regions, digit thumbnails.

    Each is resampled by nearest neighbour onto exactly the display pixels it covers inside
    the axes (crisp pixels, like ``interpolation="nearest"``) and stamped with one
    ``draw_image``. That skips Matplotlib's general resampling pipeline, which costs ~35 ms
    for a panel-sized region map; an unchanged image on an unchanged view is reused as is.
    """

    def __init__(self) -> None:
        super().__init__()
        self.set_animated(True)
        self.images: list[Image | RegionLayer] = []
        self._painted: tuple[Any, RegionLayer, Image | None] | None = None
        self._cache: dict[tuple[Any, ...], tuple[np.ndarray, int, int, np.ndarray]] = {}

    def set_images(self, images: Sequence[Image | RegionLayer]) -> None:
        self.images = list(images)
        self.stale = True

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self.images:
            return
        ax = self.axes
        assert ax is not None
        gc = renderer.new_gc()
        gc.set_clip_rectangle(ax.bbox)
        for im in self.images:
            hit = self._stamp(im, ax)  # type: ignore[arg-type]
            if hit is not None:
                renderer.draw_image(gc, hit[0], hit[1], hit[2])
        gc.restore()

    def _stamp(self, im: Image | RegionLayer, ax: Axes) -> tuple[int, int, np.ndarray] | None:
        if isinstance(im, RegionLayer):
            bb = ax.bbox
            v0, v1 = ax.get_xlim()
            w0, w1 = ax.get_ylim()
            key0 = (id(im), v0, v1, w0, w1, bb.x0, bb.y0, bb.x1, bb.y1)
            if self._painted is None or self._painted[0] != key0 or self._painted[1] is not im:
                painted = paint_layer(im, (v0, v1, w0, w1), ax.transData.transform,
                                      (bb.x0, bb.y0, bb.x1, bb.y1))
                self._painted = (key0, im, painted)
            if self._painted[2] is None:
                return None
            im = self._painted[2]
        x0, x1, y0, y1 = im.extent
        (px0, py0), (px1, py1) = ax.transData.transform([(x0, y0), (x1, y1)])
        bb = ax.bbox
        key = (id(im.rgba), round(px0, 3), round(py0, 3), round(px1, 3), round(py1, 3),
               bb.x0, bb.y0, bb.x1, bb.y1)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is im.rgba:
            return hit[1], hit[2], hit[3]
        got = stamp_pixels(im, (px0, py0, px1, py1), (bb.x0, bb.y0, bb.x1, bb.y1))
        if len(self._cache) > 64:
            self._cache.clear()
        if got is not None:
            self._cache[key] = (im.rgba, *got)
        return got


def _color_groups(colors: np.ndarray) -> list[tuple[np.ndarray, tuple[float, ...]]]:
    """Indices per colour; at most MAX_COLOR_GROUPS groups (k-means on the colours)."""
    c = np.ones((len(colors), 4))
    c[:, :colors.shape[1]] = colors
    q = np.round(c * 255).astype(np.int64)
    keys = ((q[:, 0] * 256 + q[:, 1]) * 256 + q[:, 2]) * 256 + q[:, 3]
    uniq, inv = np.unique(keys, return_inverse=True)
    if len(uniq) <= MAX_COLOR_GROUPS:
        return [(np.flatnonzero(inv == g), tuple(c[np.argmax(inv == g)])) for g in range(len(uniq))]
    # k-means with a deterministic start: colours spread along their sorted luminance/hue
    k = MAX_COLOR_GROUPS
    order = np.lexsort((c[:, 2], c[:, 1], c[:, 0]))
    centres = c[order[np.linspace(0, len(c) - 1, k).astype(int)]].copy()
    lab = np.zeros(len(c), dtype=np.int64)
    for _ in range(8):
        d = ((c[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        lab = d.argmin(1)
        for j in range(k):
            m = lab == j
            if m.any():
                centres[j] = c[m].mean(0)
    return [(np.flatnonzero(lab == j), tuple(np.clip(centres[j], 0, 1)))
            for j in range(k) if (lab == j).any()]


class _Pool:
    """Reusable artists of one kind, made on demand and hidden when unused."""

    def __init__(self, make: Any) -> None:
        self.make, self.items = make, []  # type: ignore[var-annotated]

    def take(self, n: int) -> list[Any]:
        while len(self.items) < n:
            self.items.append(self.make())
        for i, a in enumerate(self.items):
            a.set_visible(i < n)
        return self.items[:n]


class _View:
    """One panel slot: an Axes with its artists, updated from a panel each frame."""

    kind = ""

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        self.fig, self.rect, self.scale = fig, rect, scale
        self.ax: Axes = fig.add_axes(rect)
        self.ax.set_axis_off()
        self.ax.patch.set_visible(False)
        self.animated: list[Artist] = []
        self.title = self._text(0.0, 1.0, 15, "left", "bottom")
        self.subtitle = self._text(1.0, 1.0, 11, "right", "bottom", alpha=0.75)
        self.texts = _Pool(lambda: self._text(0, 0, 12, "left", "top", alpha=None))
        self.lines = _Pool(self._new_line)
        self.strokes = _Pool(self._new_stroke)
        self.line_order: list[Artist] = []

    def _text(self, x: float, y: float, size: float, ha: str, va: str,
              alpha: float | None = 1.0) -> MplText:
        t = _text(self.ax, x, y, self.ax.transAxes, color=FOREGROUND,
                  fontsize=size * self.scale, ha=ha, va=va, alpha=alpha)
        self.animated.append(t)
        return t

    def _common(self, p: Any) -> None:
        self.title.set_text(p.title)
        self.subtitle.set_text(p.subtitle)
        items = self.texts.take(len(p.texts))
        for art, t in zip(items, p.texts, strict=True):
            _set_text(art, t, self.scale)
        for art in items:
            if art not in self.animated:
                self.animated.append(art)

    def update(self, panel: Any) -> None:
        raise NotImplementedError

    def _new_line(self) -> Line2D:
        ln = Line2D([], [], animated=True, zorder=4, solid_capstyle="round")
        self.ax.add_line(ln)
        return ln

    def _new_stroke(self) -> Polylines:
        art = Polylines((1.0, 1.0, 1.0, 1.0), 1.0)
        self.ax.add_artist(art)
        return art

    def _set_lines(self, lines: list[Line]) -> None:
        """Polylines in data units, drawn in order: through the kernels where they draw (as
        the Matplotlib-free backend does), the rest (other styles, or no kernels) as Line2D."""
        kernel = rasterize.AVAILABLE
        n_kernel = sum(1 for ln in lines if kernel and ln.style in STYLES)
        strokes = self.strokes.take(n_kernel)
        line2d = self.lines.take(len(lines) - n_kernel)
        self.line_order = []
        for ln in lines:
            art = strokes.pop(0) if kernel and ln.style in STYLES else line2d.pop(0)
            self.line_order.append(art)
            if isinstance(art, Polylines):
                art.color = to_rgba(ln.color)  # type: ignore[arg-type]
                art.linewidth = ln.width * 72 / DPI * self.scale
                art.set_lines(ln.xy[None])
                art.style = ln.style
                art.set_visible(ln.width > 0)
                continue
            art.set_data(ln.xy[:, 0], ln.xy[:, 1])
            art.set_color(ln.color)
            art.set_linewidth(ln.width * 72 / DPI * self.scale)
            art.set_linestyle(ln.style)

    def _limits(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Set the data limits. The first time through ``set_xlim``/``set_ylim`` (which also
        turn autoscaling off); then straight into the view box, skipping their validation
        and callbacks (~1 ms a frame when the camera moves); unchanged limits cost nothing."""
        lim = (x0, x1, y0, y1)
        old = getattr(self, "_lim", None)
        if lim == old:
            return
        if old is None or not (x0 < x1 and y0 < y1):
            self.ax.set_xlim(x0, x1)
            self.ax.set_ylim(y0, y1)
        else:
            self.ax.viewLim.intervalx = (x0, x1)
            self.ax.viewLim.intervaly = (y0, y1)
        self._lim = lim

    def _renderer(self) -> Any:
        """The canvas's renderer (its size never changes, so it is looked up once)."""
        r = getattr(self, "_agg", None)
        if r is None:
            r = self._agg = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        return r

    def _pixels(self, height: int) -> Any:
        """Data (…, 2) → buffer pixels of a canvas ``height`` px tall, as a function."""
        def pixels(xy: np.ndarray) -> np.ndarray:
            flat = self.ax.transData.transform(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
            return _to_buffer(flat, height).reshape(np.shape(xy))
        return pixels

    def _draw(self, a: Artist) -> None:
        """``Axes.draw_artist`` without its renderer lookup on every call."""
        a.draw(self._renderer())

    def draw(self) -> None:
        for a in self.animated:
            if a.get_visible():
                self._draw(a)


def _text(parent: Any, x: float, y: float, transform: Any, **props: Any) -> SpriteText:
    """A cached-bitmap text artist added to an Axes or Figure, drawn only by the backend."""
    t = SpriteText(x, y, "", animated=True, clip_on=False, **props)
    t.set_transform(transform)
    parent.add_artist(t)
    return t


def _set_text(art: MplText, t: Text, scale: float) -> None:
    art.set_position(t.xy)
    art.set_text(t.text)
    art.set_fontsize(t.size * scale)
    art.set_color(t.color)  # type: ignore[arg-type]
    art.set_horizontalalignment(t.ha)  # type: ignore[arg-type]
    art.set_verticalalignment(t.va)  # type: ignore[arg-type]
    art.set_fontfamily(t.family)


class _SpaceView(_View):
    kind = "space"

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        super().__init__(fig, rect, scale)
        ax = self.ax
        self.image = Stamps()                 # decision regions, under everything
        ax.add_artist(self.image)
        self.grid = Polylines(GRID, 1.5 * 72 / DPI * scale)
        ax.add_artist(self.grid)
        self.axes = Polylines(AXES, 1.2 * scale)      # the x and y axes
        ax.add_artist(self.axes)
        self.discs = Discs()
        ax.add_artist(self.discs)
        self.thumbs = Stamps()                # thumbnails, over the points
        ax.add_artist(self.thumbs)
        self.labels = _Pool(lambda: self._data_text())
        self.order: list[Artist] = [self.image, self.grid, self.axes]

    def _data_text(self) -> MplText:
        t = _text(self.ax, 0, 0, self.ax.transData, color=FOREGROUND,
                  fontsize=11 * self.scale, ha="left", va="bottom")
        t.set_clip_box(self.ax.bbox)
        return t

    def update(self, p: Space) -> None:
        bbox = self.ax.get_window_extent()
        x0, x1, y0, y1 = fit_view(p.view, bbox.width, bbox.height)
        self._limits(x0, x1, y0, y1)
        if p.regions is not None:
            self.image.set_images([p.regions])
            self.image.set_visible(True)
        else:
            self.image.set_visible(False)
        if p.grid is not None:
            self.grid.set_lines(p.grid)
            self.grid.set_alpha(p.grid_alpha)
            self.grid.set_visible(True)
        else:
            self.grid.set_visible(False)
        self.axes.set_lines(np.array([[[x0, 0.0], [x1, 0.0]], [[0.0, y0], [0.0, y1]]]))
        self.axes.set_visible(p.axes)
        if p.points is not None:
            self.discs.set_points(p.points, p.colors, p.point_size * self.scale)
            self.discs.set_visible(True)
        else:
            self.discs.set_visible(False)
        self.thumbs.set_images(p.thumbnails)
        self._set_lines(p.lines)
        labelled = [ln for ln in p.lines if ln.label]
        labels = self.labels.take(len(labelled))
        for art, ln in zip(labels, labelled, strict=True):
            art.set_position((float(ln.xy[-1, 0]), float(ln.xy[-1, 1])))
            art.set_text(ln.label)
            art.set_color(ln.color)
        self._common(p)

    def draw(self) -> None:
        for a in self.order:
            if a.get_visible():
                self._draw(a)
        if self.discs.get_visible():
            self.discs.draw(self._renderer())
        self.thumbs.draw(self._renderer())
        for a in self.line_order + self.labels.items:
            if a.get_visible():
                self._draw(a)
        super().draw()


class _BarsView(_View):
    kind = "bars"

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        super().__init__(fig, rect, scale)
        self.bars: Any = None
        self.state: Bars | None = None
        self.n = -1
        self.base = Line2D([], [], color=AXES, lw=1.2 * scale, animated=True)
        self.ax.add_line(self.base)
        self.ticks = _Pool(lambda: _text(self.ax, 0, 0, self.ax.transData, color=FOREGROUND,
                                         fontsize=TICK_PT * self.scale, ha="center", va="top"))

    def update(self, p: Bars) -> None:
        self.state = p
        k = len(p.values)
        if k != self.n:
            if self.bars is not None:
                self.bars.remove()
            self.bars = self.ax.bar(np.arange(k), np.zeros(k), width=0.8, animated=True)
            self.n = k
        self.ax.set_xlim(-0.7, k - 0.3)
        lo, hi = p.ylim
        self.ax.set_ylim(lo, hi)
        colors = p.colors if p.colors is not None else np.tile([BAR_COLOR], (k, 1))
        for rect, v, c in zip(self.bars, p.values, colors, strict=True):
            rect.set_height(float(v))
            rect.set_color(c)
        self.base.set_data([-0.7, k - 0.3], [0, 0])
        labels = p.xlabels or []
        for art, (i, s) in zip(self.ticks.take(len(labels)), enumerate(labels), strict=True):
            art.set_position((i, lo - 0.02 * (hi - lo)))
            art.set_text(s)
        self._common(p)

    def draw(self) -> None:
        buf = _agg_buffer(self._renderer())
        if buf is not None and self.state is not None:   # as the Matplotlib-free backend
            h = buf.shape[0]
            draw_bars(buf, self._pixels(h),
                      _pixel_clip(self.ax, h), self.state, self.scale)
        else:
            if self.bars is not None:
                for r in self.bars:
                    self._draw(r)
            self._draw(self.base)
        for t in self.ticks.items:
            if t.get_visible():
                self._draw(t)
        super().draw()


class _PlotView(_View):
    kind = "plot"

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        super().__init__(fig, rect, scale)
        self.xaxis = Line2D([], [], color=AXES, lw=1.2 * scale, animated=True)
        self.yaxis = Line2D([], [], color=AXES, lw=1.2 * scale, animated=True)
        self.ax.add_line(self.xaxis)
        self.ax.add_line(self.yaxis)
        self.axes = Polylines(AXES, 1.2 * scale)      # the same through the kernels
        self.ax.add_artist(self.axes)

    def update(self, p: Plot) -> None:
        x0, x1, y0, y1 = p.view
        self._limits(x0, x1, y0, y1)
        self.xaxis.set_data([x0, x1], [0, 0])
        self.yaxis.set_data([0, 0], [y0, y1])
        self.axes.set_lines(np.array([[[x0, 0.0], [x1, 0.0]], [[0.0, y0], [0.0, y1]]]))
        self._set_lines(p.lines)
        self._common(p)

    def draw(self) -> None:
        axes = [self.axes] if rasterize.AVAILABLE else [self.xaxis, self.yaxis]
        for a in axes + self.line_order:
            if a.get_visible():
                self._draw(a)
        super().draw()


class _DiagramView(_View):
    kind = "diagram"

    def __init__(self, fig: Figure, rect: Rect, scale: float) -> None:
        super().__init__(fig, rect, scale)
        self.ax.set_xlim(-0.5, 1.5)
        self.ax.set_ylim(*DiagramLayout.ylim)
        self.edges = LineCollection([], animated=True, zorder=1, capstyle="round")
        self.ax.add_collection(self.edges)
        self.nodes = Discs()
        self.ax.add_artist(self.nodes)
        self.labels = _Pool(lambda: _text(self.ax, 0, 0, self.ax.transData, color=FOREGROUND,
                                          fontsize=10 * self.scale, ha="center", va="top"))
        self.band = self.ax.axvspan(0, 0, color=BAND, animated=True, zorder=0)
        self._cache: Any = None
        self.state: Diagram | None = None

    def update(self, p: Diagram) -> None:
        key = (tuple(p.widths), tuple(id(w) for w in p.weights), tuple(p.links))
        if key != getattr(self._cache, "key", None):
            self._cache = DiagramLayout(p, key)
        lay = self._cache
        self.ax.set_xlim(*lay.xlim)
        self.ax.set_ylim(*lay.ylim)
        self.state = p
        edge_rgba, node_rgba = lay.colors(p)
        arc_rgba, arc_width = lay.arc_style(p)
        self.edges.set_segments(list(lay.segments) + lay.arcs)
        rgba: Any = np.concatenate([edge_rgba, arc_rgba])       # (E + A, 4)
        self.edges.set_color(rgba)
        self.edges.set_linewidth(list(np.concatenate([lay.edge_width, arc_width]) * self.scale))
        self.nodes.set_points(lay.node_xy, node_rgba, lay.node_radius * self.scale)
        self.band.set_x(p.highlight - lay.band_half)
        self.band.set_width(2 * lay.band_half)
        texts = lay.texts(p)
        for art, (xy, s) in zip(self.labels.take(len(texts)), texts, strict=True):
            art.set_position(xy)
            art.set_text(s)
        self._common(p)

    def draw(self) -> None:
        buf = _agg_buffer(self._renderer())
        if buf is not None:     # band, edges and nodes as the Matplotlib-free backend draws them
            h = buf.shape[0]
            bb = self.ax.bbox
            self._cache.draw(buf, self._pixels(h),
                             (bb.x0, h - bb.y1, bb.x1, h - bb.y0), _pixel_clip(self.ax, h),
                             self.state, self.scale)
        else:
            self._draw(self.band)
            self._draw(self.edges)
            self.nodes.draw(self._renderer())
        for t in self.labels.items:
            if t.get_visible():
                self._draw(t)
        super().draw()


_VIEWS: dict[str, type[_View]] = {"space": _SpaceView, "bars": _BarsView, "plot": _PlotView,
                                  "diagram": _DiagramView}


def _view_class(kind: str) -> type[_View]:
    """The view drawing a panel ``kind``; the 3-D view (OpenGL) is imported only when used."""
    if kind == "space3d" and kind not in _VIEWS:
        from spacefold.render.raster3d import Space3DView

        _VIEWS[kind] = Space3DView
    return _VIEWS[kind]


class RasterBackend:
    """Draws :class:`Frame`s to RGBA arrays of ``size`` (width, height) pixels.

    >>> from spacefold.render.sprites import SpriteText
from spacefold.render.frame import Frame, Space
    >>> b = RasterBackend((160, 90))
    >>> b.draw(Frame([((0, 0, 1, 1), Space(view=(-1, 1, -1, 1)))])).shape
    (90, 160, 4)
    """

    def __init__(self, size: tuple[int, int] = (1280, 720)) -> None:
        w, h = size
        self.size = size
        self.scale = h / 720.0          # sizes in scenes are px / pt at 720p
        self.fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI, facecolor=BACKGROUND)
        self.canvas = FigureCanvasAgg(self.fig)
        self.views: list[_View] = []
        self.layout: list[tuple[Rect, str]] = []
        self.heading = _text(self.fig, 0.5, 0.975, self.fig.transFigure, color=FOREGROUND,
                             ha="center", va="top", fontsize=20 * self.scale)
        self.caption = _text(self.fig, 0.5, 0.02, self.fig.transFigure, color=FOREGROUND,
                             ha="center", va="bottom", fontsize=13 * self.scale, alpha=0.85)
        self.background: Any = None

    def _ensure_layout(self, panels: Sequence[tuple[Rect, Panel]]) -> None:
        layout = [(tuple(r), p.kind) for r, p in panels]
        if layout == self.layout:
            return
        for v in self.views:
            v.ax.remove()
        self.views = [_view_class(kind)(self.fig, rect, self.scale)  # type: ignore[arg-type]
                      for rect, kind in layout]
        self.layout = layout  # type: ignore[assignment]
        self.canvas.draw()      # animated artists are skipped: this is the static background
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def draw(self, frame: Frame) -> np.ndarray:
        """Render ``frame``; returns a view (H, W, 4) uint8 of the canvas (valid until the
        next call)."""
        self._ensure_layout(frame.panels)
        self.canvas.restore_region(self.background)
        for view, (_, panel) in zip(self.views, frame.panels, strict=True):
            view.update(panel)
            view.draw()
        self.heading.set_text(frame.heading)
        self.caption.set_text(frame.caption)
        renderer = self.canvas.get_renderer()
        self.heading.draw(renderer)
        self.caption.draw(renderer)
        return np.asarray(self.canvas.buffer_rgba())

    def close(self) -> None:
        self.fig.clear()
