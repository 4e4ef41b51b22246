"""A Timeline is a declarative scene: named segments, each a duration and a frame per alpha.

One interpolation contract, as in manim: ``segment.frame(alpha)`` with alpha 0 = start and
alpha 1 = end. Frame j (0-based) of an n-frame segment is drawn at alpha (j + 1) / n, so
every segment's last frame is exactly its target state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from spacefold.render.frame import Frame


def smooth(t: float) -> float:
    """Ease in and out (smoothstep): zero speed at both ends, like manim's ``smooth``."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class Segment:
    """``duration`` seconds of ``frame(alpha)``; ``key`` marks a stage still for contact sheets;
    ``still`` says the frame does not change with alpha (a pause: :meth:`Timeline.paced` adds
    none after it)."""

    name: str
    duration: float
    frame: Callable[[float], Frame] = field(repr=False)
    key: bool = True
    still: bool = False


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

    def paced(self, hold: float | None = None, duration: float | None = None) -> Timeline:
        """This timeline with a ``hold``-second pause after every key segment that moves (its
        end state held), then every segment scaled so the whole lasts ``duration`` seconds."""
        segs: list[Segment] = []
        for seg in self.segments:
            segs.append(seg)
            if hold and seg.key and not seg.still:
                segs.append(Segment(f"{seg.name} (hold)", hold, _held(seg.frame), key=False,
                                    still=True))
        poster = self.segments[self.poster_segment]
        poster_at = next(i for i, s in enumerate(segs) if s is poster)
        if duration is not None:
            f = duration / max(sum(s.duration for s in segs), 1e-9)
            segs = [replace(s, duration=s.duration * f) for s in segs]
        return Timeline(self.name, segs, dict(self.meta), poster_at)

    def segment_frames(self, fps: float) -> Iterator[tuple[int, int, Frame]]:
        """``(segment index, frame index within it, frame)`` for every frame at ``fps``."""
        for i, (seg, n) in enumerate(zip(self.segments, self.counts(fps), strict=True)):
            for j in range(n):
                yield i, j, seg.frame((j + 1) / n)

    def frames(self, fps: float) -> Iterator[Frame]:
        for seg, n in zip(self.segments, self.counts(fps), strict=True):
            for j in range(n):
                yield seg.frame((j + 1) / n)

    def poster(self) -> Frame:
        return self.segments[self.poster_segment].frame(1.0)

    def stills(self) -> list[Frame]:
        """One frame per key segment (its end state): the stages side by side in a PNG."""
        return [s.frame(1.0) for s in self.segments if s.key]


class Held:
    """A pause's frame function: ``of``'s end state at every alpha (what
    :meth:`Timeline.paced` holds after a segment; a video passes it on as repeats)."""

    def __init__(self, of: Callable[[float], Frame]) -> None:
        self.of = of

    def __call__(self, _alpha: float) -> Frame:
        return self.of(1.0)


def _held(frame: Callable[[float], Frame]) -> Callable[[float], Frame]:
    return Held(frame)

