"""``activations`` (MISSION.md scene 2): sigmoid, ReLU, tanh, leaky ReLU and sine, each as its
curve and as what it does to the plane and its grid. The grid goes through the very
activation the networks use: each is traced as a 2-2-2 network of identity weights (a
:class:`~spacefold.model.network.Network`, no torch), so the pictures are the trace's values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spacefold.colors import class_colors, position_colors
from spacefold.errors import SpacefoldError
from spacefold.model.activations import ACTIVATIONS as TABLE
from spacefold.render.frame import Extent, Frame, Line, Plot, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.basics import DIM, GOLD, ease, hold
from spacefold.scenes.registry import scene
from spacefold.scenes.story import lerp_extent, stage_view

ACT_PLOT: Rect = (0.05, 0.13, 0.36, 0.70)
ACT_SPACE: Rect = (0.47, 0.13, 0.50, 0.70)
ACT_GRID = (-2.0, 2.0, -2.0, 2.0)
ACT_CURVE_X = (-3.0, 3.0)
ACT_HEADING = "activation functions:  only a nonlinearity bends space"
ACT_CAPTION = ("Stacked affine maps are still one affine map, so without activations a deep "
               "network could only rotate, stretch and shift; applied to every coordinate, "
               "an activation squashes, folds or wraps the plane, and that lets the next layer "
               "cut it with straight lines.")

# The activations the scene plays, by table name; formula and narration come from the table.
SCENE_ACTIVATIONS = ("sigmoid", "relu", "tanh", "leaky_relu", "sin")
ACTIVATIONS: list[tuple[str, str, str]] = [
    (name, TABLE[name].formula.replace("a\\,x", "0.1\\,x") if name == "leaky_relu"
     else TABLE[name].formula,
     TABLE[name].narration.replace("by its slope", "×0.1") if name == "leaky_relu"
     else TABLE[name].narration)
    for name in SCENE_ACTIVATIONS]


@dataclass(frozen=True)
class ActivationView:
    """One activation's exact numbers: the traced grid/points and the curve."""

    name: str             # registry name ("relu")
    pretty: str           # "ReLU"
    formula: str
    narration: str
    grid0: np.ndarray     # (L, V, 2) the input grid
    grid1: np.ndarray     # (L, V, 2) the grid after the activation
    points0: np.ndarray   # (N, 2)
    points1: np.ndarray   # (N, 2)
    curve_x: np.ndarray   # (M,)
    curve_y: np.ndarray   # (M,)


def activation_views(n_points: int = 500, lines: int = 17, verts: int = 161,
                     seed: int = 0) -> list[ActivationView]:
    """Each activation traced as a 2-2-2 network (a numpy :class:`Network`) whose layers are
    the identity with zero bias, so the grid images are the network's own stage values; the
    curve is carried through the same trace on the diagonal (x, x)."""
    from spacefold.model.network import Network
    from spacefold.model.spec import ArchSpec
    from spacefold.trace import GridSpec, trace

    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = ACT_GRID
    pts = np.stack([rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)], axis=1)
    xs = np.linspace(*ACT_CURVE_X, 601)
    eye, zero = np.eye(2), np.zeros(2)
    out = []
    for name, formula, narration in ACTIVATIONS:
        spec = ArchSpec.parse("2-2-2", name)
        net = Network(spec, {f"{i}.{w}": v for i, _ in spec.module_layout()
                             for w, v in (("weight", eye), ("bias", zero))})
        tr = trace(net, pts, grid=GridSpec(extent=ACT_GRID, lines=lines, verts=verts,
                                           regions=0))
        k = next(st.index for st in tr.stages if st.kind == name)   # after W·x, +b
        g0, g1 = tr.stages[k - 1].grid, tr.stages[k].grid
        assert g0 is not None and g1 is not None
        curve = tr.carry(np.stack([xs, xs], axis=1), stop=k)[-1][:, 0]
        out.append(ActivationView(name, TABLE[name].label, formula, narration,
                                  g0.astype(np.float64), g1.astype(np.float64),
                                  tr.stages[k - 1].values.astype(np.float64),
                                  tr.stages[k].values.astype(np.float64), xs, curve))
    return out


