"""cli/options.py: each check passes a good value through and refuses a bad one in one line
naming the flag and what is allowed (bounds from spacefold.limits)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import spacefold.limits as limits
from spacefold.cli import options
from spacefold.errors import SpacefoldError


def test_sizes() -> None:
    assert options.parse_size(" 640 x 360 ") == (640, 360)
    assert options.parse_size(f"{limits.MAX_SIZE[0]}X{limits.MAX_SIZE[1]}") == limits.MAX_SIZE
    for bad in ("640", "640x", "-1x5", "640x360x2", f"{limits.MIN_SIZE[0] - 1}x100"):
        with pytest.raises(SpacefoldError, match="--size"):
            options.parse_size(bad)


def test_fps_seed_and_colours() -> None:
    assert options.check_fps(limits.MIN_FPS) == limits.MIN_FPS
    for bad in (math.nan, math.inf, limits.MAX_FPS * 2):
        with pytest.raises(SpacefoldError, match="--fps"):
            options.check_fps(bad)
    assert options.check_seed(None) is None
    assert options.check_seed(limits.MAX_SEED) == limits.MAX_SEED
    with pytest.raises(SpacefoldError, match=r"--seed 1{21}\.\.\. is out of range"):
        options.check_seed(int("1" * 40))                   # a long number is shown cut
    assert options.check_color_by("position") == "position"
    with pytest.raises(SpacefoldError, match="class, position"):
        options.check_color_by("rainbow")


def test_look_and_pacing_become_only_the_options_given() -> None:
    assert options.check_look("dark", "default") == {}
    assert options.check_look("light", "okabe-ito") == {"theme": "light", "palette": "okabe-ito"}
    with pytest.raises(SpacefoldError, match="--theme"):
        options.check_look("sepia", "default")
    assert options.pacing(None, None) == {} and options.pacing(0, None) == {"hold": 0}
    assert options.pacing(None, limits.MAX_DURATION) == {"duration": limits.MAX_DURATION}
    for hold, duration, flag in ((-1, None, "--hold"), (None, 0, "--duration"),
                                 (math.nan, None, "--hold")):
        with pytest.raises(SpacefoldError, match=flag):
            options.pacing(hold, duration)


def test_an_output_is_checked_before_any_work(tmp_path: Path) -> None:
    assert options.check_output(tmp_path / "a.png", (".png",), "output") == tmp_path / "a.png"
    (tmp_path / "d.png").mkdir()
    for path, says in ((tmp_path / "a.jpg", "unknown output suffix '.jpg'"),
                       (tmp_path / "d.png", "is a folder"),
                       (tmp_path / "no" / "a.png", "does not exist")):
        with pytest.raises(SpacefoldError, match=says):
            options.check_output(path, (".png",), "output")
    assert list(tmp_path.iterdir()) == [tmp_path / "d.png"]
