"""``spiral`` (MISSION.md scene 5): a network's stages carrying its 2-D data (default: the zoo's
2-100-5 ReLU on the 5-class spiral), then the rest of the network's decision regions drawn
exactly under the data in the input plane or the plane of a 2-D stage."""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.render.frame import Frame
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import data_label, heading, net_label, pick_stage, subject
from spacefold.scenes.planes import (
    needs_2d_input,
    panel_view,
    plane_grid,
    scale_extent,
    space_of,
    spiral_default,
)
from spacefold.scenes.regionmaps import ExactRegions
from spacefold.scenes.registry import scene
from spacefold.scenes.story import SPACE_RECT, Story, StoryOptions, lerp_extent
from spacefold.trace import trace
from spacefold.trace.analysis import threshold


@scene("spiral", "a network's stages carrying its 2-D data (default: 2-100-5 ReLU on the "
       "5-class spiral), then the decision regions under the data")
def spiral(model: Any = None, data: Any = None, *, stage: int | None = None,
           color_by: str = "class", show_linear_regions: bool = False) -> Timeline:
    """The data appear, every stage carries them, the story rewinds to the plane of ``stage``
    (default: the input) and the decision regions of the rest of the network fill it."""
    m, d, default = subject(model, data, "spiral", spiral_default("2-100-5"), "spiral")
    tr = trace(m, d, grid=plane_grid(d, default), meta={"dataset": data_label(d)})
    needs_2d_input(tr, "spiral")
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
        sp = space_of(f)
        n = max(1, round(smooth(a) * tr.n))
        sp.points, sp.colors = pts0[order[:n]], colors[order[:n]]
        return f

    def rewind(a: float) -> Frame:
        s = smooth(a)
        f = story.frame(kp, 1.0, caption=f"back to {plane_name}, where every point gets the "
                                         f"network's decision")
        sp = space_of(f)
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
        sp = space_of(f)
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
