"""The building blocks before any network: ``affine`` (MISSION.md scene 1), ``activations``
(scene 2) and ``argmax-softmax`` (scene 6).

Every number on screen is computed here from the maths it shows: the affine scene applies
its matrices to the grid, the activation scene pushes the grid through the very modules the
networks are built from (traced with :func:`spacefold.trace`), and the argmax/softmax bars
are ``argmax`` and ``softmax`` of seeded random scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import CLASS_COLORS, NEGATIVE, POSITIVE, position_colors
from spacefold.errors import SpacefoldError
from spacefold.model.activations import ACTIVATIONS as TABLE
from spacefold.render.frame import Bars, Extent, Frame, Line, Plot, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.registry import scene
from spacefold.scenes.story import lerp_extent, stage_view
from spacefold.trace.geometry import grid_lines

GOLD = tuple(float(c) for c in CLASS_COLORS[0])
TEAL = tuple(float(c) for c in CLASS_COLORS[6])
GREEN = tuple(float(c) for c in CLASS_COLORS[3])
RED = tuple(float(c) for c in CLASS_COLORS[2])
DIM = (1.0, 1.0, 1.0, 0.35)
MONO = "monospace"


def _ease(alpha: float, move: float = 0.7) -> float:
    """Move (smoothly) during the first ``move`` of a segment, then hold on the target."""
    return smooth(alpha / move)


def _hold(frame: Frame) -> Callable[[float], Frame]:
    return lambda _a: frame


def _fmt(v: float, width: int = 5) -> str:
    """A number for the screen: two decimals, a true minus sign, no "-0.00"."""
    v = 0.0 if abs(v) < 5e-3 else float(v)
    return f"{v:{width}.2f}".replace("-", "−")


# The panel geometry the text layout is measured in: 16:9 frames, text sizes in pt at 720p.
_FRAME_PX = (1280.0, 720.0)
_CHAR_EM = 0.602          # advance of one DejaVu Sans Mono glyph, in em


def _char_w(size: float, rect: Rect) -> float:
    """Width of one monospace character in panel fractions of a panel at ``rect``."""
    return _CHAR_EM * size * 100.0 / 72.0 / (rect[2] * _FRAME_PX[0])


def _line_h(size: float, rect: Rect) -> float:
    """Height of one text line (spacing 1.2) in panel fractions of a panel at ``rect``."""
    return 1.2 * size * 100.0 / 72.0 / (rect[3] * _FRAME_PX[1])


# A blank canvas: a Plot whose view lies away from its axes (they are clipped), so its data
# units are 1 + panel fractions and Lines can be placed among its Texts (matrix brackets).
_CANVAS_VIEW: Extent = (1.0, 2.0, 1.0, 2.0)


def _bracket(x: float, top: float, bottom: float, side: int, color: Any = "#e8e8ee"
             ) -> Line:
    """A square bracket from ``top`` to ``bottom`` at panel fraction ``x``; side -1 = left."""
    tick = 0.012 * -side
    xy = np.array([[x + tick, top], [x, top], [x, bottom], [x + tick, bottom]]) + 1.0
    return Line(xy, color, 1.6)


def _matrix(x: float, y: float, columns: list[list[str]], colors: list[Any], rect: Rect,
            size: float = 20.0, name: str = "") -> tuple[list[Text], list[Line], float]:
    """``name = [columns]`` laid out at panel fraction (x, y) (top left) in a canvas panel.

    Returns the texts, the bracket lines and the x where the block ends.
    """
    cw, lh = _char_w(size, rect), _line_h(size, rect)
    rows = len(columns[0])
    texts: list[Text] = []
    if name:
        texts.append(Text((x, y - lh * rows / 2), f"{name} =", size, va="center", family=MONO))
        x += cw * (len(name) + 3)
    top, bottom = y + 0.1 * lh, y - lh * rows - 0.05 * lh
    lines = [_bracket(x, top, bottom, -1)]
    x += cw * 0.8
    for col, color in zip(columns, colors, strict=True):
        x += cw * (max(len(s) for s in col) + 0.2)
        texts.append(Text((x, y), "\n".join(col), size, color, ha="right", family=MONO))
        x += cw * 1.6
    x -= cw * 0.8
    lines.append(_bracket(x, top, bottom, 1))
    return texts, lines, x


# ---------------------------------------------------------------------------------------
# affine: x ↦ A·x + b, each part alone, then composed
# ---------------------------------------------------------------------------------------

AFFINE_SPACE: Rect = (0.02, 0.11, 0.53, 0.78)
AFFINE_INFO: Rect = (0.575, 0.11, 0.41, 0.78)
AFFINE_GRID = (-7.0, 7.0, -7.0, 7.0)   # covers the whole view in every frame: reads as the plane
AFFINE_HEADING = "affine maps:  x ↦ A·x + b"
AFFINE_CAPTION = ("Rotation, scaling, shear and shift are all x ↦ A·x + b, and doing them one "
                  "after another is again one matrix and one shift: a network layer without "
                  "an activation is exactly this map, W·x + b.")


@dataclass(frozen=True)
class Affine:
    """One affine map ``x ↦ A·x + b`` and how it is named on screen."""

    name: str
    A: np.ndarray          # (2, 2)
    b: np.ndarray          # (2,)
    formula: str           # "A = R(35°)"
    caption: str


def affine_steps(angle: float = 35.0, scale: tuple[float, float] = (1.5, 0.6),
                 shear: float = 0.8, shift: tuple[float, float] = (0.8, -0.5)
                 ) -> tuple[list[Affine], Affine]:
    """The four parts (rotation, scaling, shear, shift) and their composition H·S·R, + b."""
    t = np.deg2rad(angle)
    eye, zero = np.eye(2), np.zeros(2)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    S = np.diag(scale)
    H = np.array([[1.0, shear], [0.0, 1.0]])
    b = np.asarray(shift, dtype=np.float64)
    parts = [
        Affine("rotation", R, zero, f"A = [[cos θ, −sin θ], [sin θ, cos θ]],  θ = {angle:g}°",
               f"rotation by {angle:g}°: lengths, angles and areas are kept"),
        Affine("scaling", S, zero, f"A = diag({scale[0]:g}, {scale[1]:g})",
               f"scaling: x stretched ×{scale[0]:g}, y squeezed ×{scale[1]:g}; "
               "areas change by det A"),
        Affine("shear", H, zero, f"A = shear: x += {shear:g}·y",
               "shear: each point slides sideways in proportion to its height; "
               "squares become parallelograms"),
        Affine("shift", eye, b, f"A = I,  b = ({shift[0]:g}, {shift[1]:g})",
               "shift: + b moves every point by the same vector; the matrix stays I"),
    ]
    M = H @ S @ R
    composed = Affine("one matrix", M, b, "A = H·S·R  (shear · scale · rotation)",
                      "all four at once: one matrix A = H·S·R and one shift b. "
                      "A layer without activation is exactly this: W·x + b")
    return parts, composed


def letter_f(step: float = 0.09) -> np.ndarray:
    """(N, 2) dots drawing the letter F in the first quadrant: no rotation or reflection of
    it looks like itself, so orientation is visible."""
    def stroke(a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
        n = max(2, int(round(np.hypot(b[0] - a[0], b[1] - a[1]) / step)) + 1)
        return np.linspace(a, b, n)

    parts = [stroke((0.35, 0.25), (0.35, 1.65)), stroke((0.35 + step, 1.65), (1.3, 1.65)),
             stroke((0.35 + step, 0.98), (1.0, 0.98))]
    return np.concatenate(parts)


def unit_circle(n: int = 40) -> np.ndarray:
    """(n, 2) dots on the unit circle: under A it becomes an ellipse (A's stretch directions)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _arrow(tail: np.ndarray, tip: np.ndarray, color: Any, label: str,
           head: float = 0.16) -> list[Line]:
    """A shaft (labelled at its tip) and a two-stroke head, in data units."""
    d = tip - tail
    n = float(np.hypot(*d))
    lines = [Line(np.stack([tail, tip]), color, 3.0)]
    if n > 1e-6:
        # the label sits just beyond the tip: an invisible Line that ends there
        lines.append(Line(np.stack([tip, tip + d / n * 0.12]), color, 0.0, label=label))
        u = d / n * min(head, n * 0.5)
        c, s = np.cos(np.deg2rad(28)), np.sin(np.deg2rad(28))
        left = tip - np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]])
        right = tip - np.array([c * u[0] + s * u[1], -s * u[0] + c * u[1]])
        lines.append(Line(np.stack([left, tip, right]), color, 3.0))
    return lines


