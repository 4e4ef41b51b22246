"""The 5-class spiral (MISSION.md scenes 5, 7 and 8): ``spiral``, ``bottleneck``, ``extrapolation``.

Every picture here is computed from a trained network (:mod:`spacefold.scenes.zoo`): decision
regions are the network carried over a raster of the plane, the bottleneck's boundary lines
come from the last layer's weights, and the zoom-out recomputes the regions for every view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.render.frame import Diagram, Extent, Frame, Image, Line, Panel, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.registry import scene
from spacefold.scenes.story import SPACE_RECT, Story, StoryOptions, lerp_extent, regions_image
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import GridSpec, Trace, trace

# The input plane every spiral scene starts from: a square wide enough that the regions and the
# grid cover the space panel (the panel is wider than tall, the data spans about ±1).
PLANE: Extent = (-1.6, 1.6, -1.6, 1.6)
PLANE_GRID = GridSpec(extent=PLANE, lines=17, verts=160, regions=360)
FRAME_ASPECT = 16 / 9            # the tour's frames; views are fitted to panels at this aspect
FADES = 24                       # alpha levels of a fading region image (cached)


# -- the maths behind the pictures -----------------------------------------------------------

def raster(extent: Extent, nx: int, ny: int) -> np.ndarray:
    """(ny·nx, 2) pixel centres of an nx×ny raster over ``extent``; row 0 is ymin."""
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / nx / 2, (y1 - y0) / ny / 2
    gx, gy = np.meshgrid(np.linspace(x0 + hx, x1 - hx, nx), np.linspace(y0 + hy, y1 - hy, ny))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def tail_regions(tr: Trace, start: int, extent: Extent, nx: int, ny: int | None = None
                 ) -> np.ndarray:
    """(ny, nx) class per pixel of a raster over ``extent`` in stage ``start``'s plane: the
    rest of the network (stages start+1 … last) carried over it, then argmax."""
    ny = nx if ny is None else ny
    out = tr.carry(raster(extent, nx, ny), start=start)[-1]     # (ny·nx, d_out)
    return tr.predict(out).reshape(ny, nx)


def panel_view(view: Extent, rect: Rect, aspect: float = FRAME_ASPECT,
               grow: float = 1.0) -> Extent:
    """``view`` grown to the panel's shape (what the backend shows, equal aspect), × ``grow``."""
    x0, x1, y0, y1 = view
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    target = rect[2] * aspect / rect[3]          # panel width / height
    if w / h < target:
        w = h * target
    else:
        h = w / target
    w, h = w * grow, h * grow
    return (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)


@dataclass(frozen=True)
class Boundary:
    """A straight piece of the last layer's decision boundary in its input plane h:
    classes ``k`` and ``j`` tie, (w_k − w_j)·h + (b_k − b_j) = 0, and beat every other class.
    Points with (w_k − w_j)·h + (b_k − b_j) > 0 go to ``k``."""

    k: int
    j: int
    start: np.ndarray        # (2,)
    end: np.ndarray          # (2,)
    normal: np.ndarray       # (2,) w_k − w_j
    offset: float            # b_k − b_j

    @property
    def length(self) -> float:
        return float(np.hypot(*(self.end - self.start)))


def boundary_segments(w: np.ndarray, b: np.ndarray, box: Extent,
                      eps: float = 1e-9) -> list[Boundary]:
    """Where argmax(w·h + b) changes inside ``box``: for every pair k < j, the line where their
    scores tie, clipped to where those two beat all other classes (and to the box).

    ``w`` is the last Linear's (K, 2) matrix, ``b`` its (K,) bias. Each constraint
    a·h + c ≥ 0 restricted to the line h = p + t·d is an interval of t; their intersection
    is the drawn segment.
    """
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    x0, x1, y0, y1 = box
    box_rows = [(np.array([1.0, 0.0]), -x0), (np.array([-1.0, 0.0]), x1),
                (np.array([0.0, 1.0]), -y0), (np.array([0.0, -1.0]), y1)]
    out = []
    n_cls = len(b)
    for k in range(n_cls):
        for j in range(k + 1, n_cls):
            nrm, c = w[k] - w[j], float(b[k] - b[j])
            nn2 = float(nrm @ nrm)
            if nn2 < eps:
                continue                                     # parallel score planes
            p = -c * nrm / nn2                               # a point on the tie line
            d = np.array([-nrm[1], nrm[0]]) / math.sqrt(nn2)  # its direction
            lo, hi = -math.inf, math.inf
            rows = [(w[k] - w[m], float(b[k] - b[m])) for m in range(n_cls) if m not in (k, j)]
            for a, ca in rows + box_rows:
                ad, val = float(a @ d), float(a @ p) + ca    # a·(p + t·d) + ca = val + ad·t
                if abs(ad) < eps:
                    if val < 0:
                        lo, hi = 0.0, -1.0                   # never satisfied: empty
                    continue
                if ad > 0:
                    lo = max(lo, -val / ad)
                else:
                    hi = min(hi, -val / ad)
            if hi - lo > eps * max(1.0, abs(lo), abs(hi)):
                out.append(Boundary(k, j, p + lo * d, p + hi * d, nrm, c))
    return out