class _ActivationScene:
    def __init__(self, color_by: str = "position") -> None:
        self.views = activation_views()
        p0 = self.views[0].points0
        self.classes: np.ndarray | None = None          # a marker shape each, with shapes
        if color_by == "position":      # the 2-D colour map: where each point started
            self.colors = position_colors(p0)
            self.legend = "coloured by start"
        elif color_by == "class":       # the quadrant each point starts in: what folds where
            quadrant = (p0[:, 0] > 0).astype(int) + 2 * (p0[:, 1] > 0)
            self.colors = class_colors(quadrant)      # in the palette in use
            self.classes = quadrant
            self.legend = "coloured by starting quadrant"
        else:
            raise SpacefoldError(f"color_by {color_by!r}; choose class or position")
        x0, x1, y0, y1 = ACT_GRID
        self.square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
        pad = 0.35
        self.space_view: Extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
        self.unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)
        self._targets: dict[int, tuple[ActivationView, Extent]] = {}

    def target_view(self, v: ActivationView) -> Extent:
        """Where the view zooms to: around the image of the grid and the origin (so the
        axes it folds onto stay in sight), never larger than the starting view (worked
        out once per activation, not every frame)."""
        hit = self._targets.get(id(v))
        if hit is None or hit[0] is not v:
            include = [(1.0, 1.0)] if v.name == "sigmoid" else []
            hit = self._targets[id(v)] = (v, stage_view(v.grid1.reshape(-1, 2), include,
                                                        margin=0.35))
        return hit[1]

    def frame(self, v: ActivationView, t: float, caption: str, intro: bool = False) -> Frame:
        """The plane and the curve at t: straight-line interpolation from identity (t = 0)."""
        xs = v.curve_x
        ys = (1 - t) * xs + t * v.curve_y
        x0, x1 = ACT_CURVE_X
        g = ACT_GRID
        name, formula = ("identity", r"$f(x) = x$") if intro else (v.pretty, v.formula)
        plot = Plot(view=(x0, x1, -3.0, 3.0), title=name,
                    subtitle="the same numbers as a network layer",
                    lines=[Line(np.array([[x0, x0], [x1, x1]]), DIM, 1.2, "--"),
                           Line(np.array([[g[0], -3.0], [g[0], 3.0]]), DIM, 1.0, ":"),
                           Line(np.array([[g[1], -3.0], [g[1], 3.0]]), DIM, 1.0, ":"),
                           Line(np.stack([xs, ys], axis=1), GOLD, 3.5)],
                    texts=[Text((0.03, 0.97), formula, 16),
                           Text((0.03, 0.86), "dashed: y = x (the identity)", 11, DIM),
                           Text((0.97, 0.03), "dotted: the grid's range [−2, 2]", 11, DIM,
                                ha="right", va="bottom")])
        target = self.target_view(v)
        view = lerp_extent(self.space_view, target, t)
        zoom = (self.space_view[1] - self.space_view[0]) / (view[1] - view[0])
        lines = [Line(self.square, DIM, 1.0, "--")]
        if v.name == "sigmoid":       # the unit square it squashes into
            lines.append(Line(self.unit, (1.0, 1.0, 1.0, 0.5 * t), 1.2, "--"))
        space = Space(view=view,
                      points=(1 - t) * v.points0 + t * v.points1, colors=self.colors,
                      classes=self.classes,
                      grid=(1 - t) * v.grid0 + t * v.grid1, lines=lines,
                      title=f"the plane through {name}",
                      subtitle=self.legend + (f" · view zoomed ×{zoom:.1f}"
                                                              if zoom > 1.05 else ""),
                      point_size=3.0)
        return Frame([(ACT_PLOT, plot), (ACT_SPACE, space)], heading=ACT_HEADING,
                     caption=caption)

    def segment(self, v: ActivationView) -> Callable[[float], Frame]:
        return lambda a: self.frame(v, ease(a, 0.65), v.narration)

    def back(self, v: ActivationView) -> Callable[[float], Frame]:
        return lambda a: self.frame(v, 1 - smooth(a), "back to the identity")


@scene("activations", "sigmoid, ReLU, tanh, leaky ReLU and sine: the curve, and what each "
       "does to the plane and its grid", classes_by=("class",), palette_by=("class",),
       traced=False)
def activations(color_by: str = "position") -> Timeline:
    """MISSION.md scene 2: each activation from the identity, grid pushed through it.

    ``color_by``: "position" (each point by where it starts) or "class" (by the quadrant it
    starts in, the four sign patterns an activation keeps apart or folds together)."""
    sc = _ActivationScene(color_by)
    first = sc.views[0]
    segs = [Segment("the plane", 1.2, hold(sc.frame(
        first, 0.0, "an activation acts on each coordinate separately: (x, y) ↦ (f(x), f(y))",
        intro=True)),
        key=False)]
    for i, v in enumerate(sc.views):
        segs.append(Segment(v.pretty, 2.6, sc.segment(v)))
        if i < len(sc.views) - 1:
            segs.append(Segment(f"{v.pretty} (back)", 0.6, sc.back(v), key=False))
    relu = next(i for i, s in enumerate(segs) if s.name == "ReLU")
    return Timeline("activations", segs,
                    meta={"caption": ACT_CAPTION, "views": {v.name: v for v in sc.views}},
                    poster_segment=relu)
