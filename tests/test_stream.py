"""render/stream.py: the frames a video encoder receives. A still segment's frames are passed
on as REPEAT instead of drawn again; expanded, the stream is byte for byte the one drawing
and cross-fading every frame gives (the reference below is the rule written out plainly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacefold.errors import RenderError
from spacefold.render import backend, encode
from spacefold.render.encode import REPEAT
from spacefold.render.frame import Frame, Line, Plot
from spacefold.render.stream import changed_boxes, video_frames
from spacefold.render.timeline import Held, Segment, Timeline, smooth

SIZE = (96, 64)


def _frame(caption: str, x: float) -> Frame:
    """A plot with one line whose end moves with ``x``, and a caption."""
    line = Line(np.array([[0.0, 0.0], [x, 1.0]]), "#ffcc00", 3.0)
    return Frame([((0.05, 0.2, 0.9, 0.7), Plot((0.0, 1.0, 0.0, 1.0), lines=[line]))],
                 caption=caption)


def _timeline() -> Timeline:
    """Every case: a still start, moves, a cut into a still, a still equal to the frame
    before it, a one-frame segment, then paced holds after every move."""
    segs = [
        Segment("input", 0.5, lambda a: _frame("the input", 0.2), still=True),
        Segment("move", 1.0, lambda a: _frame("moving", 0.2 + 0.6 * a)),
        Segment("cut to a still", 0.6, lambda a: _frame("a new caption", 0.8), still=True),
        Segment("same still", 0.4, lambda a: _frame("a new caption", 0.8), still=True),
        Segment("blink", 0.05, lambda a: _frame("one frame", 0.5)),
        Segment("back", 0.5, lambda a: _frame("back", 0.5 - 0.3 * a)),
    ]
    return Timeline("t", segs).paced(0.3)


def reference(tl: Timeline, fps: float, fade: int) -> list[np.ndarray]:
    """Every frame drawn; a cut adds (1 - t) of (last - start) over the whole frame."""
    b = backend(None, SIZE)
    out: list[np.ndarray] = []
    last: np.ndarray | None = None
    for seg, count in zip(tl.segments, tl.counts(fps), strict=True):
        n = min(fade, count - 1)
        jump = None
        if last is not None and n > 0:
            jump = last - b.draw(seg.frame(0.0)).astype(np.float32)
            jump = jump if np.abs(jump).max() > 0 else None
        for j in range(count):
            img = b.draw(seg.frame((j + 1) / count)).copy()
            if jump is not None and j < n:
                t = smooth((j + 1) / (n + 1))
                img = np.clip(img + (1 - t) * jump, 0, 255).round().astype(np.uint8)
            out.append(img)
        last = out[-1].astype(np.float32)
    return out


class Counting:
    def __init__(self) -> None:
        self.backend = backend(None, SIZE)
        self.calls = 0

    def draw(self, f: Frame) -> np.ndarray:
        self.calls += 1
        return self.backend.draw(f)


def expand(stream: Any) -> tuple[list[np.ndarray], int]:
    frames: list[np.ndarray] = []
    repeats = 0
    for f in stream:
        if f is REPEAT:
            repeats += 1
            frames.append(frames[-1])
        else:
            frames.append(f.copy())
    return frames, repeats


@pytest.mark.parametrize("fade", [0, 4])
def test_repeats_expand_to_every_frame_drawn(fade: int, monkeypatch: pytest.MonkeyPatch) -> None:
    tl = _timeline()
    fps = 20.0
    want = reference(tl, fps, fade)
    assert sum(isinstance(s.frame, Held) for s in tl.segments) == 3

    def never(self: Held, alpha: float) -> Frame:
        raise AssertionError("a pause after a segment was drawn")

    monkeypatch.setattr(Held, "__call__", never)     # its frames are known: repeats
    draw = Counting()
    got, repeats = expand(video_frames(tl, draw.draw, fps, fade))
    assert len(got) == len(want) == tl.n_frames(fps)
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert np.array_equal(a, b), f"frame {i} differs"
    # every hold and still segment is drawn at most once (more repeats than the holds alone)
    counts = tl.counts(fps)
    still = sum(c - 1 for s, c in zip(tl.segments, counts, strict=True) if s.still)
    assert repeats >= still - (fade - 1 if fade else 0)
    assert draw.calls <= len(want) - repeats + len(tl.segments)
    if fade:   # the fades happened: the cut into "a new caption" is mixed for a few frames
        assert any(not np.array_equal(got[i], got[i + 1]) for i in range(len(got) - 1))


def test_a_still_equal_to_the_frame_before_is_all_repeats() -> None:
    segs = [Segment("a", 0.5, lambda a: _frame("same", 0.5 * a)),
            Segment("hold", 1.0, lambda a: _frame("same", 0.5), still=True)]
    tl = Timeline("t", segs)
    stream = list(video_frames(tl, backend(None, SIZE).draw, 10.0, 3))
    assert all(f is REPEAT for f in stream[5:]) and len(stream) == 15
    assert all(f is not REPEAT for f in stream[:5])


def test_progress_hears_every_frame() -> None:
    tl = _timeline()
    seen: list[tuple[int, int]] = []
    n = sum(1 for _ in video_frames(tl, backend(None, SIZE).draw, 10.0, 2,
                                    lambda i, t: seen.append((i, t))))
    assert seen == [(i + 1, n) for i in range(n)]


def test_changed_boxes_cover_every_change_and_little_else() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (70, 90, 4), dtype=np.uint8)
    assert changed_boxes(a, a.copy()) == []
    b = a.copy()
    b[2, 3, 1] += 1               # top left
    b[5, 80, 3] += 1              # top right, same tile row
    b[69, 89, 0] += 1             # the last pixel (a partial tile)
    b[40:44, 30:50] += 1          # a block across tiles
    boxes = changed_boxes(a, b, tile=16)
    mask = np.zeros((70, 90), bool)
    for r, c in boxes:
        assert not mask[r, c].any()                  # disjoint
        mask[r, c] = True
    changed = (a != b).any(-1)
    assert mask[changed].all()                       # every change covered
    assert mask.sum() <= 16 * 16 * 2 + 16 * 16 * 4 + 6 * 10   # the tiles that changed
    assert (slice(0, 16), slice(0, 16)) in boxes and (slice(0, 16), slice(80, 90)) in boxes


class Recorder:
    """Stands in for the ffmpeg process: keeps the bytes it is sent."""

    sent: list[bytes] = []

    def __init__(self, path: str, *a: Any, **k: Any) -> None:
        Path(path).write_bytes(b"x")
        Recorder.sent = []

    def send(self, frame: np.ndarray) -> None:
        Recorder.sent.append(bytes(np.ascontiguousarray(frame).data))

    def finish(self) -> None:
        pass

    def kill(self) -> None:
        pass


def test_the_encoder_receives_the_same_bytes(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """Repeats send the previous frame's converted bytes again, also once the ring of
    buffers has gone round many times."""
    monkeypatch.setattr(encode, "_Encoder", Recorder)
    tl = _timeline()
    frames, _ = expand(video_frames(tl, backend(None, SIZE).draw, 20.0, 4))
    encode.write_mp4(tmp_path / "a.mp4", iter(frames), SIZE, 20.0)
    plain = Recorder.sent
    n = encode.write_mp4(tmp_path / "b.mp4", video_frames(tl, backend(None, SIZE).draw, 20.0, 4),
                         SIZE, 20.0)
    assert n == len(frames) and Recorder.sent == plain
    assert len(set(plain)) < len(plain)          # the stream held repeats


def test_a_real_video_and_gif_with_repeats(tmp_path: Path) -> None:
    tl = _timeline()
    n = encode.write_mp4(tmp_path / "v.mp4", video_frames(tl, backend(None, SIZE).draw, 10.0),
                         SIZE, 10.0)
    assert n == tl.n_frames(10.0) and (tmp_path / "v.mp4").stat().st_size > 0
    g = encode.write_gif(tmp_path / "v.gif", encode.copying(
        video_frames(tl, backend(None, SIZE).draw, 10.0)), 10.0)
    assert g == n
    from PIL import Image

    with Image.open(tmp_path / "v.gif") as im:      # identical neighbours merge in GIF
        assert 1 < im.n_frames <= n


@pytest.mark.parametrize("write", ["mp4", "gif"])
def test_a_stream_cannot_start_with_a_repeat(tmp_path: Path, write: str) -> None:
    with pytest.raises(RenderError, match="first frame"):
        if write == "mp4":
            encode.write_mp4(tmp_path / "r.mp4", iter([REPEAT]), SIZE, 10.0)
        else:
            encode.write_gif(tmp_path / "r.gif", iter([REPEAT]), 10.0)
    assert list(tmp_path.iterdir()) == []
