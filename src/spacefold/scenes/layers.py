"""``layers``: any model's stages as a space video, and ``fold-222`` (MISSION.md scene 3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import SpacefoldError
from spacefold.render.frame import Line
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.registry import scene
from spacefold.scenes.story import Story, StoryOptions
from spacefold.scenes.zoo import fold_222_net
from spacefold.trace import GridSpec, Trace, trace


def timeline_of(tr: Trace, name: str = "layers", heading: str = "",
                color_by: str = "class", **opts: Any) -> Timeline:
    """The generic story of a trace: hold the input, then every stage in turn."""
    story = Story(tr, StoryOptions(color_by=color_by, heading=heading, **opts))
    segs = story.segments()
    acc = tr.accuracy()
    return Timeline(name, segs, meta={"trace": tr, "accuracy": acc})


@scene("layers", "any model's stages (W·x, +b, activation) carrying points and grid; "
       "--model FILE --data NAME", needs_model=True)
def layers(model: Any = None, data: Dataset | None = None, *, trace_: Trace | None = None,
           color_by: str = "class", stage_seconds: float = 2.0, hold_seconds: float = 1.0,
           point_size: float = 4.0, diagram: bool = True, show_regions: bool = True,
           narrate: bool = True, show_math: bool = False,
           show_linear_regions: bool = False) -> Timeline:
    """The generic story of ``model`` (an nn.Module, a Network or a weights file) on ``data``
    (a Dataset, a dataset name or ``(x, y)``), or of a ready ``trace_``."""
    if trace_ is None:
        if model is None or data is None:
            raise SpacefoldError("scene 'layers' needs a model and data "
                                 "(--model FILE --data NAME)")
        from spacefold.scenes.inputs import resolve_data, resolve_model

        trace_ = trace(resolve_model(model, "layers"), resolve_data(data, "layers"))
    return timeline_of(trace_, "layers", heading=_heading(trace_), color_by=color_by,
                       stage_seconds=stage_seconds, hold_seconds=hold_seconds,
                       point_size=point_size, diagram=diagram, show_regions=show_regions,
                       narrate=narrate, show_math=show_math,
                       show_linear_regions=show_linear_regions, scene="layers")


def _heading(tr: Trace) -> str:
    acc = tr.accuracy()
    bits = [f"network {tr.meta.get('arch', '')}"]
    if "dataset" in tr.meta:
        bits.append(f"on {tr.meta['dataset']}")
    if acc is not None:
        bits.append(f"accuracy {100 * acc:.1f}%")
    return "  ·  ".join(bits)


@scene("fold-222", "2-2-2 network: W·x, +b, ReLU folds the plane onto the axes, "
       "W·x+b, sigmoid squashes into the unit square, then a straight line separates")
def fold_222(color_by: str = "class", seed: int = 2, stage_seconds: float = 2.0,
             hold_seconds: float = 1.0, narrate: bool = True,
             show_math: bool = False, show_linear_regions: bool = False) -> Timeline:
    """MISSION.md scene 3 with a *trained* network (seeded; see
    :func:`~spacefold.scenes.zoo.fold_222_net`)."""
    model, data, acc = fold_222_net(seed)
    tr = trace(model, data, grid=GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=21, verts=200),
               meta={"arch": "2-2-2", "dataset": "cloud"})
    last = len(tr.stages) - 1
    story = Story(tr, StoryOptions(color_by=color_by, heading=_heading(tr),
                                   stage_seconds=stage_seconds, hold_seconds=hold_seconds,
                                   narrate=narrate, show_math=show_math,
                                   show_linear_regions=show_linear_regions,
                                   scene="fold-222"))
    segs = story.segments()

    def with_line(a: float) -> Any:
        # The decision is argmax of the two outputs: the boundary is the line z0 = z1.
        f = story.frame(last, 1.0, caption="now one straight line separates the classes: "
                                            "output 1 = output 2")
        space = f.panels[0][1]
        x0, x1, y0, y1 = space.view  # type: ignore[union-attr]
        lo, hi = max(x0, y0), min(x1, y1)
        end = lo + (hi - lo) * a
        space.lines = space.lines + [  # type: ignore[union-attr]
            Line(np.array([[lo, lo], [end, end]]), "#ffffff", 3.0)]
        return f

    segs.append(Segment("separating line", 1.5, with_line))
    return Timeline("fold-222", segs, meta={"trace": tr, "accuracy": acc})
