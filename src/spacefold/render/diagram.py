"""The network diagram's layout (node positions, edges, skip arcs, colours per stage) and the
bar chart's geometry, drawn with the primitives of :mod:`.rasterize`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.colors import color_of, theme
from spacefold.render import rasterize
from spacefold.render.frame import Bars, Diagram, Extent
from spacefold.render.geometry2d import AXES_WIDTH_PT, DPI

LINK = (1.0, 0.85, 0.3, 1.0)         # a skip connection's arc while its sum plays
LINK_DIM = (1.0, 0.85, 0.3, 0.45)
NODES_SHOWN = 12  # a wider layer is drawn as its NODES_SHOWN strongest units plus a "⋮ n more"


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
            if w <= NODES_SHOWN:
                self.shown.append(np.arange(w))
                continue
            # strongest units by total |weight| in and out
            s = np.zeros(w)
            if i > 0 and (w_in := p.weights[i - 1]) is not None:
                s += np.abs(w_in).sum(1)
            if i < len(p.weights) and (w_out := p.weights[i]) is not None:
                s += np.abs(w_out).sum(0)
            self.shown.append(np.sort(np.argsort(-s)[:NODES_SHOWN]))
        self.ys = [self._ys(len(s), p.widths[i] > NODES_SHOWN) for i, s in enumerate(self.shown)]
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
        wmax = max((float(np.abs(w).max()) for w in p.weights if w is not None and w.size),
                   default=1.0)
        th = theme()
        for li, wl in enumerate(p.weights):
            if wl is None:                                  # a branch: its arc, no edges
                continue
            src, dst = self.shown[li], self.shown[li + 1]
            sub = wl[np.ix_(dst, src)]                      # (out_shown, in_shown)
            for a, ya in enumerate(self.ys[li]):
                for b, yb in enumerate(self.ys[li + 1]):
                    v = float(sub[b, a])
                    segs.append([(li, ya), (li + 1, yb)])
                    c = th.positive if v >= 0 else th.negative
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
        light = theme().name == "light"
        nodes = np.tile([[0.45, 0.45, 0.5, 1.0] if light else [0.85, 0.85, 0.9, 1.0]],
                        (len(self.node_xy), 1))
        lit = self.node_col == p.highlight
        if p.highlight and p.stage_kind not in ("linear", "bias"):
            nodes[lit] = [0.9, 0.62, 0.0, 1.0] if light else [1.0, 0.85, 0.3, 1.0]  # glow
        elif p.highlight:
            nodes[lit] = [0.0, 0.45, 0.7, 1.0] if light else [0.55, 0.85, 1.0, 1.0]
        return edges, nodes

    def draw(self, buf: np.ndarray, pixels: Callable[[np.ndarray], np.ndarray],
             box: tuple[float, float, float, float], clip: rasterize.Clip, p: Diagram,
             scale: float, kernels: rasterize.Kernels | None = None) -> None:
        """The band, edges and nodes into ``buf``: ``pixels`` maps data (N, 2) to buffer
        pixels, ``box`` is the panel's (col0, row0, col1, row1) in buffer pixels."""
        edge_rgba, node_rgba = self.colors(p)
        (bx0, _), (bx1, _) = pixels(np.array([[p.highlight - self.band_half, 0.0],
                                              [p.highlight + self.band_half, 0.0]]))
        rasterize.fill_rect(buf, (bx0, box[1], bx1, box[3]), theme().band, clip, kernels)
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
            # short lines: neighbouring columns' labels must not run into each other (how many
            # units a wide column draws is said once, in the panel's subtitle)
            out.append(((float(i), 0.0), f"{name}\n{w}" if name else f"{w}"))
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
    rasterize.draw_polylines(buf, pixels(np.array([[[x0, 0.0], [x1, 0.0]]])), theme().axes,
                             AXES_WIDTH_PT * scale * DPI / 72, clip, kernels)
