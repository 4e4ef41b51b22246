"""``--show linear-regions``: the edges of a piecewise-linear network's pieces over a plane story.

The pieces (:func:`spacefold.trace.pieces.linear_regions`) are the convex polygons of a 2-D
plane (the input, or a 2-D stage) on which the network is one affine map. Every edge of a piece
lies in that piece's closure, where each later stage is one affine map of the plane too, so the
edge stays a straight segment at every stage: its two ends carried through the trace (as the
grid's vertices are) and joined by a segment draw exactly the image of the edge, bending with
the plane. An edge two pieces share is drawn once, the extent's border not at all.

>>> import spacefold as sf
>>> t = sf.trace(sf.build("2-8-3", seed=1), sf.dataset("moons", n=40))
>>> e = PieceEdges(t, t.extent)
>>> e.at(3, 1.0).shape == (len(e.segments), 2, 2)          # stage 3: after the ReLU
True
"""

from __future__ import annotations

import numpy as np

from spacefold.errors import TraceError
from spacefold.render.frame import Extent, Line, Text
from spacefold.scenes.inputs import SceneError
from spacefold.scenes.planes import segments_line
from spacefold.trace import Trace
from spacefold.trace.pieces import Piece, linear_regions

EDGE_COLOR = (1.0, 1.0, 1.0, 0.3)    # thin and faint: white is ink in either theme
EDGE_WIDTH = 0.9                     # px at 720p


def shared_edges(pieces: list[Piece], extent: Extent) -> np.ndarray:
    """(S, 2, 2) the edges of ``pieces`` inside ``extent``, each once: a boundary between two
    counter-clockwise pieces is walked one way by each, so only its rightward (or upward)
    walks are kept, which cover it once even where one side has more vertices than the
    other; edges on the extent's border are left out."""
    if not pieces:
        return np.zeros((0, 2, 2))
    a = np.concatenate([p.polygon for p in pieces])
    b = np.concatenate([np.roll(p.polygon, -1, axis=0) for p in pieces])
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    x0, x1, y0, y1 = extent
    size = max(x1 - x0, y1 - y0)
    tol = 1e-9 * size
    forward = (d[:, 0] > 1e-9 * length) | ((np.abs(d[:, 0]) <= 1e-9 * length) & (d[:, 1] > 0))
    on_border = np.zeros(len(a), dtype=bool)
    for axis, v in ((0, x0), (0, x1), (1, y0), (1, y1)):
        on_border |= (np.abs(a[:, axis] - v) <= tol) & (np.abs(b[:, axis] - v) <= tol)
    keep = forward & ~on_border & (length > 1e-12 * size)
    return np.stack([a[keep], b[keep]], axis=1)


class PieceEdges:
    """The pieces of ``trace``'s network over ``extent`` of the plane of stage ``start`` (its
    input by default), their edges, and those edges at any stage from ``start`` on in display
    coordinates. A network that is not piecewise linear is a one-line :class:`SceneError`
    naming its first such layer."""

    def __init__(self, trace: Trace, extent: Extent, start: int = 0,
                 scene: str = "") -> None:
        try:
            self.pieces = linear_regions(trace, extent, start)
        except TraceError as e:
            raise SceneError(f"{scene + ': ' if scene else ''}--show linear-regions: {e}") \
                from None
        self.trace, self.extent, self.start = trace, extent, start
        self.segments = shared_edges(self.pieces, extent)              # (S, 2, 2)
        ends = self.segments.reshape(-1, 2)
        carried = trace.carry(ends, start=start) if len(ends) else []
        self._values = {start + i: v for i, v in enumerate(carried)}    # stage → (2S, d)
        self._display: dict[int, np.ndarray] = {}

    @property
    def count(self) -> int:
        return len(self.pieces)

    def display(self, k: int) -> np.ndarray:
        """(S, 2, 2) the edges at stage k, in its display coordinates."""
        if k not in self._display:
            if k < self.start:
                raise SceneError(f"the pieces live in the plane of stage {self.start}; stage "
                                 f"{k} comes before it")
            vals = self._values.get(k)
            if vals is None:                                           # no edges
                self._display[k] = np.zeros((0, 2, 2))
            else:
                self._display[k] = self.trace.projection(k)(vals).reshape(-1, 2, 2)
        return self._display[k]

    def at(self, k: int, alpha: float) -> np.ndarray:
        """(S, 2, 2) between stage k's base (alpha 0) and stage k (alpha 1), by the trace's
        one rule (:meth:`~spacefold.trace.Trace.display_at`): straight lines between the
        display positions. Stage ``start`` itself at any alpha."""
        if k == self.start or alpha >= 1.0:
            return self.display(k)
        base = self.trace.stages[k].base
        return (1.0 - alpha) * self.display(base) + alpha * self.display(k)

    def line(self, segments: np.ndarray, fade: float = 1.0) -> Line:
        """Segments (S, 2, 2) as one thin, faint polyline broken by NaN rows."""
        r, g, b, a = EDGE_COLOR
        return segments_line(segments[:, 0], segments[:, 1], (r, g, b, a * fade), EDGE_WIDTH)

    def label(self, where: tuple[float, float] = (0.015, 0.975)) -> Text:
        n = f"{self.count:,}".replace(",", " ")
        plane = "" if self.start == 0 else f" of stage {self.start}'s plane"
        return Text(where, f"{n} linear piece{'s' if self.count != 1 else ''}{plane} "
                           f"(edges drawn faint)", 13.0, (1.0, 1.0, 1.0, 0.75), va="top")