class _AffineScene:
    """Frames of the plane under ``x ↦ A·x + b`` for any (A, b), with the numbers beside."""

    def __init__(self, color_by: str = "class", lines: int = 29, verts: int = 25) -> None:
        self.grid = grid_lines(AFFINE_GRID, lines, verts)               # (L, V, 2)
        f, c = letter_f(), unit_circle()
        self.points = np.concatenate([f, c])                           # (N, 2)
        self.legend = "gold: the letter F · teal: the unit circle"
        if color_by == "position":      # the 2-D colour map: where each point started
            self.colors = position_colors(self.points)
            self.legend = "F and unit circle, coloured by start"
        else:                           # "class": the two shapes
            self.colors = np.concatenate([np.tile(GOLD, (len(f), 1)),
                                          np.tile(TEAL, (len(c), 1))])
        self.parts, self.composed = affine_steps()
        self.chain = self._chain()
        states = [(np.eye(2), np.zeros(2))] + [(a.A, a.b) for a in self.parts + [self.composed]]
        self.view = self._view(states)

    def _chain(self) -> list[tuple[np.ndarray, np.ndarray, str]]:
        """The parts applied one after another: (A, b, formula so far) after each."""
        A, b = np.eye(2), np.zeros(2)
        out, names = [], []
        for part, letter in zip(self.parts, ("R", "S", "H", "+ b"), strict=True):
            A, b = part.A @ A, part.A @ b + part.b
            names.append(letter)
            mats = [n for n in names if n != "+ b"][::-1]
            out.append((A, b, "A = " + "·".join(mats) + ("   then + b" if "+ b" in names
                                                           else "")))
        return out

    def _view(self, states: list[tuple[np.ndarray, np.ndarray]]) -> Extent:
        """One fixed view holding every point and arrow in every state (straight-line paths
        between states stay inside the bounding box of their ends) and the square [-2, 2]²."""
        pts = [np.array([[-2.0, -2.0], [2.0, 2.0]])]
        for A, b in states:
            pts.append(self.points @ A.T + b)
            pts.append(np.stack([b, b + A[:, 0], b + A[:, 1]]))
        allp = np.concatenate(pts)
        lo, hi = allp.min(axis=0) - 0.35, allp.max(axis=0) + 0.35
        return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))

    def frame(self, A: np.ndarray, b: np.ndarray, title: str, formula: str,
              caption: str) -> Frame:
        space = Space(view=self.view, points=self.points @ A.T + b, colors=self.colors,
                      grid=self.grid @ A.T + b, title="the plane under x ↦ A·x + b",
                      subtitle=self.legend, point_size=4.5)
        space.lines = _arrow(b, b + A[:, 0], GREEN, "A·e₁") + _arrow(b, b + A[:, 1], RED, "A·e₂")
        return Frame([(AFFINE_SPACE, space), (AFFINE_INFO, self.info(A, b, title, formula))],
                     heading=AFFINE_HEADING, caption=caption)

    @staticmethod
    def info(A: np.ndarray, b: np.ndarray, title: str, formula: str) -> Plot:
        r = AFFINE_INFO
        texts = [Text((0.0, 0.98), title, 22, GOLD),
                 Text((0.0, 0.88), formula, 14, DIM[:3] + (0.8,))]
        cols = [[_fmt(A[0, 0]), _fmt(A[1, 0])], [_fmt(A[0, 1]), _fmt(A[1, 1])]]
        t1, l1, end = _matrix(0.0, 0.74, cols, [GREEN, RED], r, name="A")
        t2, l2, _ = _matrix(end + 0.05, 0.74, [[_fmt(b[0]), _fmt(b[1])]], ["#e8e8ee"], r,
                            name="b")
        det = float(np.linalg.det(A))
        texts += t1 + t2 + [
            Text((0.0, 0.5), f"det A = {_fmt(det, 0)}: areas are multiplied by {_fmt(det, 0)}",
                 13),
            Text((0.0, 0.42), "column 1 of A is where e₁ = (1, 0) lands", 13, GREEN),
            Text((0.0, 0.36), "column 2 of A is where e₂ = (0, 1) lands", 13, RED),
            Text((0.0, 0.2), "a network layer without activation\nis exactly this map:  W·x + b",
                 15),
        ]
        return Plot(view=_CANVAS_VIEW, lines=l1 + l2, texts=texts)

    def move(self, start: tuple[np.ndarray, np.ndarray], end: tuple[np.ndarray, np.ndarray],
             title: str, formula: str, caption: str, ease: Callable[[float], float] = _ease
             ) -> Callable[[float], Frame]:
        """Straight-line path between two affine maps: A(t) = (1-t)·A0 + t·A1, likewise b;
        from the identity this is the matrix path (1-t)·I + t·A, so grid lines stay straight."""
        def f(alpha: float) -> Frame:
            t = ease(alpha)
            A = (1 - t) * start[0] + t * end[0]
            b = (1 - t) * start[1] + t * end[1]
            return self.frame(A, b, title, formula, caption)
        return f

    def chained(self, alpha: float) -> Frame:
        """The four parts one after another, each step a straight-line path."""
        n = len(self.chain)
        i = min(int(alpha * n), n - 1)
        t = _ease(alpha * n - i, 0.75)
        A0, b0 = (np.eye(2), np.zeros(2)) if i == 0 else self.chain[i - 1][:2]
        A1, b1, formula = self.chain[i]
        A, b = (1 - t) * A0 + t * A1, (1 - t) * b0 + t * b1
        return self.frame(A, b, "one after another", formula,
                          "rotate, then scale, then shear, then shift: "
                          "each step multiplies the matrix built so far")