def last_linear(tr: Trace) -> tuple[int, np.ndarray, np.ndarray]:
    """``(k, W, b)``: the stage k that feeds the last Linear (its plane h), and that layer's
    (K, d) matrix and (K,) bias."""
    idx = max(i for i, op in enumerate(tr.ops) if op.kind == "linear")
    w = tr.ops[idx].params["W"]
    nxt = tr.ops[idx + 1] if idx + 1 < len(tr.ops) else None
    b = nxt.params["b"] if nxt is not None and nxt.kind == "bias" else np.zeros(w.shape[0])
    return idx, np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)


class ZoomMaps:
    """Decision regions of a network over views zooming out from ``base`` by up to
    ``max_zoom``, one raster per zoom level (cached): level i covers ``base`` × zoom_i with
    zoom_i = max_zoom ** (i / levels), and a view at zoom z uses the first level ≥ z, so the
    raster always covers the view. Each raster is drawn at its own extent: it is exactly the
    network's decision on its pixel centres."""

    def __init__(self, tr: Trace, base: Extent, max_zoom: float = 16.0, levels: int = 24,
                 res: int = 160) -> None:
        self.tr, self.base, self.max_zoom = tr, base, max_zoom
        self.levels, self.res = levels, res
        self._labels: dict[int, np.ndarray] = {}
        self._images: dict[int, Image] = {}

    def level(self, zoom: float) -> int:
        t = math.log(max(zoom, 1.0)) / math.log(self.max_zoom)
        return min(self.levels, math.ceil(t * self.levels - 1e-9))

    def zoom(self, level: int) -> float:
        return float(self.max_zoom ** (level / self.levels))

    def extent(self, level: int) -> Extent:
        return scale_extent(self.base, self.zoom(level))

    def samples(self, level: int) -> np.ndarray:
        """(res·res, 2) input points of level ``level``'s raster (row 0 = ymin)."""
        return raster(self.extent(level), self.res, self.res)

    def labels(self, level: int) -> np.ndarray:
        """(res, res) argmax of the network at :meth:`samples`."""
        if level not in self._labels:
            self._labels[level] = tail_regions(self.tr, 0, self.extent(level), self.res)
        return self._labels[level]

    def image(self, zoom: float) -> Image:
        lv = self.level(zoom)
        if lv not in self._images:
            self._images[lv] = regions_image(self.labels(lv), self.extent(lv), alpha=0.55,
                                             dim=0.6)
        return self._images[lv]


def scale_extent(e: Extent, s: float) -> Extent:
    cx, cy = (e[0] + e[1]) / 2, (e[2] + e[3]) / 2
    hx, hy = (e[1] - e[0]) / 2 * s, (e[3] - e[2]) / 2 * s
    return (cx - hx, cx + hx, cy - hy, cy + hy)


# -- shared pieces of the pictures -----------------------------------------------------------

class Fader:
    """A class map as a region image whose opacity fades in (``FADES`` cached levels)."""

    def __init__(self, labels: np.ndarray, extent: Extent, alpha: float = 0.42,
                 dim: float = 0.6) -> None:
        self.labels, self.extent, self.alpha, self.dim = labels, extent, alpha, dim
        self.at = lru_cache(maxsize=FADES + 1)(self._at)

    def _at(self, level: int) -> Image:
        return regions_image(self.labels, self.extent, self.alpha * level / FADES, self.dim)

    def __call__(self, a: float) -> Image:
        return self.at(round(min(max(a, 0.0), 1.0) * FADES))


