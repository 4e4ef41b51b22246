"""Plane stories (MISSION.md scenes 5, 7 and 8): ``spiral``, ``bottleneck``, ``extrapolation``.

Each tells about the network it is given (the zoo's spiral networks are only the defaults):
decision regions are that network carried over a raster of a plane, the bottleneck's boundary
lines come from its weights when the rest of it is affine (else they are contours of the
computed regions, and the caption says so), and the zoom-out recomputes the regions for every
view. The maths is in :mod:`spacefold.trace.analysis`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.render.frame import (
    Diagram,
    Extent,
    Frame,
    Image,
    Line,
    Panel,
    Rect,
    RegionLayer,
    Space,
    Text,
)
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import (
    SceneError,
    arch_of,
    data_label,
    heading,
    layer_inputs,
    net_label,
    pick_stage,
    resolve_data,
    resolve_model,
    stage_dims,
    subject,
)
from spacefold.scenes.piece_edges import PieceEdges
from spacefold.scenes.regionmaps import ExactRegions, ZoomedRegions
from spacefold.scenes.registry import scene
from spacefold.scenes.story import (
    SPACE_RECT,
    Story,
    StoryOptions,
    lerp_extent,
    regions_image,
)
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import GridSpec, Trace, trace
from spacefold.trace.analysis import (
    MONOTONE_HEADS,
    Boundary,
    affine_tail,
    boundary_segments,
    decision_affine,
    period_vectors,
    raster,
    region_contours,
    stage_regions,
    threshold,
)
from spacefold.trace.geometry import auto_extent

__all__ = ["BOTTLENECK", "EXTRAPOLATORS", "Boundary", "Fader", "ZoomMaps", "bottleneck",
           "boundary_segments", "extrapolation", "last_linear", "panel_view", "period_vectors",
           "raster", "scale_extent", "segments_line", "spiral", "tail_regions"]

# The input plane every spiral scene starts from: a square wide enough that the regions and the
# grid cover the space panel (the panel is wider than tall, the data spans about ±1).
PLANE: Extent = (-1.6, 1.6, -1.6, 1.6)
PLANE_GRID = GridSpec(extent=PLANE, lines=17, verts=160, regions=360)
FRAME_ASPECT = 16 / 9            # the tour's frames; views are fitted to panels at this aspect
FADES = 24                       # alpha levels of a fading region image (cached)
EXACT_STEP = 2                   # zoom levels per exact region map (ZoomMaps.image)


# -- the maths behind the pictures (computed in spacefold.trace.analysis) -------------------------

def tail_regions(tr: Trace, start: int, extent: Extent, nx: int, ny: int | None = None
                 ) -> np.ndarray:
    """(ny, nx) class per pixel of a raster over ``extent`` in stage ``start``'s plane."""
    return stage_regions(tr, start, extent, nx, ny)


def last_linear(tr: Trace) -> tuple[int, np.ndarray, np.ndarray]:
    """``(k, W, b)``: the stage k that feeds the last Linear, and that layer's (K, d) matrix
    and (K,) bias (kept for the training scene; new code uses
    :func:`spacefold.trace.analysis.affine_tail`)."""
    idx = max(i for i, op in enumerate(tr.ops) if op.kind == "linear")
    w = tr.ops[idx].params["W"]
    nxt = tr.ops[idx + 1] if idx + 1 < len(tr.ops) else None
    b = nxt.params["b"] if nxt is not None and nxt.kind == "bias" else np.zeros(w.shape[0])
    return idx, np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)


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


