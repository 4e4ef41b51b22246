"""What the scene tests share: a timeline's segment by name, a frame's panels and texts, and
a tiny render that must decode and not be blank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spacefold.render.frame import Frame
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes import render


def segment(tl: Timeline, name: str) -> Segment:
    return next(s for s in tl.segments if s.name == name)


def panel(frame: Frame, kind: type[Any], i: int = 0) -> Any:
    found = [p for _, p in frame.panels if isinstance(p, kind)]
    return found[i]


def all_frames(tl: Timeline, fps: float = 8.0) -> list[Frame]:
    return list(tl.frames(fps))


def texts_of(frame: Frame) -> list[str]:
    return [t.text for _, p in frame.panels for t in p.texts]


def renders_tiny(name: str, tl: Timeline, tmp_path: Path) -> None:
    """``name`` renders a 192×108 MP4 of every frame and a PNG that is not blank."""
    assert 10.0 <= tl.duration <= 25.0
    assert isinstance(tl.meta.get("caption"), str) and tl.meta["caption"]
    mp4 = render(name, tmp_path / f"{name}.mp4", size=(192, 108), fps=4)
    av = pytest.importorskip("av")
    with av.open(str(mp4)) as f:
        frames = sum(1 for _ in f.decode(video=0))
    assert frames == tl.n_frames(4)
    png = render(name, tmp_path / f"{name}.png", size=(192, 108))   # a still: no fps
    from PIL import Image

    with Image.open(png) as im:
        a = np.asarray(im.convert("L"), dtype=np.float64)
    assert a.shape[0] >= 108 and a.shape[1] >= 192
    assert a.std() > 5.0, "the picture is not blank"