def spiral_trace(arch: str, activation: str = "relu", grid: GridSpec = PLANE_GRID
                 ) -> tuple[Trace, Dataset, float]:
    """The zoo's network ``arch`` on the spiral, traced over :data:`PLANE`; train accuracy."""
    model, data, hist = spiral_net(arch, activation)
    tr = trace(model, data, grid=grid, meta={"arch": arch, "dataset": "spiral (5 classes)"})
    acc = tr.accuracy()
    assert acc is not None
    return tr, data, acc


def _net_name(arch: str, activation: str) -> str:
    return f"{arch} {'ReLU' if activation == 'relu' else activation}"


def _space_of(f: Frame) -> Space:
    sp = f.panels[0][1]
    assert isinstance(sp, Space)
    return sp


# -- spiral (MISSION.md 5) -------------------------------------------------------------------

@scene("spiral", "5-class spiral, 2-100-5 ReLU network: the arms, the stages through the "
       "100-unit layer, then the decision regions under the data")
def spiral(color_by: str = "class", **opts: Any) -> Timeline:
    tr, data, acc = spiral_trace("2-100-5")
    heading = f"5-class spiral  ·  network 2-100-5 ReLU  ·  train accuracy {100 * acc:.1f}%"
    story = Story(tr, StoryOptions(color_by=color_by, heading=heading, stage_seconds=1.6,
                                   show_regions=False))
    pts0, grid0 = tr.display(0), tr.display_grid(0)
    order = np.argsort(np.hypot(pts0[:, 0], pts0[:, 1]), kind="stable")  # arms grow outwards
    colors = story.colors
    assert tr.regions is not None
    fader = Fader(tr.regions.labels, tr.regions.extent)
    last = len(tr.stages) - 1
    ptsL, gridL = tr.display(last), tr.display_grid(last)

    def data_appear(a: float) -> Frame:
        f = story.frame(0, 1.0, caption=f"{tr.n} points on 5 interleaved arms: no straight "
                                        f"line separates one arm from the others")
        sp = _space_of(f)
        m = max(1, round(smooth(a) * tr.n))
        sp.points, sp.colors = pts0[order[:m]], colors[order[:m]]
        return f

    def back_to_input(a: float) -> Frame:
        s = smooth(a)
        f = story.frame(0, 1.0, caption="back in the input plane, where every point of the "
                                        "plane gets the network's decision")
        sp = _space_of(f)
        sp.points = (1 - s) * ptsL + s * pts0
        if grid0 is not None and gridL is not None:
            sp.grid = (1 - s) * gridL + s * grid0
        sp.view = lerp_extent(story.views[last], story.views[0], s)
        sp.subtitle = "→ input plane"
        return f

    def regions_in(a: float) -> Frame:
        s = smooth(a)
        f = story.frame(0, 1.0, caption=f"decision regions: argmax of the 5 outputs at every "
                                        f"point of the plane  ·  {100 * acc:.1f}% of the "
                                        f"training points land in their own colour")
        sp = _space_of(f)
        sp.regions = fader(s)
        sp.grid_alpha = 0.9 - 0.6 * s
        sp.title = "decision regions"
        sp.subtitle = "network output on a 360×360 raster of the input plane"
        return f

    segs = [Segment("the data", 2.0, data_appear)]
    segs += [s for s in story.segments() if s.name != "input"]
    segs.append(Segment("back to the input plane", 1.0, back_to_input, key=False))
    segs.append(Segment("decision regions", 2.5, regions_in))
    caption = ("A 2-100-5 ReLU network trained on the 5-class spiral: the points are carried "
               "through the 100-unit layer (shown by PCA), then the decision regions are drawn "
               f"under the data; {100 * acc:.1f}% of the training points are classified right.")
    return Timeline("spiral", segs, meta={"trace": tr, "accuracy": acc, "caption": caption},
                    poster_segment=len(segs) - 1)


# -- bottleneck (MISSION.md 7) ---------------------------------------------------------------

BOTTLENECK = "2-100-2-5"


@scene("bottleneck", "2-100-2-5 on the spiral: the plane carried into the 2-unit layer, where "
       "the arms are rays and the last layer's few straight boundary lines split them")
