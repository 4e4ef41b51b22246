"""``affine`` (MISSION.md scene 1): the plane and its grid under rotation, scaling, shear and
shift, each alone and then composed into one matrix and one shift, with the numbers beside.
Every point on screen is the matrix applied to it; from the identity each part moves along the
matrix path (1-t)·I + t·A, so grid lines stay straight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import position_colors
from spacefold.render.frame import Extent, Frame, Line, Plot, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.basics import DIM, GOLD, GREEN, MONO, RED, TEAL, ease, fmt, hold
from spacefold.scenes.registry import scene
from spacefold.trace.geometry import grid_lines

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
        cols = [[fmt(A[0, 0]), fmt(A[1, 0])], [fmt(A[0, 1]), fmt(A[1, 1])]]
        t1, l1, end = _matrix(0.0, 0.74, cols, [GREEN, RED], r, name="A")
        t2, l2, _ = _matrix(end + 0.05, 0.74, [[fmt(b[0]), fmt(b[1])]], ["#e8e8ee"], r,
                            name="b")
        det = float(np.linalg.det(A))
        texts += t1 + t2 + [
            Text((0.0, 0.5), f"det A = {fmt(det, 0)}: areas are multiplied by {fmt(det, 0)}",
                 13),
            Text((0.0, 0.42), "column 1 of A is where e₁ = (1, 0) lands", 13, GREEN),
            Text((0.0, 0.36), "column 2 of A is where e₂ = (0, 1) lands", 13, RED),
            Text((0.0, 0.2), "a network layer without activation\nis exactly this map:  W·x + b",
                 15),
        ]
        return Plot(view=_CANVAS_VIEW, lines=l1 + l2, texts=texts)

    def move(self, start: tuple[np.ndarray, np.ndarray], end: tuple[np.ndarray, np.ndarray],
             title: str, formula: str, caption: str, ease: Callable[[float], float] = ease
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
        t = ease(alpha * n - i, 0.75)
        A0, b0 = (np.eye(2), np.zeros(2)) if i == 0 else self.chain[i - 1][:2]
        A1, b1, formula = self.chain[i]
        A, b = (1 - t) * A0 + t * A1, (1 - t) * b0 + t * b1
        return self.frame(A, b, "one after another", formula,
                          "rotate, then scale, then shear, then shift: "
                          "each step multiplies the matrix built so far")


@scene("affine", "rotation, scale, shear and shift of the plane and its grid, each alone, "
       "then composed into one matrix (shown as numbers)", classes_by=(), palette_by=(),
       traced=False)
def affine(color_by: str = "class") -> Timeline:
    """MISSION.md scene 1: x ↦ A·x + b, the matrix path from the identity for each part."""
    sc = _AffineScene(color_by)
    ident = (np.eye(2), np.zeros(2))
    segs = [Segment("the plane", 1.2, hold(sc.frame(
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
