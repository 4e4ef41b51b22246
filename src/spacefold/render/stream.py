"""A timeline as the stream of frames a video encoder receives: every frame drawn in turn,
cuts cross-faded, and the unchanged frames of a still segment passed on as
:data:`~spacefold.render.encode.REPEAT` instead of being drawn and converted again.

A cut cross-fades what it changes: the previous segment's last frame minus this segment's
start (alpha 0) is what jumps (caption, regions, titles); it is added to the first frames and
fades out, while what moves on (points, grid) is not doubled. The jump is kept only on the
16x16 tiles where pixels differ (usually the caption, a title, a highlight), so a fade costs
those, not a frame.

A still segment (:attr:`~spacefold.render.timeline.Segment.still`: its frame does not change
with alpha, as every hold of :meth:`~spacefold.render.timeline.Timeline.paced` is) is drawn
once: its first frame (the alpha-0 picture the cut is measured from, reused), the faded frames
of a cut into it, then the plain picture once; every frame after that is a repeat, and so is
its first frame when it equals the previous segment's last (a pause that
:meth:`~spacefold.render.timeline.Timeline.paced` put after a segment is known to, and is
not drawn at all). The encoder sends the previous
frame's converted bytes again, so the video is byte for byte the one drawing every frame
would give (a test holds this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from spacefold.render.encode import REPEAT, Repeat
from spacefold.render.frame import Frame
from spacefold.render.timeline import Held, Segment, Timeline, smooth

Draw = Callable[[Frame], np.ndarray]      # a backend's draw: the canvas, valid until next call


TILE = 16      # a cut's jump is kept in runs of 16x16 tiles that hold a changed pixel


class _Cut:
    """What jumps at a cut: ``last - start`` on the tiles where they differ."""

    def __init__(self, last: np.ndarray, start: np.ndarray,
                 boxes: list[tuple[slice, slice]]) -> None:
        self.boxes = boxes
        self.jumps = [last[b].astype(np.float32) - start[b].astype(np.float32) for b in boxes]

    def faded(self, img: np.ndarray, t: float, out: np.ndarray) -> np.ndarray:
        """``img`` with ``(1 - t)`` of the jump added back (into ``out``, a frame buffer: a
        backend keeps its canvas for the next frame)."""
        np.copyto(out, img)
        for box, jump in zip(self.boxes, self.jumps, strict=True):
            part = img[box] + (1 - t) * jump
            out[box] = np.clip(part, 0, 255).round().astype(np.uint8)
        return out


def changed_boxes(a: np.ndarray, b: np.ndarray, tile: int = TILE) -> list[tuple[slice, slice]]:
    """(rows, columns) boxes covering every pixel where frames ``a`` and ``b`` (H, W, 4)
    differ: per row of ``tile``-pixel tiles, one box per run of tiles that hold a changed
    pixel (a caption, a title, a highlight: not the frame between them). Empty when equal."""
    ne = a.view(np.uint32)[..., 0] != b.view(np.uint32)[..., 0]     # (H, W): one word a pixel
    h, w = ne.shape
    rows = np.flatnonzero(ne.any(axis=1))
    if not len(rows):
        return []
    out: list[tuple[slice, slice]] = []
    for r0 in range(rows[0] // tile * tile, rows[-1] + 1, tile):
        band = ne[r0:r0 + tile]
        cols = band.any(axis=0)
        if not cols.any():
            continue
        pad = -len(cols) % tile
        tiles = np.concatenate([cols, np.zeros(pad, bool)]).reshape(-1, tile).any(axis=1)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], tiles.view(np.int8), [0]])))
        rs = slice(r0, min(r0 + tile, h))
        out += [(rs, slice(int(c0) * tile, min(int(c1) * tile, w)))
                for c0, c1 in zip(edges[::2], edges[1::2], strict=True)]
    return out


def video_frames(tl: Timeline, draw: Draw, fps: float, fade: int = 0,
                 progress: Callable[[int, int], None] | None = None
                 ) -> Iterator[np.ndarray | Repeat]:
    """The frames of ``tl`` at ``fps``, drawn with ``draw``: (H, W, 4) uint8 arrays (valid
    until the next one is asked for) or :data:`REPEAT` (the previous frame again). Where one
    segment cuts to the next, the jump fades out over ``fade`` frames. ``progress(done,
    total)`` hears of every frame."""
    counts = tl.counts(fps)
    total = sum(counts)
    last: np.ndarray | None = None         # a copy of the previous segment's last frame
    out: np.ndarray | None = None          # where faded frames are composed
    done = 0
    prev: Segment | None = None
    for seg, count in zip(tl.segments, counts, strict=True):
        n = min(fade, count - 1)
        cut: _Cut | None = None
        start: np.ndarray | None = None
        # a pause after the segment before holds its last frame (never faded): all repeats
        same_as_last = last is not None and isinstance(seg.frame, Held) and prev is not None \
            and seg.frame.of is prev.frame
        prev = seg
        if last is not None and n > 0 and not same_as_last:
            start = draw(seg.frame(0.0))
            boxes = changed_boxes(last, start)
            same_as_last = not boxes
            cut = _Cut(last, start, boxes) if boxes else None
        shown: np.ndarray | None = None        # what the last frame yielded shows
        for j in range(count):
            fading = cut is not None and j < n
            if seg.still and (j > 0 and (cut is None or j > n) or j == 0 and same_as_last):
                frame: np.ndarray | Repeat = REPEAT
                if shown is None:              # the previous segment's last frame
                    shown = last
            else:
                # a still segment's picture is its alpha-0 frame, drawn for the cut already
                img = start if seg.still and start is not None else \
                    draw(seg.frame((j + 1) / count))
                if fading:
                    assert cut is not None
                    # faded into a buffer of our own: the backend keeps its canvas for the
                    # next frame, and a still segment's picture is shown plain after its fade
                    if out is None or out.shape != img.shape:
                        out = np.empty_like(img)
                    img = cut.faded(img, smooth((j + 1) / (n + 1)), out)
                frame = shown = img
            yield frame
            done += 1
            if progress is not None:
                progress(done, total)
        if shown is not None and shown is not last:
            if last is None or last.shape != shown.shape:
                last = np.empty_like(shown)
            np.copyto(last, shown)
