"""``render``: any trace, timeline or scene name to a file; the format comes from the suffix."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

import spacefold.colors as colors
from spacefold.errors import RenderError
from spacefold.limits import (
    MAX_DATASET_CLASSES,
    MAX_DURATION,
    MAX_FPS,
    MAX_FRAMES,
    MAX_HOLD,
    MAX_SIZE,
    MIN_SIZE,
)
from spacefold.render import encode
from spacefold.render.stream import video_frames
from spacefold.render.timeline import Timeline
from spacefold.trace import Trace

SUFFIXES = (".mp4", ".gif", ".png", ".npz", ".html")
# the scene options that make a scene's trace (the network and its data): the only ones a
# .npz or .html of a scene takes (a colouring, a stage or --show only change the drawing)
TRACE_OPTIONS = ("model", "data", "mnist", "recording", "seed")
FADE_SECONDS = 0.3      # where one segment cuts to the next, the video cross-fades this long
# Writes a trace's interactive .html page. The viewer sits above the scenes (the export
# layer), so it is handed in: ``spacefold.render`` passes :func:`spacefold.export.write_html`.
PageWriter = Callable[[Trace, Path], Path]


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, str) or not isinstance(size, tuple | list) or len(size) != 2 or \
            not all(isinstance(v, Integral) and not isinstance(v, bool) for v in size):
        raise RenderError(f"size {size!r} must be (width, height), two whole numbers of "
                          f"pixels")
    w, h = int(size[0]), int(size[1])
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise RenderError(f"size {w}x{h} must be between {MIN_SIZE[0]}x{MIN_SIZE[1]} and "
                          f"{MAX_SIZE[0]}x{MAX_SIZE[1]}")
    return w, h


def check_fps(fps: float) -> float:
    if isinstance(fps, bool) or not (isinstance(fps, Real) and 0 < fps <= MAX_FPS):
        raise RenderError(f"fps {fps!r} must be a number in (0, {MAX_FPS:g}]")
    return float(fps)


def to_timeline(target: Trace | Timeline | str, color_by: str | None = None,
                **options: Any) -> Timeline:
    """A scene name, a Trace (told by the ``layers`` story) or a Timeline → Timeline.

    A scene gets exactly the options given (``color_by`` only when it is given): one its
    function does not take is an error naming those it does.
    """
    if isinstance(target, Timeline):
        if color_by is not None or options:
            given = ", ".join(sorted([*options, *(["color_by"] if color_by else [])]))
            raise RenderError(f"a Timeline is rendered as it is; it takes no {given}")
        return target
    if isinstance(target, Trace):
        from spacefold.scenes.layers import timeline_of
        from spacefold.scenes.story import StoryOptions

        # the story's own options, less those the story sets itself
        known = set(StoryOptions.__dataclass_fields__) - {"color_by", "scene", "extra_lines"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise RenderError(f"a trace is told by the layers story, which takes no "
                              f"{', '.join(unknown)} (it takes: color_by, "
                              f"{', '.join(sorted(known))})")
        return timeline_of(target, color_by=color_by or "class", **options)
    if isinstance(target, str):
        from spacefold.scenes.registry import build_scene

        if color_by is not None:
            options["color_by"] = color_by
        return build_scene(target, **options)
    raise RenderError(f"cannot render a {type(target).__name__}; give a Trace, a Timeline "
                      f"or a scene name")


def render(target: Trace | Timeline | str, path: str | os.PathLike[str], *,
           size: tuple[int, int] | None = None, fps: float | None = None,
           color_by: str | None = None, still: str | None = None,
           progress: Callable[[int, int], None] | None = None,
           theme: str | None = None, palette: str | None = None, markers: str | None = None,
           hold: float | None = None,
           duration: float | None = None, fade: float | None = None,
           page: PageWriter | None = None, **options: Any) -> Path:
    """Render ``target`` to ``path``: .mp4 (H.264), .gif, .png (``still="stages"``: every key
    stage side by side; ``"poster"``: the poster frame), .npz (the raw stage data) or .html
    (the interactive viewer in one self-contained page, written by ``page``; that is
    ``spacefold.render``, which passes the export layer's writer).

    ``color_by`` ("class" or "position") and the other ``options`` go to the scene; a scene
    refuses one its function does not take. ``theme`` ("dark", the default, or "light" for
    slides and print) and ``palette`` ("default" or "okabe-ito", colour-blind safe for up to
    8 classes) are how every video and still is drawn (:func:`spacefold.colors.look`), and
    ``markers="shapes"`` gives each class its own marker shape too (for greyscale print).
    A video pauses ``hold`` seconds at each stage, lasts ``duration`` seconds (the scene
    scaled) and cross-fades over ``fade`` seconds where one segment cuts to the next.
    Defaults: ``size`` (1280, 720), ``fps`` 30, ``still`` "stages", ``fade`` 0.3 s; an option
    the format does not use (``fps`` for a .png, ``size`` for .npz) is refused.

    >>> import spacefold as sf
    >>> t = sf.trace(sf.build("2-2-2"), sf.dataset("cloud", n=50).x)
    >>> sf.render(t, "/tmp/sf-doctest.png", size=(320, 180)).name
    'sf-doctest.png'
    """
    if not isinstance(path, str | os.PathLike):
        raise RenderError(f"path must be a file name (str or Path), got {type(path).__name__}")
    p = Path(path)
    suffix = encode.check_suffix(p, SUFFIXES)
    if still is not None and still not in ("stages", "poster"):
        raise RenderError(f"still {still!r}: choose stages or poster")
    unused = [name for name, v, formats in (
        ("size", size, (".mp4", ".gif", ".png")), ("fps", fps, (".mp4", ".gif")),
        ("still", still, (".png",)), ("fade", fade, (".mp4", ".gif")))
        if v is not None and suffix not in formats]
    if unused:
        raise RenderError(f"{' and '.join(unused)} {'do' if len(unused) > 1 else 'does'} "
                          f"nothing for a {suffix} file")
    size = (1280, 720) if size is None else size
    fps = 30.0 if fps is None else fps
    still = "stages" if still is None else still
    fade = FADE_SECONDS if fade is None else fade
    if suffix == ".html" and page is None:
        raise RenderError(f"output {str(p)!r}: .html pages are written by spacefold.render "
                          f"(the viewer is the export layer's)")
    size = check_size(size)
    fps = check_fps(fps)
    if still not in ("stages", "poster"):
        raise RenderError(f"still {still!r}: choose stages or poster")
    if suffix == ".gif" and fps > encode.GIF_MAX_FPS:
        raise RenderError(f"fps {fps:g}: a GIF shows at most {encode.GIF_MAX_FPS} frames a "
                          f"second; use an fps up to {encode.GIF_MAX_FPS}, or .mp4")
    if suffix == ".mp4" and (size[0] % 2 or size[1] % 2):
        raise RenderError(f"size {size[0]}x{size[1]}: MP4 needs an even width and height")
    if not (p.parent if str(p.parent) else Path(".")).is_dir():
        raise RenderError(f"output folder {str(p.parent)!r} does not exist")
    try:
        look = colors.check_look(theme or "dark", palette or "default", markers or "dots")
    except ValueError as e:
        raise RenderError(str(e)) from None
    pacing = [k for k, v in (("hold", hold), ("duration", duration)) if v is not None]
    if suffix not in (".mp4", ".gif") and pacing:
        raise RenderError(f"{' and '.join(pacing)} pace a video (.mp4, .gif), not a "
                          f"{suffix} file")
    if hold is not None and not (isinstance(hold, (int, float)) and 0 <= hold <= MAX_HOLD):
        raise RenderError(f"hold {hold!r} must be a number of seconds in [0, {MAX_HOLD:g}]")
    if duration is not None and not (isinstance(duration, (int, float))
                                     and 0 < duration <= MAX_DURATION):
        raise RenderError(f"duration {duration!r} must be a number of seconds in "
                          f"(0, {MAX_DURATION:g}]")
    if suffix in (".mp4", ".gif"):
        check_hold(hold, duration, fps)
    if isinstance(fade, bool) or not (isinstance(fade, Real) and 0 <= fade <= MAX_HOLD):
        raise RenderError(f"fade {fade!r} must be a number of seconds in [0, {MAX_HOLD:g}]")
    if suffix in (".html", ".npz") and (theme or palette or markers):
        raise RenderError(f"{suffix} output takes no theme, palette or markers (they are how a "
                          f"video or still is drawn; the viewer has its own switches)")
    if suffix in (".npz", ".html"):
        # such a file holds the trace: only what makes the trace may be given
        unused = sorted([*(["color_by"] if color_by is not None else []),
                         *(k for k in options
                           if k not in TRACE_OPTIONS or not isinstance(target, str))])
        if unused:
            raise RenderError(f"{', '.join(unused)} {'do' if len(unused) > 1 else 'does'} "
                              f"nothing for a {suffix} file: it holds every stage of the "
                              f"network's trace, not a drawing")
    if isinstance(target, str):     # a scene's options are checked before it is built
        check_scene(target, suffix, color_by, options, look)
    with colors.look(*look):
        return _render(target, p, suffix, size, fps, color_by, still, progress, options,
                       (hold, duration, float(fade)), page)


def paced(tl: Timeline, hold: float | None, duration: float | None, fps: float) -> Timeline:
    """``tl`` with a ``hold``-second pause at each stage and scaled to last ``duration``
    seconds (:meth:`Timeline.paced`), the video then ``round(duration * fps)`` frames long:
    each segment is cut to whole frames where the time so far rounds (rounding each one on
    its own was off by up to a frame per segment). A duration shorter than a frame per
    segment, and a hold shorter than half a frame, are refused in one line."""
    if not hold and duration is None:
        return tl
    check_hold(hold, duration, fps)
    tl = tl.paced(hold, duration)
    if duration is None:
        return tl
    n, want = len(tl.segments), round(duration * fps)
    if want < n:
        least = math.ceil(100 * n / fps) / 100
        raise RenderError(f"duration {duration:g} s is {want} frame{'s' * (want != 1)} at "
                          f"{fps:g} fps, but scene {tl.name!r} has {n} steps of a frame at "
                          f"least: give at least {least:g} s")
    segs, t, done = [], 0.0, 0
    for i, seg in enumerate(tl.segments):
        t += seg.duration
        end = want if i == n - 1 else min(max(done + 1, round(t * fps)), want - (n - 1 - i))
        segs.append(replace(seg, duration=(end - done) / fps))
        done = end
    return Timeline(tl.name, segs, tl.meta, tl.poster_segment)


def check_hold(hold: float | None, duration: float | None, fps: float) -> None:
    """A pause lasts a frame at least: a ``hold`` under half a frame (and no ``duration`` to
    scale it) is refused in one line."""
    if hold and duration is None and hold * fps < 0.5:
        least = math.ceil(1000 * 0.5 / fps) / 1000
        raise RenderError(f"hold {hold:g} s is less than half a frame at {fps:g} fps (a pause "
                          f"would last {1 / fps:.3g} s); give 0 for none, or at least "
                          f"{least:g} s")


def check_scene(name: str, suffix: str, color_by: str | None, options: dict[str, Any],
                look: tuple[str, str, str]) -> None:
    """Scene ``name``'s options, colouring and look, refused in one line (before any work)
    where the scene cannot use them (its registry declarations), and a .npz / .html of a
    scene that tells about no single network."""
    from spacefold.scenes.registry import get_scene

    entry = get_scene(name)
    entry.check({**options, **({"color_by": color_by} if color_by is not None else {})})
    if suffix in (".npz", ".html") and not entry.traced:
        raise RenderError(f"scene {name!r} has no single network trace to export as {suffix}")
    entry.check_look(color_by, look[1], look[2])


def draws_classes(tl: Timeline) -> bool:
    """Whether some frame of ``tl`` (the middle of each segment) has points with classes,
    which marker shapes are drawn for."""
    return any(getattr(panel, "classes", None) is not None
               for seg in tl.segments for _, panel in seg.frame(0.5).panels)


def classes_drawn(tl: Timeline) -> int:
    """How many classes the points of ``tl`` (the middle of each segment) are coloured by."""
    return max((int(np.max(c)) + 1 for seg in tl.segments for _, panel in seg.frame(0.5).panels
                if (c := getattr(panel, "classes", None)) is not None and len(c)), default=0)


def one_trace(target: Trace | Timeline | str, tl: Timeline | None, suffix: str) -> Trace:
    """The one network trace a .npz or .html holds: a scene that compares several (two
    networks side by side) is refused, not written with the first one alone."""
    if isinstance(target, Trace):
        return target
    assert tl is not None
    tr, many = tl.meta.get("trace"), tl.meta.get("traces") or ()
    if len(many) > 1:
        raise RenderError(f"scene {tl.name!r} compares {len(many)} networks and a {suffix} "
                          f"holds one network's trace; write each network on its own with "
                          f"scene 'layers'")
    if not isinstance(tr, Trace):
        raise RenderError(f"scene {tl.name!r} has no single trace to export as {suffix}")
    return tr


def _render(target: Trace | Timeline | str, p: Path, suffix: str, size: tuple[int, int],
            fps: float, color_by: str | None, still: str,
            progress: Callable[[int, int], None] | None, options: dict[str, Any],
            pacing: tuple[float | None, float | None, float],
            page: PageWriter | None) -> Path:
    if suffix == ".html" and page is not None:   # the interactive viewer, one page
        return page(one_trace(target, to_timeline(target, color_by=color_by, **options)
                               if not isinstance(target, Trace) else None, suffix), p)
    tl = to_timeline(target, color_by=color_by, **options)
    if suffix == ".npz":
        return one_trace(target, tl, suffix).to_npz(p)

    palette = colors.palette()
    if len(palette) < MAX_DATASET_CLASSES and classes_drawn(tl) > len(palette):
        raise RenderError(f"scene {tl.name!r} draws {classes_drawn(tl)} classes; palette "
                          f"okabe-ito has {len(palette)} colours (classes would share them)")
    if colors.markers() == "shapes" and not draws_classes(tl):
        raise RenderError(f"scene {tl.name!r} draws no points of a class: markers=shapes "
                          f"(--markers shapes) would change nothing")
    from spacefold.render import backend as render_backend

    backend = render_backend(None, size)
    if suffix == ".png":
        stills = [tl.poster()] if still == "poster" else tl.stills()
        images = [backend.draw(f).copy() for f in stills]
        sheet = (0x1a, 0x1a, 0x1f) if colors.theme().name == "dark" else (0xc9, 0xc9, 0xcf)
        encode.write_png(p, images[0] if len(images) == 1 else
                         encode.contact_sheet(images, background=sheet))
        return p
    hold, duration, fade = pacing
    tl = paced(tl, hold, duration, fps)
    total = tl.n_frames(fps)
    if total > MAX_FRAMES:
        raise RenderError(f"{total} frames at {fps} fps is too many (at most {MAX_FRAMES})")

    frames = video_frames(tl, backend.draw, fps, round(fade * fps), progress)
    if suffix == ".mp4":
        encode.write_mp4(p, frames, size, fps)
    else:
        encode.write_gif(p, encode.copying(frames), fps)
    backend.close()
    return p