def bottleneck(color_by: str = "class", **opts: Any) -> Timeline:
    tr, data, acc = spiral_trace(BOTTLENECK)
    heading = (f"5-class spiral  ·  bottleneck network {BOTTLENECK} ReLU  ·  "
               f"train accuracy {100 * acc:.1f}%")
    story = Story(tr, StoryOptions(color_by=color_by, heading=heading, stage_seconds=1.4,
                                   hold_seconds=1.5))
    li, w, b = last_linear(tr)
    kb = li                                   # stage index of the plane h the last layer sees
    view = story.views[kb]
    shown = panel_view(view, SPACE_RECT)      # what the panel shows of the bottleneck plane
    cover = scale_extent(shown, 1.04)
    ny = 240
    nx = round(ny * (cover[1] - cover[0]) / (cover[3] - cover[2]))
    fader = Fader(tail_regions(tr, kb, cover, nx, ny), cover)
    bounds = [s for s in boundary_segments(w, b, shown) if s.length > 1e-6]
    n_lines = len(bounds)
    name = tr.stages[kb].name

    last_layer = tr.ops[li].layer

    def in_plane(caption: str) -> Frame:
        f = story.frame(kb, 1.0, caption=caption)
        sp = _space_of(f)
        sp.title = f"bottleneck plane h  ({name})"
        for _, panel in f.panels[1:]:         # the diagram: the last layer is at work now
            if isinstance(panel, Diagram):
                panel.highlight, panel.stage_kind = last_layer, "linear"
        return f

    def last_regions(a: float) -> Frame:
        f = in_plane("the arms come out as rays; the last layer colours this plane by the "
                     "largest of its 5 scores wₖ·h + bₖ")
        sp = _space_of(f)
        sp.regions = fader(smooth(a))
        sp.grid_alpha = 0.9 - 0.55 * smooth(a)
        return f

    def draw_lines(a: float) -> Frame:
        f = in_plane(f"where the top two scores tie, (wₖ − wⱼ)·h + bₖ − bⱼ = 0: "
                     f"{n_lines} straight segments are all the last layer can cut with")
        sp = _space_of(f)
        sp.regions = fader(1.0)
        sp.grid_alpha = 0.35
        s = smooth(a)
        for bd in bounds:
            mid = (bd.start + bd.end) / 2
            half = (bd.end - bd.start) / 2 * s
            sp.lines.append(Line(np.array([mid - half, mid + half]), "#ffffff", 2.6))
        sp.subtitle = f"{n_lines} segments from the last layer's weights"
        return f

    segs = story.segments()[:kb + 1]          # the input, then every stage up to the plane h
    segs.append(Segment("last layer's regions", 2.0, last_regions))
    segs.append(Segment("boundary lines", 2.5, draw_lines))
    caption = (f"A {BOTTLENECK} ReLU network squeezes the spiral through 2 units: in that plane "
               f"the arms are rays from a corner, and the last layer separates them with "
               f"{n_lines} straight segments computed from its weights.")
    return Timeline("bottleneck", segs,
                    meta={"trace": tr, "accuracy": acc, "caption": caption,
                          "bottleneck_stage": kb, "boundaries": bounds, "view": shown},
                    poster_segment=len(segs) - 1)


# -- extrapolation (MISSION.md 8) ------------------------------------------------------------

LEFT: Rect = (0.025, 0.1, 0.46, 0.78)
RIGHT: Rect = (0.515, 0.1, 0.46, 0.78)
MAX_ZOOM = 16.0
DATA_BOX: Extent = (-1.25, 1.25, -1.25, 1.25)

# The two networks compared, as (label, arch, activation, zoo options). The sine network has a
# 2-unit sine layer first: sin(W₁·x + b₁) wraps each of its two coordinates around, so the
# whole network is exactly periodic, f(x + p) = f(x) for every p with W₁·p ∈ 2π·ℤ², and its
# learned lattice of periods shows when zooming out. (A plain 2-100-5 sine network sums 100
# waves of unrelated frequencies: far out that is a fine quasi-periodic texture that reads as
# noise at ×16, not as repetition.) Seed 2 at lr 0.05 fits the spiral in ~150 epochs.
EXTRAPOLATORS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("ReLU", "2-100-5", "relu", {}),
    ("sine", "2-2-100-5", "sin", {"seed": 2, "lr": 0.05}),
)


def period_vectors(tr: Trace) -> np.ndarray:
    """(2, 2) rows p₁, p₂: the periods of a network whose first stages are W·x, +b, sine with
    2 units — W₁·pᵢ = 2π·eᵢ, so every stage after the sine is unchanged by x → x + pᵢ."""
    w = np.asarray(tr.ops[0].params["W"], dtype=np.float64)
    return np.asarray(2 * np.pi * np.linalg.inv(w).T)


