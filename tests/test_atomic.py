"""_atomic.py: outputs are written to a temp file beside the target and renamed on success,
so an error never leaves a half-written file: temp names within the file system's limit,
modes kept, one-line errors, and the stale temps of killed runs found by their target."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from spacefold import _atomic
from spacefold.errors import RenderError


def test_temp_names_fit_the_name_limit(tmp_path: Path) -> None:
    limit = _atomic.name_max(tmp_path)
    target = tmp_path / ("a" * (limit - 4) + ".npz")
    with _atomic.atomic_path(target) as tmp:
        assert len(Path(tmp).name.encode()) <= limit
        Path(tmp).write_bytes(b"x")
    assert target.read_bytes() == b"x"


def test_a_name_over_the_limit_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / ("a" * 300 + ".png")
    with pytest.raises(RenderError, match="bytes long; the file system takes at most"):
        with _atomic.atomic_path(target):
            pass


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    with _atomic.atomic_path(target) as tmp:
        Path(tmp).write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with _atomic.atomic_path(tmp_path / "new.png") as tmp:
            Path(tmp).write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o644


def test_write_error_inside_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="No space left on device"):
        with _atomic.atomic_path(tmp_path / "full.gif") as tmp:
            Path(tmp).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_of_the_target_only(tmp_path: Path) -> None:
    target = tmp_path / "k.mp4"
    day_old = time.time() - 2 * 24 * 3600
    old = tmp_path / f".k-{os.getpid()}-abcdefgh.mp4"          # this live process, but old
    dead = tmp_path / ".k-4194999-zzzzzzzz.mp4"                 # no such process
    fresh = tmp_path / f".k-{os.getpid()}-12345678.mp4"         # live and new: kept
    other = tmp_path / ".kk-4194999-zzzzzzzz.mp4"               # another target: kept
    wrong_suffix = tmp_path / ".k-4194999-zzzzzzzz.gif"         # another target: kept
    for p in (old, dead, fresh, other, wrong_suffix):
        p.write_bytes(b"x")
    os.utime(old, (day_old, day_old))
    assert _atomic.stale_temps(target) == sorted([old, dead])
    assert _atomic.remove_stale_temps(target) == sorted([old, dead])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (fresh, other, wrong_suffix))


def test_stale_temps_of_a_long_name_are_found(tmp_path: Path) -> None:
    target = tmp_path / ("b" * 250 + ".npz")
    # made by another process: the same cut of the stem whatever its pid's length
    with _atomic.atomic_path(target) as tmp:
        name = Path(tmp).name
    stem_part = name[:name.index(f"-{os.getpid()}-") + 1]
    left = tmp_path / f"{stem_part}4194999-qwertyui.npz"
    left.write_bytes(b"x")
    assert _atomic.stale_temps(target) == [left]


def test_a_missing_folder_or_a_folder_target_is_refused_before_any_work(tmp_path: Path) -> None:
    for target, why in ((tmp_path / "no" / "such" / "o.png", "does not exist"),
                        (tmp_path, "is a folder")):
        with pytest.raises(RenderError, match=why):
            with _atomic.atomic_path(target):
                raise AssertionError("the block ran")
    with pytest.raises(RenderError, match="longer than 4095 bytes"):
        _atomic.check_name(tmp_path / "/".join(["d" * 200] * 21) / "o.png")
    assert list(tmp_path.iterdir()) == []


def test_an_error_inside_the_block_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "o.npz"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match="boom"):
        with _atomic.atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"half")
            raise ValueError("boom")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
