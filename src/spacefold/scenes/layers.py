"""``layers``: any model's stages as a space video, and ``fold-222`` (MISSION.md scene 3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.errors import SpacefoldError
from spacefold.render.frame import Line
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.inputs import (
    SceneError,
    arch_of,
    data_label,
    heading,
    net_label,
    subject,
)
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
    bits = [f"network {net_label(tr)}"]       # its architecture and activations
    if "dataset" in tr.meta:
        bits.append(f"on {tr.meta['dataset']}")
    if acc is not None:
        bits.append(f"accuracy {100 * acc:.1f}%")
    return "  ·  ".join(bits)


@scene("fold-222", "a 2-2-2 network (default: one trained on the cloud wedge): W·x, +b, ReLU "
       "folds the plane onto the axes, W·x+b, sigmoid squashes into the unit square, then a "
       "straight line separates")
def fold_222(model: Any = None, data: Any = None, *, color_by: str = "class",
             seed: int | None = None, stage_seconds: float = 2.0, hold_seconds: float = 1.0,
             narrate: bool = True, show_math: bool = False,
             show_linear_regions: bool = False) -> Timeline:
    """MISSION.md scene 3: every stage of a network whose layers are all 2 units wide, then
    the straight line where its two outputs are equal. Default: a *trained* 2-2-2 ReLU net
    with a sigmoid head (``seed`` picks its training, see
    :func:`~spacefold.scenes.zoo.fold_222_net`); ``model`` (and ``data``, default the cloud
    wedge) tell it about the user's network."""
    if model is not None and seed is not None:
        raise SceneError("fold-222: seed= picks the training of the built-in 2-2-2 network; "
                         "with model= it would change nothing")
    m, d, default = subject(model, data, "fold-222", lambda: _zoo_222(seed), "cloud")
    if default:
        tr = trace(m, d, grid=GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=21, verts=200),
                   meta={"arch": "2-2-2", "dataset": "cloud"})
        title = _heading(tr)
    else:
        tr = trace(m, d, meta={"dataset": data_label(d)})
        wide = [st.dim for st in tr.stages if st.dim != 2]
        if wide:
            raise SceneError(f"fold-222 needs a network whose every layer is 2 units wide "
                             f"(2-2-2); model {arch_of(tr)} has a {wide[0]}-D stage (layers "
                             f"draws any network, fold-232 one with a 3-unit layer)")
        title = heading(tr, d)
    last = len(tr.stages) - 1
    story = Story(tr, StoryOptions(color_by=color_by, heading=title,
                                   stage_seconds=stage_seconds, hold_seconds=hold_seconds,
                                   narrate=narrate, show_math=show_math,
                                   show_linear_regions=show_linear_regions,
                                   scene="fold-222"))
    segs = story.segments()
    acc = tr.accuracy()

    def with_line(a: float) -> Any:
        # The decision is argmax of the two outputs: the boundary is the line z0 = z1.
        f = story.frame(last, 1.0, caption=_line_caption(acc))
        space = f.panels[0][1]
        x0, x1, y0, y1 = space.view  # type: ignore[union-attr]
        lo, hi = max(x0, y0), min(x1, y1)
        if hi > lo:                   # the diagonal crosses the view
            end = lo + (hi - lo) * a
            space.lines = space.lines + [  # type: ignore[union-attr]
                Line(np.array([[lo, lo], [end, end]]), "#ffffff", 3.0)]
        return f

    segs.append(Segment("separating line", 1.5, with_line))
    return Timeline("fold-222", segs, meta={"trace": tr, "accuracy": acc})


def _zoo_222(seed: int | None) -> tuple[Any, Dataset]:
    model, data, _ = fold_222_net(2 if seed is None else seed)
    return model, data


def _line_caption(acc: float | None) -> str:
    """What the last frame's line does: it separates the classes only if every point is on
    its class's side."""
    if acc is None or acc >= 1.0:
        return "now one straight line separates the classes: output 1 = output 2"
    return (f"one straight line decides, output 1 = output 2: {100 * acc:.1f}% of the points "
            f"lie on their class's side")
