"""Shared builders: turn a Trace into space-view segments (points + grid + diagram).

Scenes compose these; nothing here draws — it only fills :mod:`spacefold.render.frame`
dataclasses with the trace's numbers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from spacefold.colors import palette, theme
from spacefold.model.activations import ACTIVATIONS as TABLE
from spacefold.render.diagram import NODES_SHOWN
from spacefold.render.frame import (
    Diagram,
    Extent,
    Frame,
    Image,
    Line,
    Plot,
    Rect,
    RegionLayer,
    Space,
    Text,
)
from spacefold.render.timeline import Segment, smooth
from spacefold.scenes.inputs import SceneError
from spacefold.scenes.piece_edges import PieceEdges
from spacefold.scenes.regionmaps import ExactRegions
from spacefold.trace import Trace
from spacefold.trace.graph import column_weights, diagram_links

# What each kind of stage does, said plainly (the narration of the videos); activations
# read theirs from the one table.
NARRATION = {
    "input": "the input plane: every point is a data sample, the grid shows the space itself",
    "linear": "W·x: a matrix rotates, scales and shears the space; straight lines stay straight",
    "bias": "+b: the whole plane shifts",
    "affine": "a per-unit scale and shift: every axis is stretched and the plane moves",
    "normalise": "each point is centred and scaled onto the sphere of radius √d",
    "add": "+ skip: the earlier stage is added back, points slide from f(x) to x + f(x)",
    "concat": "concatenation: the branches' coordinates are put side by side",
    **{a.name: a.narration for a in TABLE.values()},
}

def named_source(source: str, kind: str) -> bool:
    """Is ``source`` a module name worth showing ("blocks.0.fc"), not a plain Sequential index
    ("2") or a graph node of a sum / concatenation ("add_1")?"""
    return kind not in ("input", "add", "concat") and any(c.isalpha() for c in source)


def narration(trace: Trace, k: int) -> str:
    """What stage k does, said plainly; a sum and a concatenation name the stages they read."""
    st = trace.stages[k]
    others = [p for p in st.parents if p != st.base]
    if st.kind == "add" and others:
        names = ", ".join(f"stage {p}" if trace.stages[p].kind == "add"
                          else f"stage {p} ({trace.stages[p].short})" for p in others)
        return (f"+ skip: {names} is added back, so the points slide from f(x) (stage "
                f"{st.base}) to x + f(x)")
    if st.kind == "concat":
        return (f"concatenation: stages {', '.join(map(str, st.parents))} side by side, "
                f"{' + '.join(str(trace.stages[p].dim) for p in st.parents)} = {st.dim} units")
    if st.kind == "linear":
        return _linear_narration(trace.ops[k - 1].d_in, st.dim)   # ops[k - 1] makes stage k
    if st.kind == "bias" and st.dim != 2:
        return "+b: every number shifts by the same amount" if st.dim == 1 else \
            "+b: the whole space shifts"
    if st.kind == "affine" and st.short.startswith("BatchNorm"):
        return ("BatchNorm (eval): each unit is scaled and shifted by its running statistics; "
                "every axis is stretched on its own")
    if st.kind == "normalise" and st.short == "RMSNorm":
        return "RMSNorm scales each point onto the sphere of radius √d (no centring)"
    return NARRATION.get(st.kind, "")


def _linear_narration(d_in: int, d_out: int) -> str:
    """What W·x does with its shape: a square matrix rotates, scales and shears; a tall one
    lifts the space into more dimensions, a wide one flattens it."""
    if d_out == d_in:
        return NARRATION["linear"]
    if d_out == 1:
        return (f"W·x: a 1×{d_in} matrix turns every point into one number, a weighted sum of "
                f"its coordinates")
    if d_out > d_in:
        return (f"W·x: a {d_out}×{d_in} matrix lifts the {d_in}-D space into {d_out}-D, where "
                f"it stays a flat {d_in}-D sheet; straight lines stay straight")
    return (f"W·x: a {d_out}×{d_in} matrix flattens the {d_in}-D space onto {d_out}-D; "
            f"straight lines stay straight")


SPACE_RECT: Rect = (0.03, 0.09, 0.60, 0.80)
REGION_FADE = 0.25     # the input's decision regions fade out over this part of stage 1
DIAGRAM_RECT: Rect = (0.66, 0.13, 0.32, 0.70)
# with the stage's equation on screen (--show math): the numbers above a shorter diagram
MATH_RECT: Rect = (0.66, 0.60, 0.32, 0.26)
MATH_DIAGRAM_RECT: Rect = (0.66, 0.09, 0.32, 0.46)
MATH_MAX = 3            # matrices up to 3×3 and vectors up to 3 numbers are written out
MONO = "monospace"


def _num(v: float) -> str:
    return f"{v:6.2f}"


def stage_math(trace: Trace, k: int) -> list[Text]:
    """Stage k's equation with its numbers, as texts of a panel (fractions 0..1): ``W·x``
    with the matrix (up to 3×3), ``+ b`` with the vector, an activation with its formula
    from the one table and its parameters. Empty for the input and for other stages."""
    if k == 0:
        return []
    op = trace.ops[k - 1]
    head: str
    body: str = ""
    note: str = ""
    if op.kind == "linear":
        w = np.asarray(op.params["W"], dtype=np.float64)
        head = "x ↦ W·x"
        if max(w.shape) <= MATH_MAX:
            rows = ["[" + " ".join(_num(v) for v in row) + " ]" for row in w]
            body = "\n".join(("W = " if i == 0 else "    ") + r for i, r in enumerate(rows))
        else:
            note = f"W is {w.shape[0]}×{w.shape[1]}: written out up to {MATH_MAX}×{MATH_MAX}"
    elif op.kind == "bias":
        b = np.asarray(op.params["b"], dtype=np.float64).ravel()
        head = "x ↦ x + b"
        if len(b) <= MATH_MAX:
            body = "b = (" + ",".join(_num(v) for v in b) + " )"
        else:
            note = f"b has {len(b)} numbers: written out up to {MATH_MAX}"
    elif op.kind in TABLE:
        act = TABLE[op.kind]
        head = act.formula
        scalars = [f"{name} = {float(v):g}" for name, v in op.params.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        note = ("  ·  ".join(scalars) + "  ·  " if scalars else "") + "each coordinate on its own"
    else:
        return []
    out = [Text((0.02, 0.96), head, 17.0)]
    if body:
        out.append(Text((0.02, 0.70), body, 15.0, family=MONO))
    if note:
        out.append(Text((0.02, 0.70 if not body else 0.20), note, 14.0, (1, 1, 1, 0.8)))
    return out


def regions_image(labels: np.ndarray, extent: Extent, alpha: float = 0.33,
                  dim: float = 0.55) -> Image:
    """Class map (R, R) → a translucent RGBA image in the class colours."""
    pal = theme().region(palette(), dim)
    rgb = pal[labels % len(pal)]
    a = np.full(labels.shape + (1,), alpha)
    return Image((np.concatenate([rgb, a], axis=-1) * 255).astype(np.uint8), extent)


def stage_view(points: np.ndarray, include: list[tuple[float, float]] | None = None,
               margin: float = 0.12) -> Extent:
    """A view around the points (N, 2) and the origin (folds are seen against the axes)."""
    p = points[np.isfinite(points).all(axis=1)]
    extra = np.array([(0.0, 0.0)] + list(include or []))
    allp = np.concatenate([p, extra]) if len(p) else extra
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    span = np.maximum(span, span.max() * 0.25)  # never collapse a squashed axis to a line
    c = (lo + hi) / 2
    half = span / 2 * (1 + margin)
    return (float(c[0] - half[0]), float(c[0] + half[0]), float(c[1] - half[1]),
            float(c[1] + half[1]))


def lerp_extent(a: Extent, b: Extent, t: float) -> Extent:
    return tuple((1 - t) * x + t * y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def through_step(k0: int, k1: int, s: float) -> tuple[int, float]:
    """Moving from stage ``k0`` to ``k1`` (either way) at ``s`` in [0, 1], each stage between
    taking an equal share of the way: the stage k and the alpha of :meth:`Trace.display_at`."""
    n = abs(k1 - k0)
    u = min(max(s, 0.0), 1.0) * n
    i = min(int(u), n - 1)
    a = u - i
    if k1 > k0:
        return k0 + i + 1, a
    return k0 - i, 1.0 - a


def through(trace: Trace, k0: int, k1: int, s: float, dims: int = 2
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Display points and grid moving from stage ``k0`` to stage ``k1`` (either way) at
    ``s`` in [0, 1]: each stage between them takes an equal share of the way, each through
    :meth:`Trace.display_at`, so a jump across several stages follows the trace's own rule."""
    if k0 == k1:
        return trace.display(k0, dims), trace.display_grid(k0, dims)
    return trace.display_at(*through_step(k0, k1, s), dims)