@scene("affine", "rotation, scale, shear and shift of the plane and its grid, each alone, "
       "then composed into one matrix (shown as numbers)")
def affine(color_by: str = "class") -> Timeline:
    """MISSION.md scene 1: x ↦ A·x + b, the matrix path from the identity for each part."""
    sc = _AffineScene(color_by)
    ident = (np.eye(2), np.zeros(2))
    segs = [Segment("the plane", 1.2, _hold(sc.frame(
        *ident, "the identity", "A = I,  b = 0",
        "the plane and its grid; the arrows are the basis vectors e₁ and e₂")))]
    for part in sc.parts:
        target = (part.A, part.b)
        segs.append(Segment(part.name, 2.4, sc.move(ident, target, part.name, part.formula,
                                                    part.caption)))
        segs.append(Segment(f"{part.name} (back)", 0.6,
                            sc.move(target, ident, part.name, part.formula, part.caption,
                                    smooth), key=False))
    segs.append(Segment("one after another", 4.0, sc.chained, key=False))
    c = sc.composed
    last = (c.A, c.b)
    segs.append(Segment("back to the identity", 0.7,
                        sc.move(last, ident, "one after another", sc.chain[-1][2],
                                "…and back: now the same map in one move", smooth), key=False))
    segs.append(Segment(c.name, 3.0, sc.move(ident, last, "one matrix, one shift", c.formula,
                                             c.caption)))
    steps = {p.name: (p.A, p.b) for p in sc.parts} | {c.name: last}
    return Timeline("affine", segs, meta={"caption": AFFINE_CAPTION, "steps": steps,
                                          "grid": sc.grid, "points": sc.points},
                    poster_segment=len(segs) - 1)


