"""``extrapolation`` (MISSION.md scene 8): one network, or two side by side (default: the zoo's
ReLU and sine networks on the spiral), zooming out ×1 → ×16 past the data. Each view's
regions are exact at the panel's pixels; a ReLU network's boundaries run off in straight rays,
an exactly periodic network repeats its regions (one period cell drawn)."""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.render.frame import Extent, Frame, Line, Panel, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import (
    SceneError,
    arch_of,
    data_label,
    net_label,
    pick_stage,
    resolve_data,
    resolve_model,
    stage_dims,
)
from spacefold.scenes.piece_edges import PieceEdges
from spacefold.scenes.planes import PLANE, needs_2d_input, panel_view, plane_grid, scale_extent
from spacefold.scenes.registry import scene
from spacefold.scenes.zoo import spiral_net
from spacefold.scenes.zoom_maps import ZoomMaps
from spacefold.trace import GridSpec, Trace, trace
from spacefold.trace.analysis import MONOTONE_HEADS, period_vectors

LEFT: Rect = (0.025, 0.1, 0.46, 0.78)
RIGHT: Rect = (0.515, 0.1, 0.46, 0.78)
SINGLE: Rect = (0.2, 0.1, 0.6, 0.78)
ZOOM_OUT = 16.0               # the zoom the story ends at: the view is ×16 the data's box
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
        needs_2d_input(tr, "extrapolation")
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
    maps = [ZoomMaps(tr, scale_extent(base, 1.03), ZOOM_OUT, res=160, start=k) for tr in nets]
    edges = _panel_edges(nets, scale_extent(base, ZOOM_OUT * 1.03), k) if show_linear_regions \
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
                view=view, points=pts[i], colors=colors, classes=nets[0].labels,
                regions=zm.image(zoom), lines=lines,
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
        return at(ZOOM_OUT ** smooth(u), "zooming out past the data: the decision regions "
                                         "are recomputed for every view")

    verdict = ("  ·  ".join(f"{lab}: {short}" for lab, (short, _) in
                            zip(labels, words, strict=True))
               if len(nets) == 2 else verdicts[0])

    def final(a: float) -> Frame:
        return at(ZOOM_OUT, verdict, cell_a=smooth(a))

    # the zoom is one eased motion told as two segments, so the stills show ×4 and ×16
    segs = [Segment("×1: the data", 1.5, hold),
            Segment("zoom out to ×4", 4.0, lambda a: zoom_out(a / 2)),
            Segment("zoom out to ×16", 4.0, lambda a: zoom_out(0.5 + a / 2), key=False),
            Segment("×16", 2.5, final)]
    caption = (f"{' and '.join(labels)} on {data_label(d)}, zooming out ×1 → ×{ZOOM_OUT:.0f} "
               f"in {plane}: " + "; ".join(verdicts) + ".")
    return Timeline("extrapolation", segs,
                    meta={"trace": nets[0], "accuracy": acc[0], "accuracies": acc,
                          "caption": caption, "zoom_maps": maps, "traces": nets,
                          "periods": periods},
                    poster_segment=len(segs) - 1)
