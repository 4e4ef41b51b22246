"""A Timeline is a declarative scene: named segments, each a duration and a frame per alpha.

One interpolation contract, as in manim: ``segment.frame(alpha)`` with alpha 0 = start and
alpha 1 = end. Frame j (0-based) of an n-frame segment is drawn at alpha (j + 1) / n, so
every segment's last frame is exactly its target state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from spacefold.render.frame import Frame


def smooth(t: float) -> float:
    """Ease in and out (smoothstep): zero speed at both ends, like manim's ``smooth``."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class Segment:
    """``duration`` seconds of ``frame(alpha)``; ``key`` marks a stage still for contact sheets."""

    name: str
    duration: float
    frame: Callable[[float], Frame] = field(repr=False)
    key: bool = True


@dataclass
class Timeline:
    """An ordered list of segments plus facts for galleries (``meta``: accuracy, caption...)."""

    name: str
    segments: list[Segment]
    meta: dict[str, Any] = field(default_factory=dict)
    poster_segment: int = -1   # which segment's last frame is the poster

    def counts(self, fps: float) -> list[int]:
        """Frames per segment at ``fps``: at least one each."""
        return [max(1, round(s.duration * fps)) for s in self.segments]

    def n_frames(self, fps: float) -> int:
        return sum(self.counts(fps))

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    def frames(self, fps: float) -> Iterator[Frame]:
        for seg, n in zip(self.segments, self.counts(fps), strict=True):
            for j in range(n):
                yield seg.frame((j + 1) / n)

    def poster(self) -> Frame:
        return self.segments[self.poster_segment].frame(1.0)

    def stills(self) -> list[Frame]:
        """One frame per key segment (its end state): the stages side by side in a PNG."""
        return [s.frame(1.0) for s in self.segments if s.key]