# ---------------------------------------------------------------------------------------
# activations: the curve, and the plane pushed through it coordinate by coordinate
# ---------------------------------------------------------------------------------------

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
    """Each activation traced as a 2-2 network with identity weights and zero bias, so the
    grid images are the network's own stage values; the curve is carried through the same
    trace on the diagonal (x, x)."""
    import torch
    from torch import nn

    from spacefold.model.torch_build import ACTIVATIONS as MODULES
    from spacefold.trace import GridSpec, trace

    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = ACT_GRID
    pts = np.stack([rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)], axis=1)
    xs = np.linspace(*ACT_CURVE_X, 601)
    out = []
    for name, formula, narration in ACTIVATIONS:
        lin = nn.Linear(2, 2)
        with torch.no_grad():
            lin.weight.copy_(torch.eye(2))
            lin.bias.zero_()
        tr = trace(nn.Sequential(lin, MODULES[name]()), pts,
                   grid=GridSpec(extent=ACT_GRID, lines=lines, verts=verts, regions=0))
        k = len(tr.stages) - 1                     # the activation's stage (after W·x, +b)
        g0, g1 = tr.stages[k - 1].grid, tr.stages[k].grid
        assert g0 is not None and g1 is not None
        curve = tr.carry(np.stack([xs, xs], axis=1))[-1][:, 0]
        out.append(ActivationView(name, TABLE[name].label, formula, narration,
                                  g0.astype(np.float64), g1.astype(np.float64),
                                  tr.stages[k - 1].values.astype(np.float64),
                                  tr.stages[k].values.astype(np.float64), xs, curve))
    return out