def diagram_of(trace: Trace, highlight: int = 0, kind: str = "input") -> Diagram:
    ws = [op.params["W"] for op in trace.ops if op.kind == "linear"]
    widths = [ws[0].shape[1]] + [w.shape[0] for w in ws] if ws else [trace.stages[0].dim]
    biases: list[np.ndarray | None] = []
    acts: list[str] = []
    layer = 0
    for op in trace.ops:
        if op.kind == "linear":
            layer += 1
            biases.append(None)
            acts.append("linear")
        elif op.kind == "bias":
            biases[-1] = op.params["b"]
        elif layer and op.kind in TABLE:          # norms and sums keep the label
            acts[layer - 1] = TABLE[op.kind].label
    if acts and acts[-1] == "linear":
        acts[-1] = "output"     # raw logits
    # the graph's edges that skip columns: a stage's column is the Linear it follows
    # a Linear's edges from the column before it are the weights it gives those units, where
    # it reads them; one that reads only earlier columns (a parallel branch) has no edges
    # there, and an arc from the column it reads
    shown, branches = _column_weights(trace)
    labels = {"add": "+ skip", "concat": "cat"}
    links = [(a, b, labels.get(kind, kind)) for a, b, kind in diagram_links(trace, branches)]
    wide = max(widths) > NODES_SHOWN
    return Diagram(widths, shown, biases, acts, highlight, kind, title="the network",
                   subtitle=f"{NODES_SHOWN} strongest units a layer" if wide else "",
                   links=links)


