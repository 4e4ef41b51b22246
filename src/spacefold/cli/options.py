"""Checks of the command line's values, made before any slow work: each raises a
:class:`SpacefoldError` with one line naming the bad value and what is allowed. Bounds come
from :mod:`spacefold.limits`."""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import spacefold._atomic as _atomic
from spacefold.cli.console import say, short
from spacefold.errors import DataError, RenderError
from spacefold.limits import MAX_DURATION, MAX_FPS, MAX_HOLD, MAX_SEED, MAX_SIZE, MIN_FPS, MIN_SIZE

COLOR_MODES = ("class", "position")  # the modes Trace.colors(by=...) accepts
CHECKPOINT_SUFFIX = ".safetensors"
VIDEO_SUFFIXES = (".mp4", ".gif")

_SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` → ``(1280, 720)``, within ``limits.MIN_SIZE`` .. ``MAX_SIZE``."""
    allowed = (f"width {MIN_SIZE[0]}-{MAX_SIZE[0]} and height {MIN_SIZE[1]}-{MAX_SIZE[1]}, "
               f"like 1280x720")
    m = _SIZE.match(text)
    if not m:
        raise RenderError(f"--size {text!r} is not WIDTHxHEIGHT; use {allowed}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise RenderError(f"--size {text!r} is out of range; use {allowed}")
    return w, h


def check_fps(fps: float) -> float:
    if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise RenderError(f"--fps {fps:g} is out of range; use a number in "
                          f"[{MIN_FPS:g}, {MAX_FPS:g}]")
    return fps


def check_seed(seed: int | None) -> int | None:
    if seed is not None and not 0 <= seed <= MAX_SEED:
        shown = str(seed) if len(str(seed)) <= 24 else f"{str(seed)[:21]}..."
        raise DataError(f"--seed {shown} is out of range; use an integer in [0, {MAX_SEED}]")
    return seed


def check_color_by(color_by: str | None) -> str | None:
    if color_by is not None and color_by not in COLOR_MODES:
        raise RenderError(f"unknown --color-by {color_by!r}; choose one of: "
                          f"{', '.join(COLOR_MODES)}")
    return color_by


def check_look(theme: str, palette: str, markers: str = "dots") -> dict[str, Any]:
    """--theme, --palette and --markers checked: the render options they become (only those
    given)."""
    from spacefold.colors import MARKERS, PALETTES, THEMES

    if theme not in THEMES:
        raise RenderError(f"unknown --theme {theme!r}; choose one of: {', '.join(THEMES)}")
    if palette not in PALETTES:
        raise RenderError(f"unknown --palette {palette!r}; choose one of: "
                          f"{', '.join(PALETTES)}")
    if markers not in MARKERS:
        raise RenderError(f"unknown --markers {markers!r}; choose one of: {', '.join(MARKERS)}")
    return {k: v for k, v in (("theme", theme), ("palette", palette), ("markers", markers))
            if v not in ("dark", "default", "dots")}


def pacing(hold: float | None, duration: float | None) -> dict[str, Any]:
    """--hold and --duration checked: the render options they become (only those given)."""
    if hold is not None and not (math.isfinite(hold) and 0 <= hold <= MAX_HOLD):
        raise RenderError(f"--hold {hold:g} is out of range; use seconds in [0, {MAX_HOLD:g}]")
    if duration is not None and not (math.isfinite(duration) and 0 < duration <= MAX_DURATION):
        raise RenderError(f"--duration {duration:g} is out of range; use seconds in "
                          f"(0, {MAX_DURATION:g}]")
    return {k: v for k, v in (("hold", hold), ("duration", duration)) if v is not None}


def check_output(path: Path, suffixes: Sequence[str], what: str, force: bool = False) -> Path:
    """Fail fast, before any slow work, on an output the command could not write: a wrong
    suffix, a folder, a name too long, a missing or read-only folder, or a read-only file
    (which ``--force`` replaces). Temp files of this output left by a killed run are removed
    (and named on stdout)."""
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        shown = suffix if len(suffix) <= 20 else f"{suffix[:17]}..."
        raise RenderError(f"output {short(path)!r}: unknown {what} suffix {shown or '(none)'!r}; "
                          f"use one of: {', '.join(suffixes)}")
    _atomic.check_name(path)
    try:
        if path.is_dir():
            raise RenderError(f"output {str(path)!r} is a folder; give a file name")
        folder = path.parent
        if not folder.is_dir():
            raise RenderError(f"output folder {str(folder)!r} does not exist; create it first")
    except OSError as e:
        raise RenderError(f"output {short(path)!r}: {e.strerror or e}") from None
    try:  # a real probe: os.access says yes to root even on read-only file systems
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise RenderError(f"cannot write to output folder {str(folder)!r}: "
                          f"{e.strerror or e}") from None
    if not force and _atomic.read_only(path):
        raise RenderError(f"output {str(path)!r} exists and is read-only; pass --force to "
                          f"replace it")
    gone = _atomic.remove_stale_temps(path)
    if gone:
        say(f"removed {len(gone)} temp file{'s' if len(gone) > 1 else ''} left by an earlier "
            f"run: {', '.join(g.name for g in gone)}")
    return path


def render_suffixes() -> tuple[str, ...]:
    """Output suffixes the render API writes (its ``SUFFIXES``)."""
    from spacefold.scenes.api import SUFFIXES

    return tuple(sorted(SUFFIXES))
