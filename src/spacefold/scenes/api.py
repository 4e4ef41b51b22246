"""``render``: any trace, timeline or scene name to a file; the format comes from the suffix."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spacefold.errors import RenderError
from spacefold.render import encode
from spacefold.render.timeline import Timeline
from spacefold.trace import Trace

SUFFIXES = (".mp4", ".gif", ".png", ".npz", ".html")
MAX_SIZE = (3840, 2160)
MAX_FRAMES = 100_000


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        w, h = int(size[0]), int(size[1])
    except (TypeError, ValueError, IndexError):
        raise RenderError(f"size {size!r} must be (width, height) in pixels") from None
    if not (16 <= w <= MAX_SIZE[0] and 16 <= h <= MAX_SIZE[1]):
        raise RenderError(f"size {w}x{h} must be between 16x16 and "
                          f"{MAX_SIZE[0]}x{MAX_SIZE[1]}")
    return w, h


def check_fps(fps: float) -> float:
    if not (isinstance(fps, (int, float)) and 0 < fps <= 120):
        raise RenderError(f"fps {fps!r} must be a number in (0, 120]")
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

        return timeline_of(target, color_by=color_by or "class", **options)
    if isinstance(target, str):
        from spacefold.scenes.registry import build_scene

        if color_by is not None:
            options["color_by"] = color_by
        return build_scene(target, **options)
    raise RenderError(f"cannot render a {type(target).__name__}; give a Trace, a Timeline "
                      f"or a scene name")


def render(target: Trace | Timeline | str, path: str | os.PathLike[str], *,
           size: tuple[int, int] = (1280, 720), fps: float = 30.0, color_by: str | None = None,
           still: str = "stages", progress: Callable[[int, int], None] | None = None,
           **options: Any) -> Path:
    """Render ``target`` to ``path``: .mp4 (H.264), .gif, .png (``still="stages"``: every key
    stage side by side; ``"poster"``: the poster frame), .npz (the raw stage data) or .html
    (the interactive viewer in one self-contained page).

    ``color_by`` ("class" or "position") and the other ``options`` go to the scene; a scene
    refuses one its function does not take.

    >>> import spacefold as sf
    >>> t = sf.trace(sf.build("2-2-2"), sf.dataset("cloud", n=50).x)
    >>> sf.render(t, "/tmp/sf-doctest.png", size=(320, 180)).name
    'sf-doctest.png'
    """
    p = Path(path)
    suffix = encode.check_suffix(p, SUFFIXES)
    size = check_size(size)
    fps = check_fps(fps)
    if still not in ("stages", "poster"):
        raise RenderError(f"still {still!r}: choose stages or poster")
    if suffix == ".mp4" and (size[0] % 2 or size[1] % 2):
        raise RenderError(f"size {size[0]}x{size[1]}: MP4 needs an even width and height")
    if not (p.parent if str(p.parent) else Path(".")).is_dir():
        raise RenderError(f"output folder {str(p.parent)!r} does not exist")
    if suffix == ".html":   # the interactive viewer, one self-contained page
        from spacefold.export import write_html

        tr = target if isinstance(target, Trace) else \
            to_timeline(target, color_by=color_by, **options).meta.get("trace")
        if not isinstance(tr, Trace):
            raise RenderError(f"{getattr(target, 'name', target)!r} has no single trace to "
                              f"export as .html")
        return write_html(tr, p)
    tl = to_timeline(target, color_by=color_by, **options)
    if suffix == ".npz":
        tr = target if isinstance(target, Trace) else tl.meta.get("trace")
        if not isinstance(tr, Trace):
            raise RenderError(f"scene {tl.name!r} has no single trace to export as .npz")
        return tr.to_npz(p)

    from spacefold.render import backend as render_backend

    backend = render_backend(None, size)
    if suffix == ".png":
        stills = [tl.poster()] if still == "poster" else tl.stills()
        images = [backend.draw(f).copy() for f in stills]
        encode.write_png(p, images[0] if len(images) == 1 else encode.contact_sheet(images))
        return p
    total = tl.n_frames(fps)
    if total > MAX_FRAMES:
        raise RenderError(f"{total} frames at {fps} fps is too many (at most {MAX_FRAMES})")

    def frames() -> Any:
        for i, f in enumerate(tl.frames(fps)):
            yield backend.draw(f)
            if progress is not None:
                progress(i + 1, total)

    if suffix == ".mp4":
        encode.write_mp4(p, frames(), size, fps)
    else:
        encode.write_gif(p, encode.copying(frames()), fps)
    backend.close()
    return p