def extrapolation_nets(color_by: str = "class") -> list[tuple[str, str, Trace, float]]:
    """``(label, arch, trace, train accuracy)`` of the two networks of :data:`EXTRAPOLATORS`."""
    out = []
    for label, arch, act, kw in EXTRAPOLATORS:
        model, data, _ = spiral_net(arch, act, **kw)
        tr = trace(model, data, grid=GridSpec(extent=PLANE, regions=0),
                   meta={"arch": arch, "dataset": "spiral (5 classes)"})
        acc = tr.accuracy()
        assert acc is not None
        out.append((label, arch, tr, acc))
    return out


@scene("extrapolation", "ReLU vs sine network on the spiral, zooming out ×1 → ×16: ReLU "
       "boundaries run off as straight rays, sine boundaries repeat")
def extrapolation(color_by: str = "class", **opts: Any) -> Timeline:
    nets = extrapolation_nets()
    base = panel_view(DATA_BOX, LEFT)
    maps = [ZoomMaps(tr, scale_extent(base, 1.03), MAX_ZOOM, res=160) for _, _, tr, _ in nets]
    pts = nets[0][2].display(0)
    colors = nets[0][2].colors(color_by)
    x0, x1, y0, y1 = DATA_BOX
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    p1, p2 = period_vectors(nets[1][2])
    cell = np.array([[0.0, 0.0], p1, p1 + p2, p2, [0.0, 0.0]]) - (p1 + p2) / 2  # around 0
    heading = "the same spiral learned by a ReLU and a sine network  ·  zooming out"
    acc = {label: a for label, _, _, a in nets}

    def at(zoom: float, caption: str, cell_a: float = 0.0) -> Frame:
        view = scale_extent(base, zoom)
        panels: list[tuple[Rect, Panel]] = []
        for (label, arch, _tr, a), zm, rect in zip(nets, maps, (LEFT, RIGHT), strict=True):
            lines = [Line(box, (1, 1, 1, 0.5), 1.2, "--")]
            if label == "sine" and cell_a > 0:
                lines.append(Line(cell, (1, 1, 1, 0.95 * cell_a), 2.4, "--"))
            panels.append((rect, Space(
                view=view, points=pts, colors=colors, regions=zm.image(zoom), lines=lines,
                texts=[Text((0.025, 0.975), f"×{zoom:.1f}", size=24, va="top")],
                title=f"{label} network {arch}", subtitle=f"train accuracy {100 * a:.1f}%",
                point_size=max(1.6, 3.5 / zoom ** 0.35))))
        return Frame(panels, heading=heading, caption=caption)

    def hold(a: float) -> Frame:
        return at(1.0, f"both fit the data (dashed square): {100 * acc['ReLU']:.1f}% and "
                       f"{100 * acc['sine']:.1f}% of the training points")

    def zoom_out(u: float) -> Frame:
        # exponential zoom: log(zoom) moves steadily (eased only at both ends of the way)
        return at(MAX_ZOOM ** smooth(u), "zooming out past the data: the decision regions "
                                         "are recomputed for every view")

    def verdict(a: float) -> Frame:
        return at(MAX_ZOOM, "ReLU is piecewise linear: far out its boundaries are straight "
                            "rays.  Sine wraps the plane: its regions repeat (one period "
                            "dashed)", cell_a=smooth(a))

    # the zoom is one eased motion told as two segments, so the stills show ×4 and ×16
    segs = [Segment("×1: the data", 1.5, hold),
            Segment("zoom out to ×4", 4.0, lambda a: zoom_out(a / 2)),
            Segment("zoom out to ×16", 4.0, lambda a: zoom_out(0.5 + a / 2), key=False),
            Segment("×16", 2.5, verdict)]
    caption = ("The same spiral learned by a ReLU network and a sine network, zooming out "
               "×1 → ×16: the ReLU network's boundaries run off as straight rays, the sine "
               "network's regions repeat on a lattice of periods set by its first layer.")
    return Timeline("extrapolation", segs,
                    meta={"trace": nets[0][2], "accuracy": acc["ReLU"],
                          "accuracy_sine": acc["sine"], "caption": caption, "zoom_maps": maps,
                          "traces": [tr for _, _, tr, _ in nets]},
                    poster_segment=len(segs) - 1)