_COLUMNS: dict[int, tuple[Any, list[np.ndarray | None], list[tuple[int, int, str]]]] = {}


def _column_weights(trace: Trace) -> tuple[list[np.ndarray | None], list[tuple[int, int, str]]]:
    """:func:`~spacefold.trace.graph.column_weights` once per trace: the same arrays every
    frame, so the backend's layout cache holds."""
    hit = _COLUMNS.get(id(trace))
    if hit is not None and hit[0]() is trace:
        return hit[1], hit[2]
    shown, arcs = column_weights(trace)
    if len(_COLUMNS) > 64:
        _COLUMNS.clear()
    _COLUMNS[id(trace)] = (weakref.ref(trace), shown, arcs)
    return shown, arcs


@dataclass
class StoryOptions:
    """How a trace is told as a space video."""

    color_by: str = "class"
    stage_seconds: float = 2.0
    hold_seconds: float = 1.0
    point_size: float = 4.0
    diagram: bool = True
    show_regions: bool = True
    heading: str = ""
    narrate: bool = True
    show_math: bool = False
    show_linear_regions: bool = False       # the pieces' edges, carried like the grid
    scene: str = ""                         # the scene's name, for a one-line refusal
    extra_lines: Callable[[int, float], list[Line]] | None = field(default=None, repr=False)