class ZoomMaps:
    """Decision regions of a network over views zooming out from ``base`` by up to
    ``max_zoom``, one raster per zoom level (cached): level i covers ``base`` × zoom_i with
    zoom_i = max_zoom ** (i / levels), and a view at zoom z uses the first level ≥ z, so the
    raster always covers the view. Each raster is drawn at its own extent: it is exactly the
    network's decision on its pixel centres."""

    def __init__(self, tr: Trace, base: Extent, max_zoom: float = 16.0, levels: int = 24,
                 res: int = 160, start: int = 0) -> None:
        self.tr, self.base, self.max_zoom, self.start = tr, base, max_zoom, start
        self.levels, self.res = levels, res
        self._labels: dict[int, np.ndarray] = {}
        self._images: dict[int, Image] = {}
        self._exact: ZoomedRegions | None = None

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
            self._labels[level] = stage_regions(self.tr, self.start, self.extent(level),
                                                self.res)
        return self._labels[level]

    def image(self, zoom: float) -> RegionLayer:
        """What the panel draws at ``zoom``: the exact map of its level, computed at the
        panel's pixel density (spacefold.scenes.regionmaps.ZoomedRegions)."""
        if self._exact is None:
            # every EXACT_STEP-th level: each map covers a zoom range at ≥ 1 texel per
            # pixel and evaluates only its ring outside the level before
            self._exact = ZoomedRegions(ExactRegions(self.tr, alpha=0.55, dim=0.6,
                                                     start=self.start),
                                        [self.extent(min(i, self.levels)) for i in
                                         range(0, self.levels + EXACT_STEP, EXACT_STEP)])
        return self._exact.layers[-(-self.level(zoom) // EXACT_STEP)]

    def coarse_image(self, zoom: float) -> Image:
        """The level's res×res raster as an image (:meth:`labels`)."""
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


def plane_grid(d: Dataset, default: bool, regions: int = 360) -> GridSpec | bool:
    """The grid of the input plane: the zoo's fixed square, or one around the user's data
    (as wide, relative to the data, as :data:`PLANE` is to the spiral); none unless 2-D."""
    if default:
        return GridSpec(extent=PLANE, lines=17, verts=160, regions=regions)
    if d.dim != 2:
        return False
    return GridSpec(extent=auto_extent(d.x.astype(np.float64), margin=0.6), lines=17,
                    verts=160, regions=regions)


def _space_of(f: Frame) -> Space:
    sp = f.panels[0][1]
    assert isinstance(sp, Space)
    return sp


def _needs_2d_input(tr: Trace, scene: str) -> None:
    if tr.stages[0].dim != 2:
        raise SceneError(f"{scene} needs a 2-D input (it draws the input plane); model "
                         f"{arch_of(tr)} takes {tr.stages[0].dim}-D input")


# -- spiral (MISSION.md 5) -------------------------------------------------------------------

def _spiral_default() -> tuple[Any, Dataset]:
    model, data, _ = spiral_net("2-100-5")
    return model, data


@scene("spiral", "a network's stages carrying its 2-D data (default: 2-100-5 ReLU on the "
       "5-class spiral), then the decision regions under the data")
def spiral(model: Any = None, data: Any = None, *, stage: int | None = None,
           color_by: str = "class", show_linear_regions: bool = False) -> Timeline:
    """The data appear, every stage carries them, the story rewinds to the plane of ``stage``
    (default: the input) and the decision regions of the rest of the network fill it."""
    m, d, default = subject(model, data, "spiral", _spiral_default, "spiral")
    tr = trace(m, d, grid=plane_grid(d, default), meta={"dataset": data_label(d)})
    _needs_2d_input(tr, "spiral")
    acc = tr.accuracy()
    kp = pick_stage(tr, 0 if stage is None else stage, "spiral",
                    lambda k: tr.stages[k].dim == 2 and k < len(tr.stages) - 1,
                    "a 2-D stage to draw its decision regions in")
    story = Story(tr, StoryOptions(color_by=color_by, heading=heading(tr, d),
                                   stage_seconds=1.6, show_regions=False,
                                   show_linear_regions=show_linear_regions, scene="spiral"))
    pts0 = tr.display(0)
    centre = (pts0.min(axis=0) + pts0.max(axis=0)) / 2
    order = np.argsort(np.hypot(*(pts0 - centre).T), kind="stable")  # arms grow outwards
    colors = story.colors
    last = len(tr.stages) - 1
    if kp == 0:
        assert tr.regions is not None
        extent = tr.regions.extent
        raster_text = "the input plane, at every pixel"
    else:
        extent = scale_extent(panel_view(story.views[kp], SPACE_RECT), 1.04)
        raster_text = f"the plane of stage {kp}, at every pixel"
    fader = ExactRegions(tr, extent, alpha=0.42, dim=0.6, start=kp)
    n_out = tr.stages[-1].dim
    plane_name = "the input plane" if kp == 0 else f"the plane of {tr.stages[kp].name}"
    acc_text = "" if acc is None else (f"  ·  {100 * acc:.1f}% of the points land in their "
                                       f"own colour")

    def data_appear(a: float) -> Frame:
        f = story.frame(0, 1.0, caption=f"{tr.n} points of {data_label(d)}: the network "
                                        f"must carry each class to its own side")
        sp = _space_of(f)
        n = max(1, round(smooth(a) * tr.n))
        sp.points, sp.colors = pts0[order[:n]], colors[order[:n]]
        return f

    def rewind(a: float) -> Frame:
        s = smooth(a)
        f = story.frame(kp, 1.0, caption=f"back to {plane_name}, where every point gets the "
                                         f"network's decision")
        sp = _space_of(f)
        story.move(sp, last, kp, s)
        sp.view = lerp_extent(story.views[last], story.views[kp], s)
        sp.subtitle = f"→ {plane_name}"
        return f

    def regions_in(a: float) -> Frame:
        s = smooth(a)
        what = (f"argmax of the {n_out} outputs" if n_out > 1 else
                f"the output above or below {threshold(tr):g}")
        f = story.frame(kp, 1.0, caption=f"decision regions: {what} at every point of "
                                         f"{plane_name}{acc_text}")
        sp = _space_of(f)
        sp.regions = fader(s)
        sp.grid_alpha = 0.9 - 0.6 * s
        sp.title = "decision regions"
        sp.subtitle = f"network output on {raster_text}"
        return f

    segs = [Segment("the data", 2.0, data_appear)]
    segs += [s for s in story.segments() if s.name != "input"]
    if kp != last:
        segs.append(Segment(f"back to stage {kp}", 1.0, rewind, key=False))
    segs.append(Segment("decision regions", 2.5, regions_in))
    caption = (f"A {net_label(tr)} network on {data_label(d)}: the points are carried through "
               f"every stage (wide ones shown by PCA), then the decision regions are drawn "
               f"under the data in {plane_name}"
               + ("" if acc is None else f"; {100 * acc:.1f}% of the points are classified "
                                         f"right") + ".")
    return Timeline("spiral", segs, meta={"trace": tr, "accuracy": acc, "caption": caption,
                                          "regions_stage": kp},
                    poster_segment=len(segs) - 1)


# -- bottleneck (MISSION.md 7) ---------------------------------------------------------------

BOTTLENECK = "2-100-2-5"


def _bottleneck_default() -> tuple[Any, Dataset]:
    model, data, _ = spiral_net(BOTTLENECK)
    return model, data


@scene("bottleneck", "a network's 2-unit stage (default: 2-100-2-5 on the spiral): the data "
       "carried into that plane, the regions the rest of the network gives it, and their "
       "boundaries (exact segments from the weights when the rest is affine)")
def bottleneck(model: Any = None, data: Any = None, *, stage: int | None = None,
               color_by: str = "class", show_linear_regions: bool = False) -> Timeline:
    m, d, default = subject(model, data, "bottleneck", _bottleneck_default, "spiral")
    tr = trace(m, d, grid=plane_grid(d, default), meta={"dataset": data_label(d)})
    last = len(tr.stages) - 1
    kb = pick_stage(tr, stage, "bottleneck", lambda k: tr.stages[k].dim == 2 and k < last,
                    "a 2-unit hidden stage", candidates=layer_inputs(tr))
    acc = tr.accuracy()
    story = Story(tr, StoryOptions(color_by=color_by, stage_seconds=1.4, hold_seconds=1.5,
                                   heading=heading(tr, d, f"the plane of stage {kb}"),
                                   show_linear_regions=show_linear_regions,
                                   scene="bottleneck"))
    view = story.views[kb]
    shown = panel_view(view, SPACE_RECT)      # what the panel shows of the bottleneck plane
    cover = scale_extent(shown, 1.04)
    ny = 240
    nx = round(ny * (cover[1] - cover[0]) / (cover[3] - cover[2]))
    fader = ExactRegions(tr, cover, alpha=0.42, dim=0.6, start=kb)
    tail = affine_tail(tr, kb)
    name = tr.stages[kb].name
    n_cls = max(tr.stages[-1].dim, 2)
    layer_after = tr.ops[kb].layer
    rest = (f"layer {layer_after}" if tail is not None and tail.layers == 1
            else f"layers {layer_after}–{tr.ops[-1].layer}")
    bounds: list[Boundary] = []
    contours = np.zeros((0, 2, 2))
    if tail is not None:
        w, b = decision_affine(tr, tail)
        bounds = [s for s in boundary_segments(w, b, shown) if s.length > 1e-6]
        n_lines = len(bounds)
        regions_caption = (f"the data in this plane; {rest} colours it by the largest of "
                           f"its {n_cls} scores wₖ·h + bₖ" if tail.layers <= 1 else
                           f"the data in this plane; {rest} are affine here (no activation "
                           f"between them): one W·h + b colours it by the largest score")
        segs_word = f"{n_lines} straight segment{'s' if n_lines != 1 else ''}"
        if tr.stages[-1].dim == 1:
            lines_caption = (f"where the output is {threshold(tr):g}: w·h + b = 0, "
                             f"{segs_word} computed from the weights")
        else:
            lines_caption = (f"where the top two scores tie, (wₖ − wⱼ)·h + bₖ − bⱼ = 0: "
                             f"{segs_word}, computed from the weights")
        lines_sub = f"{segs_word} from the weights of {rest}"
    else:
        contours = region_contours(tr, kb, shown, nx, ny)
        regions_caption = (f"the data in this plane; {rest} (not affine) colour it by the "
                           f"network's decision at every point")
        lines_caption = (f"not affine after this plane: the boundaries are contours of the "
                         f"decision computed on a {nx}×{ny} raster")
        lines_sub = f"boundaries: contours of the computed regions ({nx}×{ny})"

    def in_plane(caption: str) -> Frame:
        f = story.frame(kb, 1.0, caption=caption)
        sp = _space_of(f)
        sp.title = f"the 2-D plane h  ({name})"
        for _, panel in f.panels[1:]:         # the diagram: the layer after the plane at work
            if isinstance(panel, Diagram):
                panel.highlight, panel.stage_kind = layer_after, "linear"
        return f

    def last_regions(a: float) -> Frame:
        f = in_plane(regions_caption)
        sp = _space_of(f)
        sp.regions = fader(smooth(a))
        sp.grid_alpha = 0.9 - 0.55 * smooth(a)
        return f

    def draw_lines(a: float) -> Frame:
        f = in_plane(lines_caption)
        sp = _space_of(f)
        sp.regions = fader(1.0)
        sp.grid_alpha = 0.35
        s = smooth(a)
        if bounds:
            starts = np.array([bd.start for bd in bounds])
            ends = np.array([bd.end for bd in bounds])
            mid, half = (starts + ends) / 2, (ends - starts) / 2 * s
            sp.lines.append(segments_line(mid - half, mid + half, "#ffffff", 2.6))
        elif len(contours):
            sp.lines.append(segments_line(contours[:, 0], contours[:, 1],
                                          (1, 1, 1, 0.9 * s), 2.0))
        sp.subtitle = lines_sub
        return f

    segs = story.segments()[:kb + 1]          # the input, then every stage up to the plane h
    segs.append(Segment("regions in the plane", 2.0, last_regions))
    segs.append(Segment("boundaries", 2.5, draw_lines))
    how = (f"{len(bounds)} straight segment{'s' if len(bounds) != 1 else ''} computed from "
           f"the weights" if tail is not None
           else "contours of the computed regions (the rest of the network is not affine)")
    caption = (f"A {net_label(tr)} network carries {data_label(d)} into the 2-D plane of "
               f"stage {kb} ({name}); there the rest of the network splits the plane, and its "
               f"boundaries are {how}.")
    return Timeline("bottleneck", segs,
                    meta={"trace": tr, "accuracy": acc, "caption": caption,
                          "bottleneck_stage": kb, "boundaries": bounds, "contours": contours,
                          "affine_tail": tail, "view": shown},
                    poster_segment=len(segs) - 1)


def segments_line(starts: np.ndarray, ends: np.ndarray, color: Any, width: float) -> Line:
    """Straight segments (M, 2) → (M, 2) as one polyline broken by NaN rows: one artist to
    draw instead of M."""
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    xy = np.full((3 * len(starts), 2), np.nan)
    xy[0::3], xy[1::3] = starts, ends
    return Line(xy, color, width)


# -- extrapolation (MISSION.md 8) ------------------------------------------------------------

LEFT: Rect = (0.025, 0.1, 0.46, 0.78)
RIGHT: Rect = (0.515, 0.1, 0.46, 0.78)
SINGLE: Rect = (0.2, 0.1, 0.6, 0.78)
MAX_ZOOM = 16.0
DATA_BOX: Extent = (-1.25, 1.25, -1.25, 1.25)

# The two networks compared by default, as (arch, activation, zoo options). The sine network
# has a 2-unit sine layer first: sin(W₁·x + b₁) wraps each of its two coordinates around, so
# the whole network is exactly periodic, f(x + p) = f(x) for every p with W₁·p ∈ 2π·ℤ², and
# its learned lattice of periods shows when zooming out. (A plain 2-100-5 sine network sums
# 100 waves of unrelated frequencies: far out that is a fine quasi-periodic texture that reads
# as noise at ×16, not as repetition.) Seed 2 at lr 0.05 fits the spiral in ~150 epochs.
EXTRAPOLATORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("2-100-5", "relu", {}),
    ("2-2-100-5", "sin", {"seed": 2, "lr": 0.05}),
)
PIECEWISE_LINEAR = ("linear", "bias", "identity", "relu", "leaky_relu")


def _panel_edges(nets: list[Trace], extent: Extent, k: int) -> list[PieceEdges | None]:
    """The pieces of each network that is piecewise linear from stage ``k`` on (None for the
    others); none at all is the first network's one-line refusal."""
    out: list[PieceEdges | None] = []
    first: SceneError | None = None
    for tr in nets:
        try:
            out.append(PieceEdges(tr, extent, start=k, scene="extrapolation"))
        except SceneError as e:
            first = first or e
            out.append(None)
    if first is not None and all(e is None for e in out):
        raise first
    return out


def _extrapolation_default() -> list[Any]:
    return [spiral_net(arch, act, **kw)[0] for arch, act, kw in EXTRAPOLATORS]


def _data_box(x: np.ndarray) -> Extent:
    """A square around the points (N, 2) with a small margin: the dashed data square."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    c, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * 1.1 or 1.0
    return (float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half))


@scene("extrapolation", "one network, or two side by side (default: ReLU vs sine on the "
       "spiral), zooming out ×1 → ×16 past the data: how each decides far away (the period "
       "cell drawn when the network is exactly periodic)")
def extrapolation(model: Any = None, data: Any = None, *, stage: int | None = None,
                  color_by: str = "class", show_linear_regions: bool = False) -> Timeline:
    if model is None:
        if data is not None:
            raise SceneError("scene 'extrapolation': data= needs model= as well (the default "
                             "networks are the ones trained for this scene)")
        models, d, default = _extrapolation_default(), spiral_net("2-100-5")[1], True
    else:
        given = list(model) if isinstance(model, list | tuple) else [model]
        if not 1 <= len(given) <= 2:
            raise SceneError(f"extrapolation compares one or two models, got {len(given)}")
        models = [resolve_model(mm, "extrapolation") for mm in given]
        d = resolve_data(data, "extrapolation") if data is not None else \
            spiral_net("2-100-5")[1]
        default = False
    nets: list[Trace] = []
    for mm in models:
        tr = trace(mm, d, grid=GridSpec(extent=PLANE, regions=0) if default else
                   plane_grid(d, False, regions=0), meta={"dataset": data_label(d)})
        _needs_2d_input(tr, "extrapolation")
        nets.append(tr)
    k = pick_stage(nets[0], 0 if stage is None else stage, "extrapolation",
                   lambda i: nets[0].stages[i].dim == 2 and i < len(nets[0].stages) - 1,
                   "a 2-D stage to zoom out in")
    for other in nets[1:]:
        if not (k < len(other.stages) - 1 and other.stages[k].dim == 2):
            raise SceneError(f"extrapolation needs stage {k} to be 2-D in both models; model "
                             f"{arch_of(other)} has stages of width {stage_dims(other)}")
    rects = (LEFT, RIGHT) if len(nets) == 2 else (SINGLE,)
    pts = [tr.display(k) for tr in nets]
    box_e = DATA_BOX if default and k == 0 else _data_box(np.concatenate(pts))
    base = panel_view(box_e, rects[0])
    maps = [ZoomMaps(tr, scale_extent(base, 1.03), MAX_ZOOM, res=160, start=k) for tr in nets]
    edges = _panel_edges(nets, scale_extent(base, MAX_ZOOM * 1.03), k) if show_linear_regions \
        else [None] * len(nets)
    colors = nets[0].colors(color_by)
    x0, x1, y0, y1 = box_e
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    periods = [period_vectors(tr) if k == 0 else None for tr in nets]
    cells: list[np.ndarray | None] = []
    for p in periods:
        if p is None:
            cells.append(None)
            continue
        c = (box[0] + box[2]) / 2
        cells.append(np.array([[0.0, 0.0], p[0], p[0] + p[1], p[1], [0.0, 0.0]])
                     - (p[0] + p[1]) / 2 + c)
    acc = [tr.accuracy() for tr in nets]
    labels = [net_label(tr) for tr in nets]
    plane = "the input plane" if k == 0 else f"the plane of stage {k}"
    named = "  vs  ".join(labels)
    heading_ = "  ·  ".join([data_label(d), named if len(named) <= 60 else
                             f"{len(nets)} networks", "zooming out" if k == 0 else
                             f"zooming out in the plane of stage {k}"])

    def verdict_of(tr: Trace, p: np.ndarray | None) -> tuple[str, str]:
        """(short, long) words for how ``tr`` decides far from the data."""
        ops = list(tr.ops[k:])
        while ops and ops[-1].kind in MONOTONE_HEADS:   # an output head keeps every decision
            ops.pop()
        kinds = {op.kind for op in ops}
        if p is not None:
            return ("its regions repeat (one period dashed)",
                    "its regions repeat on a lattice of periods set by its first layer")
        if kinds <= set(PIECEWISE_LINEAR):
            return ("straight rays", "it is piecewise linear: far out its boundaries are "
                                     "straight rays")
        squash = sorted(kinds & {"tanh", "sigmoid"})
        if squash and kinds <= set(PIECEWISE_LINEAR) | set(squash):
            return (f"{' and '.join(squash)} saturates along rays",
                    f"far out its {' and '.join(squash)} units saturate: the decision "
                    f"settles along rays")
        return ("regions from its activations on large inputs",
                "far out, its regions are what its activations make of large inputs")

    words = [verdict_of(tr, p) for tr, p in zip(nets, periods, strict=True)]
    verdicts = [long for _, long in words]

    def at(zoom: float, caption: str, cell_a: float = 0.0) -> Frame:
        view = scale_extent(base, zoom)
        panels: list[tuple[Rect, Panel]] = []
        for i, (zm, rect) in enumerate(zip(maps, rects, strict=True)):
            lines = [Line(box, (1, 1, 1, 0.5), 1.2, "--")]
            cell = cells[i]
            if cell is not None and cell_a > 0:
                lines.append(Line(cell, (1, 1, 1, 0.95 * cell_a), 2.4, "--"))
            a = acc[i]
            texts = [Text((0.025, 0.975), f"×{zoom:.1f}", size=24, va="top")]
            pe = edges[i]
            if pe is not None:
                lines.insert(0, pe.line(pe.display(k)))
                texts.append(pe.label((0.025, 0.05)))
            elif show_linear_regions:
                texts.append(Text((0.025, 0.05), "not piecewise linear: no linear pieces",
                                  13.0, (1.0, 1.0, 1.0, 0.75), va="top"))
            panels.append((rect, Space(
                view=view, points=pts[i], colors=colors, regions=zm.image(zoom), lines=lines,
                texts=texts,
                title=f"network {labels[i]}",
                subtitle="" if a is None else f"accuracy {100 * a:.1f}%",
                point_size=max(1.6, 3.5 / zoom ** 0.35))))
        return Frame(panels, heading=heading_, caption=caption)

    fits = ", ".join(f"{100 * a:.1f}%" for a in acc if a is not None)

    def hold(a: float) -> Frame:
        return at(1.0, f"the data (dashed square) in {plane}" +
                  (f": {fits} of the points classified right" if fits else ""))

    def zoom_out(u: float) -> Frame:
        # exponential zoom: log(zoom) moves steadily (eased only at both ends of the way)
        return at(MAX_ZOOM ** smooth(u), "zooming out past the data: the decision regions "
                                         "are recomputed for every view")

    verdict = ("  ·  ".join(f"{lab}: {short}" for lab, (short, _) in
                            zip(labels, words, strict=True))
               if len(nets) == 2 else verdicts[0])

    def final(a: float) -> Frame:
        return at(MAX_ZOOM, verdict, cell_a=smooth(a))

    # the zoom is one eased motion told as two segments, so the stills show ×4 and ×16
    segs = [Segment("×1: the data", 1.5, hold),
            Segment("zoom out to ×4", 4.0, lambda a: zoom_out(a / 2)),
            Segment("zoom out to ×16", 4.0, lambda a: zoom_out(0.5 + a / 2), key=False),
            Segment("×16", 2.5, final)]
    caption = (f"{' and '.join(labels)} on {data_label(d)}, zooming out ×1 → ×{MAX_ZOOM:.0f} "
               f"in {plane}: " + "; ".join(verdicts) + ".")
    return Timeline("extrapolation", segs,
                    meta={"trace": nets[0], "accuracy": acc[0], "accuracies": acc,
                          "caption": caption, "zoom_maps": maps, "traces": nets,
                          "periods": periods},
                    poster_segment=len(segs) - 1)