class _ActivationScene:
    def __init__(self, color_by: str = "position") -> None:
        self.views = activation_views()
        p0 = self.views[0].points0
        if color_by == "position":      # the 2-D colour map: where each point started
            self.colors = position_colors(p0)
            self.legend = "coloured by start"
        elif color_by == "class":       # the quadrant each point starts in: what folds where
            quadrant = (p0[:, 0] > 0).astype(int) + 2 * (p0[:, 1] > 0)
            self.colors = CLASS_COLORS[quadrant]
            self.legend = "coloured by starting quadrant"
        else:
            raise SpacefoldError(f"color_by {color_by!r}; choose class or position")
        x0, x1, y0, y1 = ACT_GRID
        self.square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
        pad = 0.35
        self.space_view: Extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
        self.unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)

    def target_view(self, v: ActivationView) -> Extent:
        """Where the view zooms to: around the image of the grid and the origin (so the
        axes it folds onto stay in sight), never larger than the starting view."""
        include = [(1.0, 1.0)] if v.name == "sigmoid" else []
        return stage_view(v.grid1.reshape(-1, 2), include, margin=0.35)

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
                      grid=(1 - t) * v.grid0 + t * v.grid1, lines=lines,
                      title=f"the plane through {name}",
                      subtitle=self.legend + (f" · view zoomed ×{zoom:.1f}"
                                                              if zoom > 1.05 else ""),
                      point_size=3.0)
        return Frame([(ACT_PLOT, plot), (ACT_SPACE, space)], heading=ACT_HEADING,
                     caption=caption)

    def segment(self, v: ActivationView) -> Callable[[float], Frame]:
        return lambda a: self.frame(v, _ease(a, 0.65), v.narration)

    def back(self, v: ActivationView) -> Callable[[float], Frame]:
        return lambda a: self.frame(v, 1 - smooth(a), "back to the identity")


@scene("activations", "sigmoid, ReLU, tanh, leaky ReLU and sine: the curve, and what each "
       "does to the plane and its grid")