class Story:
    """Space-view frames of a trace: stage k-1 → k at any alpha, with views that keep every
    point on screen (the view interpolates with the points, so none leaves the frame)."""

    def __init__(self, trace: Trace, opts: StoryOptions) -> None:
        self.trace, self.opts = trace, opts
        self.colors = trace.colors(opts.color_by)
        k_all = range(len(trace.stages))
        self.views: list[Extent] = []
        for k in k_all:
            include = [(1.0, 1.0)] if trace.stages[k].kind == "sigmoid" else []
            view = stage_view(trace.display(k), include)
            if trace.stages[k].kind == "bias" and k > 0:   # the camera holds: +b is seen to move
                prev = self.views[k - 1]
                view = (min(prev[0], view[0]), max(prev[1], view[1]), min(prev[2], view[2]),
                        max(prev[3], view[3]))
            self.views.append(view)
        self.regions: RegionLayer | None = None
        self.exact: ExactRegions | None = None
        if opts.show_regions and trace.regions is not None:     # exact at every pixel
            self.exact = ExactRegions(trace, trace.regions.extent)
            self.regions = self.exact()
        self.edges: PieceEdges | None = None
        if opts.show_linear_regions:
            if trace.extent is None:
                raise SceneError(f"{opts.scene or 'this scene'}: --show linear-regions draws "
                                 f"the input plane; this network takes "
                                 f"{trace.stages[0].dim}-D input")
            self.edges = PieceEdges(trace, trace.extent, scene=opts.scene)

    @property
    def rects(self) -> tuple[Rect, Rect | None]:
        if not self.opts.diagram:
            return (SPACE_RECT if self.opts.show_math else (0.03, 0.09, 0.94, 0.80)), None
        return SPACE_RECT, MATH_DIAGRAM_RECT if self.opts.show_math else DIAGRAM_RECT

    def space(self, k: int, alpha: float) -> Space:
        """The space panel between stage k-1 and k (k = 0: the input, alpha ignored)."""
        t = self.trace
        if k == 0:
            pts, grid = t.display(0), t.display_grid(0)
            view = self.views[0]
        else:
            s = smooth(alpha)
            pts, grid = t.display_at(k, s)
            view = lerp_extent(self.views[t.stages[k].base], self.views[k], s)
        stage = t.stages[k]
        regions = self.regions if k == 0 else None
        if k == 1 and self.exact is not None and alpha < REGION_FADE:   # no cut: they fade
            regions = self.exact(1.0 - alpha / REGION_FADE)
        proj = t.projection(k)
        sub = proj.label or f"{stage.dim}-D"
        base = t.stages[stage.base]
        if k > 0 and base.dim != stage.dim:
            sub = f"{base.dim}-D → {stage.dim}-D" + (f" · {proj.label}" if proj.label else "")
        if named_source(stage.source, stage.kind):     # the user's module: "blocks.0.norm"
            sub = f"{stage.source} · {sub}"
        lines = self.opts.extra_lines(k, alpha) if self.opts.extra_lines else []
        if stage.kind == "sigmoid" and stage.dim == 2:   # the unit square it squashes into
            sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)
            lines = [Line(sq, (1, 1, 1, 0.45 * (smooth(alpha) if k else 1)), 1.2, "--")] + lines
        texts = []
        if self.edges is not None:                       # under the other lines
            lines = [self.edges.line(self.edges.at(k, smooth(alpha) if k else 1.0))] + lines
            texts.append(self.edges.label())
        return Space(view=view, points=pts, colors=self.colors, classes=self.trace.labels,
                     grid=grid, regions=regions,
                     lines=lines, texts=texts, title=stage.name, subtitle=sub,
                     point_size=self.opts.point_size)

    def move(self, sp: Space, k0: int, k1: int, s: float) -> None:
        """Put ``sp``'s points, grid and piece edges on the way from stage ``k0`` to ``k1``
        at ``s`` (:func:`through`): a story that rewinds across several stages."""
        sp.points, sp.grid = through(self.trace, k0, k1, s)
        if self.edges is not None and sp.lines:
            seg = self.edges.display(k0) if k0 == k1 else \
                self.edges.at(*through_step(k0, k1, s))
            sp.lines[0] = self.edges.line(seg)

    def frame(self, k: int, alpha: float, caption: str | None = None) -> Frame:
        space_rect, diag_rect = self.rects
        panels: list[tuple[Rect, Space | Diagram | Plot]] = [(space_rect, self.space(k, alpha))]
        if diag_rect is not None:
            st = self.trace.stages[k]
            panels.append((diag_rect, diagram_of(self.trace, st.layer, st.kind)))
        if self.opts.show_math:
            panels.append((MATH_RECT, Plot((1.0, 2.0, 1.0, 2.0), texts=stage_math(self.trace, k))))
        if caption is None:
            caption = narration(self.trace, k) if self.opts.narrate else ""
        return Frame(panels, heading=self.opts.heading, caption=caption)

    def _move(self, k: int, alpha: float) -> Frame:
        return self.frame(k, alpha)

    def _hold(self, alpha: float) -> Frame:
        return self.frame(0, alpha)

    def segments(self) -> list[Segment]:
        segs: list[Segment] = []
        if self.opts.hold_seconds > 0:
            segs.append(Segment("input", self.opts.hold_seconds, self._hold, still=True))
        for k in range(1, len(self.trace.stages)):
            segs.append(Segment(self.trace.stages[k].name, self.opts.stage_seconds,
                                partial(self._move, k)))
        return segs
