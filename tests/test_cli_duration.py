"""``--duration SECONDS``: a video of ``round(SECONDS * fps)`` frames, counted in the file the
command writes (each segment cut to whole frames where the time so far rounds; rounding each
segment on its own was off by up to a frame per segment); a duration shorter than a frame per
segment is one line, and no file."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from cli_helpers import assert_one_line_error, run
from spacefold.render.frame import Frame
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.api import paced


def mp4_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def gif_seconds(path: Path) -> float:
    total = 0
    with Image.open(path) as im:
        for i in range(im.n_frames):      # Pillow merges equal frames into longer ones
            im.seek(i)
            total += im.info["duration"]
    return total / 1000


@pytest.mark.parametrize(("scene", "fps", "seconds", "hold"), [
    ("fold-222", 7, 10.7, None), ("argmax-softmax", 10, 2, None),
    ("activations", 30, 3.3, "0.5"), ("fold-222", 24, 3.3, "1"), ("affine", 12.5, 5, "0"),
])
def test_a_video_has_the_frames_of_its_duration(scene: str, fps: float, seconds: float,
                                                hold: str | None, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v.mp4"
    code, _, err = run(capsys, "render", scene, "-o", out, "--size", "64x36", "--fps", fps,
                       "--duration", seconds, *(["--hold", hold] if hold else []))
    assert code == 0, err
    assert mp4_frames(out) == round(seconds * fps)


def test_a_gif_lasts_its_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v.gif"
    code, _, err = run(capsys, "render", "fold-222", "-o", out, "--size", "64x36", "--fps",
                       "10", "--duration", "4.3")
    assert code == 0, err
    assert gif_seconds(out) == pytest.approx(4.3, abs=0.01)


def test_a_duration_shorter_than_a_frame_per_step_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "v.mp4", "--size",
                       "64x36", "--duration", "0.1")
    assert_one_line_error(code, err, "duration 0.1 s", "3 frames at 30 fps", "'fold-222'")
    assert list(tmp_path.iterdir()) == []


def test_paced_cuts_segments_to_whole_frames_and_keeps_the_poster() -> None:
    blank = Frame([])
    segs = [Segment(f"s{i}", d, lambda a: blank, key=i % 2 == 0)
            for i, d in enumerate([0.33, 0.01, 1.26, 0.4, 0.07])]
    tl = Timeline("t", segs, poster_segment=2)
    for fps in (1, 7, 24, 29.97, 60):
        for seconds in (3.0, 7.77, 11.0):
            if round(seconds * fps) < 8:     # 5 segments and 3 pauses: a frame each at least
                with pytest.raises(Exception, match="steps of a frame at least"):
                    paced(tl, 0.5, seconds, fps)
                continue
            p = paced(tl, 0.5, seconds, fps)
            assert p.n_frames(fps) == round(seconds * fps)
            assert min(p.counts(fps)) >= 1
            assert p.segments[p.poster_segment].name == "s2"
    assert paced(tl, None, None, 30) is tl


def test_a_hold_shorter_than_half_a_frame_is_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Each pause lasts a frame at least: --hold 0.001 at 30 fps paused 33 ms at every stage."""
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "v.mp4", "--size",
                       "64x36", "--hold", "0.001")
    assert_one_line_error(code, err, "hold 0.001 s", "half a frame at 30 fps")
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "v.mp4", "--size",
                       "64x36", "--fps", "10", "--hold", "0.05")
    assert code == 0, err
