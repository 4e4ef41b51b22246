"""``bottleneck`` (MISSION.md scene 7): a network's 2-unit stage (default: the zoo's 2-100-2-5 on
the spiral). The data are carried into that plane, the rest of the network colours it with
exact regions, and its boundaries are straight segments from the weights when that rest is
affine (else contours of the computed regions, and the caption says so)."""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.render.frame import Diagram, Frame
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import (
    data_label,
    heading,
    layer_inputs,
    net_label,
    pick_stage,
    subject,
)
from spacefold.scenes.planes import (
    panel_view,
    plane_grid,
    scale_extent,
    segments_line,
    space_of,
    spiral_default,
)
from spacefold.scenes.regionmaps import ExactRegions
from spacefold.scenes.registry import scene
from spacefold.scenes.story import SPACE_RECT, Story, StoryOptions
from spacefold.trace import trace
from spacefold.trace.analysis import (
    Boundary,
    affine_tail,
    boundary_segments,
    decision_affine,
    region_contours,
    threshold,
)

BOTTLENECK = "2-100-2-5"


@scene("bottleneck", "a network's 2-unit stage (default: 2-100-2-5 on the spiral): the data "
       "carried into that plane, the regions the rest of the network gives it, and their "
       "boundaries (exact segments from the weights when the rest is affine)")
def bottleneck(model: Any = None, data: Any = None, *, stage: int | None = None,
               color_by: str = "class", show_linear_regions: bool = False) -> Timeline:
    m, d, default = subject(model, data, "bottleneck", spiral_default(BOTTLENECK), "spiral")
    tr = trace(m, d, grid=plane_grid(d, default), meta={"dataset": data_label(d)})
    last = len(tr.stages) - 1
    kb = pick_stage(tr, stage, "bottleneck", lambda k: tr.stages[k].dim == 2 and 0 < k < last,
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
    n_out = tr.stages[-1].dim
    n_cls = max(n_out, 2)
    layer_after = tr.ops[kb].layer
    last_layer = tr.ops[-1].layer
    rest = (f"layer {layer_after}" if (tail is not None and tail.layers == 1)
            or layer_after == last_layer else f"layers {layer_after}–{last_layer}")
    plural = rest.startswith("layers")
    bounds: list[Boundary] = []
    contours = np.zeros((0, 2, 2))
    if tail is not None:
        w, b = decision_affine(tr, tail)
        bounds = [s for s in boundary_segments(w, b, shown) if s.length > 1e-6]
        n_lines = len(bounds)
        by = (f"which side of {threshold(tr):g} its one output falls" if n_out == 1 else
              "the largest score")
        regions_caption = (f"the data in this plane; {rest} colours it by the largest of "
                           f"its {n_cls} scores wₖ·h + bₖ" if tail.layers <= 1 and n_out > 1
                           else f"the data in this plane; {rest} colours it by {by}"
                           if tail.layers <= 1 else
                           f"the data in this plane; {rest} are affine here (no activation "
                           f"between them): one W·h + b colours it by {by}")
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
        regions_caption = (f"the data in this plane; {rest} (not affine) "
                           f"colour{'' if plural else 's'} it by the network's decision at "
                           f"every point")
        lines_caption = (f"not affine after this plane: the boundaries are contours of the "
                         f"decision computed on a {nx}×{ny} raster")
        lines_sub = f"boundaries: contours of the computed regions ({nx}×{ny})"

    def in_plane(caption: str) -> Frame:
        f = story.frame(kb, 1.0, caption=caption)
        sp = space_of(f)
        sp.title = f"the 2-D plane h  ({name})"
        for _, panel in f.panels[1:]:         # the diagram: the layer after the plane at work
            if isinstance(panel, Diagram):
                panel.highlight, panel.stage_kind = layer_after, "linear"
        return f

    def last_regions(a: float) -> Frame:
        f = in_plane(regions_caption)
        sp = space_of(f)
        sp.regions = fader(smooth(a))
        sp.grid_alpha = 0.9 - 0.55 * smooth(a)
        return f

    def draw_lines(a: float) -> Frame:
        f = in_plane(lines_caption)
        sp = space_of(f)
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