def activations(color_by: str = "position") -> Timeline:
    """MISSION.md scene 2: each activation from the identity, grid pushed through it.

    ``color_by``: "position" (each point by where it starts) or "class" (by the quadrant it
    starts in, the four sign patterns an activation keeps apart or folds together)."""
    sc = _ActivationScene(color_by)
    first = sc.views[0]
    segs = [Segment("the plane", 1.2, _hold(sc.frame(
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


# ---------------------------------------------------------------------------------------
# argmax-softmax: 25 scores, the one-hot winner, and probabilities that sum to 1
# ---------------------------------------------------------------------------------------

BARS_RECT: Rect = (0.06, 0.16, 0.90, 0.60)
SM_HEADING = "argmax and softmax:  from scores to a decision"
SM_CAPTION = ("argmax keeps only the largest score (a one-hot vector), but nudging any score "
              "almost never changes it, so its gradient is zero and training learns nothing; "
              "softmax gives smooth probabilities that sum to 1, and its gradient tells every "
              "score which way to move.")
TOP = 1.2            # headroom above the tallest bar (1.0), for the marker
SOFT_T_END = 0.3     # the temperature the sharpening segment ends at


def scores(n: int = 25, seed: int = 170) -> np.ndarray:
    """(n,) seeded standard-normal scores (seed 170: the largest is at index 3, as in the
    video this scene retells)."""
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def softmax(s: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(n,) probabilities ``exp(s_i / T) / Σ_j exp(s_j / T)`` (shifted by the max for safety)."""
    z = np.asarray(s, dtype=np.float64) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def one_hot(s: np.ndarray) -> np.ndarray:
    out = np.zeros(len(s))
    out[int(np.argmax(s))] = 1.0
    return out


@dataclass(frozen=True)
class _BarState:
    """One state of the bars and how it is labelled."""

    values: np.ndarray           # (K,) heights as drawn
    colors: np.ndarray           # (K, 3)
    ylim: tuple[float, float]
    title: str
    subtitle: str
    formula: str                 # big, top left
    readout: str                 # big, top right: the computed fact (argmax, Σ p)
    top_tick: str                # what a bar of height 1 means
    readout_color: Any = "#e8e8ee"


class _SoftmaxScene:
    def __init__(self, n: int = 25, seed: int = 170, by_class: bool = False) -> None:
        self.s = scores(n, seed)
        self.k = int(np.argmax(self.s))
        self.scale = float(np.abs(self.s).max())
        self.labels = [str(i) for i in range(n)]
        pos, neg = np.array(_rgb(POSITIVE)), np.array(_rgb(NEGATIVE))
        self.win = np.tile(pos, (n, 1))
        self.win[self.k] = GOLD
        signs = np.where((self.s >= 0)[:, None], pos, neg)
        if by_class:                                      # each score in its class's colour
            self.win = signs = CLASS_COLORS[np.arange(n) % len(CLASS_COLORS)]
        drawn = self.s / self.scale                       # tallest |bar| = 1
        self.raw = _BarState(
            drawn, signs,
            (min(float(drawn.min()), 0.0) - 0.1, TOP), "25 scores s (a network's raw outputs)",
            f"drawn ÷ max|s| = {self.scale:.2f}: scores can be negative",
            r"$s_i$,  $i = 0 \ldots 24$",
            f"largest: s{_sub(self.k)} = {self.s[self.k]:.2f}", f"{self.scale:.2f}")
        self.argmax = _BarState(one_hot(self.s), self.win, (-0.06, TOP), "argmax: one-hot",
                                "1 for the largest score, 0 for all others",
                                r"$\mathrm{onehot}(\mathrm{argmax}_i\ s_i)$", f"argmax = {self.k}",
                                "1", GOLD)
        self.p = softmax(self.s)
        self.soft = self.softened(1.0)

    def softened(self, T: float) -> _BarState:
        """softmax(s / T) exactly, labelled with its sum."""
        p = softmax(self.s, T)
        name = "softmax" if T == 1.0 else f"softmax(s / T),  T = {T:.2f}"
        formula = (r"$p_i = e^{s_i} / \sum_j e^{s_j}$" if T == 1.0 else
                   r"$p_i = e^{s_i/T} / \sum_j e^{s_j/T}$")
        return _BarState(p, self.win, (-0.06, TOP), f"{name}: probabilities",
                         "every p_i > 0, and they sum to 1", formula,
                         f"Σ p = {p.sum():.3f}    p{_sub(self.k)} = {p[self.k]:.3f}", "1")

    def bars(self, a: _BarState, b: _BarState, t: float) -> Bars:
        """The bars a → b at t (straight-line interpolation of heights, colours and scale);
        the labels switch half way."""
        vals = (1 - t) * a.values + t * b.values
        cols = np.clip((1 - t) * a.colors + t * b.colors, 0, 1)
        lo = (1 - t) * a.ylim[0] + t * b.ylim[0]
        hi = (1 - t) * a.ylim[1] + t * b.ylim[1]
        look = b if t >= 0.5 else a

        def yf(v: float) -> float:          # data value → panel fraction
            return (v - lo) / (hi - lo)

        n = len(vals)
        texts = [Text((0.0, 1.12), look.formula, 20, va="bottom"),
                 Text((1.0, 1.12), look.readout, 20, look.readout_color, ha="right",
                      va="bottom"),
                 Text((-0.008, yf(0.0)), "0", 11, DIM, ha="right", va="center"),
                 Text((-0.008, yf(1.0)), look.top_tick, 11, DIM, ha="right", va="center"),
                 Text(((self.k + 0.7) / (n + 0.4), yf(max(float(vals[self.k]), 0.0)) + 0.015),
                      "▼", 12, GOLD, ha="center", va="bottom")]
        return Bars(vals, cols, (lo, hi), texts=texts, title=look.title,
                    subtitle=look.subtitle, xlabels=self.labels)

    def move(self, a: _BarState, b: _BarState, caption: str,
             ease: Callable[[float], float] = _ease) -> Callable[[float], Frame]:
        return lambda alpha: Frame([(BARS_RECT, self.bars(a, b, ease(alpha)))],
                                   heading=SM_HEADING, caption=caption)

    def sharpen(self, alpha: float) -> Frame:
        """softmax(s / T) with T falling from 1 to SOFT_T_END: the exact distribution at every
        frame (not an interpolation), approaching argmax while staying smooth."""
        T = float(SOFT_T_END ** _ease(alpha, 0.8))
        state = self.softened(T)
        return Frame([(BARS_RECT, self.bars(state, state, 1.0))], heading=SM_HEADING,
                     caption="a lower temperature T sharpens softmax towards argmax, "
                             "yet it stays smooth: still a gradient for every score")


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


@scene("argmax-softmax", "25 random scores as bars; argmax keeps the largest (one-hot), "
       "softmax turns them into probabilities that sum to 1")
def argmax_softmax(color_by: str | None = None, seed: int = 170) -> Timeline:
    """MISSION.md scene 6: raw → argmax → softmax → sharper softmax → raw, all computed.

    ``color_by``: None (bars by sign, the winner in gold) or "class" (each score, one per
    class, in its class colour); the bars have no positions to colour by."""
    if color_by not in (None, "class"):
        raise SpacefoldError(f"scene 'argmax-softmax' colours its bars by class only (each "
                             f"bar is a class); color_by {color_by!r} is not offered")
    sc = _SoftmaxScene(seed=seed, by_class=color_by == "class")
    sharp = sc.softened(SOFT_T_END)
    segs = [Segment("raw scores", 1.5, sc.move(sc.raw, sc.raw, "the raw outputs of a network: "
                                               "25 scores, one per class")),
            Segment("argmax", 2.6, sc.move(sc.raw, sc.argmax,
                                           "argmax keeps only the largest; nudge any score a "
                                           "little and nothing changes: its gradient is 0")),
            Segment("softmax", 2.8, sc.move(sc.argmax, sc.soft,
                                            "softmax: every score keeps a say; nudge one and "
                                            "every probability moves: a gradient for training")),
            Segment("softmax, T → 0", 2.8, sc.sharpen),
            Segment("back to the scores", 1.6, sc.move(sharp, sc.raw, "back to the raw scores",
                                                       smooth), key=False)]
    return Timeline("argmax-softmax", segs,
                    meta={"caption": SM_CAPTION, "scores": sc.s, "argmax": sc.k,
                          "softmax": sc.p},
                    poster_segment=2)
