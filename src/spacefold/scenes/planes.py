"""What the plane stories share (``spiral``, ``bottleneck``, ``extrapolation``, ``digits``,
``training``): the input square of the zoo's spiral, views fitted to panels, the grid of a
user's plane, and straight segments as one polyline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.render.frame import Extent, Frame, Line, Rect, Space
from spacefold.scenes.inputs import SceneError, arch_of
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import GridSpec, Trace
from spacefold.trace.geometry import auto_extent

# The input plane every spiral scene starts from: a square wide enough that the regions and the
# grid cover the space panel (the panel is wider than tall, the data spans about ±1).
PLANE: Extent = (-1.6, 1.6, -1.6, 1.6)
FRAME_ASPECT = 16 / 9            # the tour's frames; views are fitted to panels at this aspect


def spiral_default(arch: str, activation: str = "relu") -> Callable[[], tuple[Any, Dataset]]:
    """The zoo's ``arch`` network on the 5-class spiral and that data, as a scene's default."""
    def default() -> tuple[Any, Dataset]:
        model, data, _ = spiral_net(arch, activation)
        return model, data
    return default


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


def scale_extent(e: Extent, s: float) -> Extent:
    cx, cy = (e[0] + e[1]) / 2, (e[2] + e[3]) / 2
    hx, hy = (e[1] - e[0]) / 2 * s, (e[3] - e[2]) / 2 * s
    return (cx - hx, cx + hx, cy - hy, cy + hy)


def plane_grid(d: Dataset, default: bool, regions: int = 360) -> GridSpec | bool:
    """The grid of the input plane: the zoo's fixed square, or one around the user's data
    (as wide, relative to the data, as :data:`PLANE` is to the spiral); none unless 2-D."""
    if default:
        return GridSpec(extent=PLANE, lines=17, verts=160, regions=regions)
    if d.dim != 2:
        return False
    return GridSpec(extent=auto_extent(d.x.astype(np.float64), margin=0.6), lines=17,
                    verts=160, regions=regions)


def space_of(f: Frame) -> Space:
    sp = f.panels[0][1]
    assert isinstance(sp, Space)
    return sp


def needs_2d_input(tr: Trace, scene: str) -> None:
    if tr.stages[0].dim != 2:
        raise SceneError(f"{scene} needs a 2-D input (it draws the input plane); model "
                         f"{arch_of(tr)} takes {tr.stages[0].dim}-D input")



def segments_line(starts: np.ndarray, ends: np.ndarray, color: Any, width: float) -> Line:
    """Straight segments (M, 2) → (M, 2) as one polyline broken by NaN rows: one artist to
    draw instead of M."""
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    xy = np.full((3 * len(starts), 2), np.nan)
    xy[0::3], xy[1::3] = starts, ends
    return Line(xy, color, width)
