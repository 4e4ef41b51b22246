"""The linear regions of a piecewise-linear network, layer by layer (issue 11).

A ReLU network is one affine map on each of the convex pieces it cuts its input plane into.
Layer 1's units cut the plane along straight lines; each later layer's units cut every piece
again, along lines that bend where the earlier layers' creases are. At the end, the decision
boundary is made of straight segments: inside every piece the top two scores tie along a line.
Every polygon, line and count here is exact (:mod:`spacefold.trace.pieces`, float64).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from spacefold.colors import color_of
from spacefold.errors import TraceError
from spacefold.render.frame import Frame, Line, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import SceneError, data_label, heading, net_label, subject
from spacefold.scenes.planes import segments_line
from spacefold.scenes.regionmaps import ExactRegions, PatternRegions
from spacefold.scenes.registry import scene
from spacefold.scenes.story import DIAGRAM_RECT, SPACE_RECT, diagram_of, stage_view
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import GridSpec, trace
from spacefold.trace.analysis import threshold
from spacefold.trace.pieces import LayerPieces, decision_boundaries, pieces_by_layer

DEFAULT_ARCH = "2-100-2-5"
CUT_COLORS = ["#9fb4ff", "#ffd37a", "#ff9fb0", "#9ff0c0"]


def _default() -> tuple[Any, Any]:
    model, data, _ = spiral_net(DEFAULT_ARCH)
    return model, data


def _lines(segs: np.ndarray, color: Any, width: float) -> Line:
    """(S, 2, 2) segments as one polyline broken by NaN rows."""
    return segments_line(segs[:, 0], segs[:, 1], color, width)


def _count(n: int, word: str = "piece") -> str:
    """"1 piece", "1 234 pieces"."""
    return f"{n:,}".replace(",", " ") + f" {word}" + ("" if n == 1 else "s")


@scene("linear-regions", "a piecewise-linear network's exact linear regions, layer by layer "
       "(default: 2-100-2-5 ReLU on the spiral): straight cuts, then bent cuts, the count per "
       "layer, and a decision boundary of straight segments")
def linear_regions(model: Any = None, data: Any = None, *, color_by: str = "class") -> Timeline:
    m, d, default = subject(model, data, "linear-regions", _default, "spiral")
    tr = trace(m, d, grid=GridSpec(lines=11, verts=40, regions=0),
               meta={"dataset": data_label(d)})
    if tr.stages[0].dim != 2 or tr.extent is None:
        raise SceneError(f"linear-regions needs a 2-D input (it draws the input plane); this "
                         f"network takes {tr.stages[0].dim}-D input")
    extent = tr.extent
    try:
        steps: list[LayerPieces] = list(pieces_by_layer(tr, extent))
        bounds = decision_boundaries(tr, extent)
    except TraceError as e:
        raise SceneError(f"linear-regions: {e}") from None
    layers = steps[:-1]                       # one per layer with a piecewise-linear activation
    final = steps[-1]
    colors = tr.colors(color_by)
    pts = tr.display(0)
    grid = tr.display_grid(0)
    view = stage_view(np.concatenate([pts, np.array([[extent[0], extent[2]],
                                                     [extent[1], extent[3]]])]), margin=0.04)
    fills = [PatternRegions(tr, layers=st.layer, extent=extent) for st in layers]
    widths = {op.layer: op.d_out for op in tr.ops if op.kind == "linear"}
    decision = ExactRegions(tr, extent, alpha=0.5, dim=0.6)
    heading_ = heading(tr, d, "its linear regions")
    counts = [f"layer {st.layer}: {_count(len(st.pieces))}" for st in layers]
    box = np.array([[extent[0], extent[2]], [extent[1], extent[2]], [extent[1], extent[3]],
                    [extent[0], extent[3]], [extent[0], extent[2]]])

    def panel(lines: list[Line], regions: Any, shown: int, title: str, sub: str,
              point_alpha: float = 1.0) -> Space:
        c = np.concatenate([colors[:, :3], np.full((len(colors), 1), point_alpha)], axis=1)
        return Space(view=view, points=pts, colors=c, classes=tr.labels, grid=grid, regions=regions,
                     lines=[Line(box, (1, 1, 1, 0.35), 1.0, "--")] + lines,
                     texts=[Text((0.02, 0.975), "   ·   ".join(counts[:shown]), size=15)],
                     title=title, subtitle=sub, point_size=2.6, grid_alpha=0.25)

    def frame(sp: Space, layer: int, kind: str, caption: str) -> Frame:
        return Frame([(SPACE_RECT, sp), (DIAGRAM_RECT, diagram_of(tr, layer, kind))],
                     heading=heading_, caption=caption)

    def earlier(i: int, alpha: float = 0.45) -> list[Line]:
        """The cuts of the layers before layer index i, thin."""
        return [_lines(layers[j].cuts, color_of(CUT_COLORS[j % len(CUT_COLORS)], alpha), 1.0)
                for j in range(i)]

    def plane(a: float) -> Frame:
        sp = panel([], None, 0, "the input plane", f"{net_label(tr)}: piecewise linear")
        return frame(sp, 0, "input", f"{tr.n} points of {data_label(d)}; the network is one "
                                     f"affine map on each of the pieces it cuts this plane into")

    def cutting(i: int, a: float) -> Frame:
        st = layers[i]
        s = smooth(a)
        n_units = widths[st.layer]
        crossing = len(np.unique(st.units))
        shown_units = int(np.ceil(s * n_units))
        sel = st.units < shown_units
        col = color_of(CUT_COLORS[i % len(CUT_COLORS)])[:3]
        lines = earlier(i) + [_lines(st.cuts[sel], (*col, 0.9), 1.4 if i == 0 else 2.0)]
        fill = fills[i](max(0.0, (s - 0.6) / 0.4)) if s > 0.6 else (
            fills[i - 1]() if i > 0 else None)
        if i == 0:
            sub = f"{_count(n_units, 'unit')}: {crossing} of their lines cross this square"
            cap = (f"layer 1: each of its {n_units} units is 0 along a straight line; "
                   f"together they cut the square into {_count(len(st.pieces))}"
                   if n_units > 1 else f"layer 1: its one unit is 0 along a straight line, "
                   f"which cuts the square into {_count(len(st.pieces))}")
        else:
            sub = f"{_count(n_units, 'unit')}, lines bent at layer {layers[i - 1].layer}'s creases"
            its = (f"its {n_units} units cut again every piece their lines cross" if n_units > 1
                   else "its one unit cuts again every piece its line crosses")
            cap = (f"layer {st.layer}: {its}, bending where the earlier cuts are: "
                   f"{_count(len(st.pieces))}")
        sp = panel(lines, fill, i + 1 if s > 0.6 else i, f"layer {st.layer} cuts", sub,
                   point_alpha=0.35)
        return frame(sp, st.layer, "relu", cap)

    def boundary(a: float) -> Frame:
        s = smooth(a)
        n = len(bounds)
        shown = bounds[: int(np.ceil(s * n))]
        lines = earlier(len(layers), 0.25) + [_lines(shown, "#ffffff", 2.2)]
        sp = panel(lines, decision(s) if s > 0 else fills[-1]() if fills else None,
                   len(layers), "the decision boundary",
                   f"{_count(n, 'straight segment')}, from the pieces' affine maps",
                   point_alpha=0.8)
        return frame(sp, final.layer, "linear",
                     f"inside every piece {tie} along a straight line: the decision boundary "
                     f"is {_count(n, 'straight segment')}")

    tie = ("the top two scores tie" if tr.stages[-1].dim > 1 else
           f"the output passes {threshold(tr):g}")
    segs = [Segment("the input plane", 1.5, plane)]
    for i, st in enumerate(layers):
        segs.append(Segment(f"layer {st.layer} cuts", 3.0 if i == 0 else 3.5,
                            partial(cutting, i)))
    segs.append(Segment("decision boundary", 3.0, boundary))
    caption = (f"The linear regions of a {net_label(tr)} network on {data_label(d)}: "
               + "; ".join(counts) + f"; its decision boundary is "
               f"{_count(len(bounds), 'straight segment')}.")
    return Timeline("linear-regions", segs,
                    meta={"trace": tr, "caption": caption, "layers": layers,
                          "pieces": final.pieces, "boundaries": bounds,
                          "accuracy": tr.accuracy(), "default": default},
                    poster_segment=len(segs) - 1)
