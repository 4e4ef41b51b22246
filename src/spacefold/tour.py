"""The tour: every scene of the catalogue to ``DIR/<scene>.mp4`` + ``DIR/<scene>.png`` and a
gallery page ``DIR/index.html`` that opens from disk with no server."""

from __future__ import annotations

import html
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import spacefold.colors as colors
from spacefold._atomic import atomic_path
from spacefold.colors import check_look
from spacefold.errors import RenderError
from spacefold.limits import MAX_TOUR_JOBS
from spacefold.render import encode
from spacefold.scenes import SCENES, build_scene
from spacefold.scenes.api import (
    MAX_DURATION,
    MAX_HOLD,
    check_fps,
    check_hold,
    check_size,
    classes_drawn,
    paced,
    render,
)

Progress = Callable[[str, int, int], None]   # (scene, frames done, frames total)


@dataclass
class TourEntry:
    name: str
    description: str
    caption: str
    accuracy: float | None
    test_accuracy: float | None
    seconds: float          # build + render, whole scene
    frames: int
    video: str
    poster: str
    left_out: tuple[str, ...] = ()   # the look options the tour was given but this scene
    # cannot use ("palette", "markers"): it was drawn without them


# The scenes that cost most (CPU of drawing + encoding, 1280x720 @ 30 fps with 1 s holds:
# 9-16 s each, the others 4-8 s) start first, so no long scene is left to run alone at the end.
LONG_FIRST = ("surfaces-softmax", "fold-232", "surfaces-argmax", "affine", "wide-layer",
              "extrapolation", "bottleneck")


def longest_first(names: Sequence[str]) -> list[str]:
    """``names`` in the order a pool of workers should start them: the long scenes first."""
    rank = {n: i for i, n in enumerate(LONG_FIRST)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))   # stable: catalogue order


def tour_scenes() -> list[str]:
    """Every registered scene that needs no user input (``layers`` needs a model)."""
    return [name for name, entry in SCENES.items() if not entry.needs_model]


def tour(out: str | Path, *, size: tuple[int, int] = (1280, 720), fps: float = 30.0,
         scenes: Sequence[str] | None = None, progress: Progress | None = None,
         jobs: int = 2, theme: str = "dark", palette: str = "default", markers: str = "dots",
         hold: float = 1.0, duration: float | None = None) -> list[TourEntry]:
    """Render ``scenes`` (default: all that need no model) into ``out`` with a gallery page.

    ``jobs`` scenes render at once in separate processes: one scene's single-threaded build
    (training, tracing) overlaps another's drawing and encoding, which keeps both cores busy
    (measured on the 2-D catalogue: 107 s with one job). With ``jobs > 1``, ``progress``
    hears of each scene when it is done. ``theme`` is every video's; ``palette`` and
    ``markers`` are those of every scene that draws class colours / points of a class, and
    the others are drawn without them, as is a scene with more classes than the palette has
    colours (each :attr:`TourEntry.left_out` names what its scene was drawn without; one that
    no scene can use is refused). Each video pauses ``hold`` seconds at each stage and lasts
    ``duration`` seconds when given (:func:`spacefold.render`). Everything is checked before
    the folder is made.
    """
    folder = Path(out)
    size, fps = check_size(size), check_fps(fps)
    if size[0] % 2 or size[1] % 2:
        raise RenderError(f"size {size[0]}x{size[1]}: the tour's MP4s need an even width "
                          f"and height")
    try:
        look = check_look(theme, palette, markers)
    except ValueError as e:
        raise RenderError(str(e)) from None
    if isinstance(hold, bool) or not (isinstance(hold, int | float) and 0 <= hold <= MAX_HOLD):
        raise RenderError(f"hold {hold!r} must be a number of seconds in [0, {MAX_HOLD:g}]")
    if duration is not None and (isinstance(duration, bool) or not (
            isinstance(duration, int | float) and 0 < duration <= MAX_DURATION)):
        raise RenderError(f"duration {duration!r} must be a number of seconds in "
                          f"(0, {MAX_DURATION:g}]")
    check_hold(hold, duration, fps)
    if isinstance(scenes, str):
        raise RenderError(f"scenes {scenes!r} must be a list of scene names, like "
                          f"['affine', 'spiral']")
    names = list(scenes) if scenes is not None else tour_scenes()
    if not names:
        raise RenderError("no scenes to render")
    for n in names:
        if n not in SCENES:
            raise RenderError(f"unknown scene {n!r}; choose from: {', '.join(sorted(SCENES))}")
        if SCENES[n].needs_model:
            raise RenderError(f"scene {n!r} tells about your model, and the tour renders the "
                              f"catalogue's own networks; use spacefold render {n} --model FILE")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RenderError(f"scenes {', '.join(twice)} named more than once")
    if isinstance(jobs, bool) or not (isinstance(jobs, int) and 1 <= jobs <= MAX_TOUR_JOBS):
        raise RenderError(f"jobs {jobs!r} must be a whole number in [1, {MAX_TOUR_JOBS}]")
    check_looks(names, look)
    made = [d for d in (folder, *folder.parents) if not d.exists()]    # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RenderError(f"cannot create output folder {str(folder)!r}: {e.strerror}") \
            from None
    try:
        return _tour(folder, names, size, fps, progress, jobs, look, (hold, duration))
    except BaseException:
        for d in made:        # a tour that wrote nothing leaves no folder it made behind
            if not d.is_dir() or any(d.iterdir()):
                break
            d.rmdir()
        raise


def _tour(folder: Path, names: list[str], size: tuple[int, int], fps: float,
          progress: Progress | None, jobs: int, look: tuple[str, str, str],
          pacing: tuple[float, float | None]) -> list[TourEntry]:
    done: dict[str, TourEntry] = {}
    t_start = time.perf_counter()

    def finished(entry: TourEntry) -> None:
        done[entry.name] = entry
        # a partial gallery is still a gallery, in the catalogue's order
        write_index(folder, [done[n] for n in names if n in done], size, fps,
                    wall=time.perf_counter() - t_start)

    if jobs == 1 or len(names) == 1:
        for name in names:
            cb = (lambda i, n, name=name: progress(name, i, n)) if progress else None
            finished(_render_scene(name, folder, size, fps, cb, look, pacing))
        return [done[n] for n in names]
    ctx = multiprocessing.get_context("spawn")   # a fresh interpreter: no inherited state
    workers = min(jobs, len(names))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=_one_thread if workers >= _cores() else None) as pool:
        futures = [pool.submit(_render_scene, name, folder, size, fps, None, look, pacing)
                   for name in longest_first(names)]
        for fut in as_completed(futures):
            try:
                entry = fut.result()
            except BaseException:
                pool.shutdown(cancel_futures=True)   # the error now, not after every scene
                raise
            finished(entry)
            if progress is not None:
                progress(entry.name, entry.frames, entry.frames)
    return [done[n] for n in names]


def scene_look(name: str, look: tuple[str, str, str]) -> tuple[str, str, str]:
    """Scene ``name``'s ``(theme, palette, markers)`` in a tour drawn in ``look``: the palette
    if it draws class colours, the markers if its points have a class (its registry
    declarations), else the defaults."""
    theme, palette, markers = look
    entry = SCENES[name]
    mode = entry.default_color()
    return (theme, palette if mode in entry.palette_by else "default",
            markers if mode in entry.classes_by else "dots")


def check_looks(names: Sequence[str], look: tuple[str, str, str]) -> None:
    """A palette or markers that none of the scenes ``names`` can use is refused."""
    looks = [scene_look(n, look) for n in names]
    for i, option, drawn in ((1, "palette", "class colours"), (2, "markers", "points of a class")):
        value = look[i]
        if value not in ("default", "dots") and all(v[i] != value for v in looks):
            raise RenderError(f"{option}={value} (--{option} {value}) would change nothing: "
                              f"{', '.join(names)} draw{'s' * (len(names) == 1)} no {drawn}")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not on Linux
        return os.cpu_count() or 1


def _one_thread() -> None:
    """A worker of a pool that fills every core: its video encoder and its 3-D rasterizer
    (llvmpipe) each run on one thread. Threads of their own would only take turns with the
    other workers' and cost CPU time of their own: measured on 2 cores, x264 takes 10-15 %
    less CPU on one thread (benchmarks/bench_encode.py), and surfaces-softmax 8 % less with
    llvmpipe on one. A user's LP_NUM_THREADS is kept."""
    os.environ.setdefault("LP_NUM_THREADS", "0")     # read when the GL context is made
    encode.THREADS = 1


def _render_scene(name: str, folder: Path, size: tuple[int, int], fps: float,
                  progress: Callable[[int, int], None] | None = None,
                  look: tuple[str, str, str] = ("dark", "default", "dots"),
                  pacing: tuple[float | None, float | None] = (None, None)) -> TourEntry:
    """Build one scene and write ``<name>.mp4`` and its poster ``<name>.png``, in the tour's
    ``look`` where the scene can use it (:func:`scene_look`; the default palette for a scene
    with more classes than ``look``'s palette has colours)."""
    t0 = time.perf_counter()
    theme, palette, markers = scene_look(name, look)
    with colors.look(theme, palette, markers):      # colours are picked as it is built
        tl = build_scene(name)
        fits = classes_drawn(tl) <= len(colors.palette())
    if not fits:
        palette = "default"
        with colors.look(theme, palette, markers):
            tl = build_scene(name)
    tl = paced(tl, *pacing, fps)
    total = tl.n_frames(fps)
    render(tl, folder / f"{name}.mp4", size=size, fps=fps, progress=progress, theme=theme,
           palette=palette, markers=markers)
    render(tl, folder / f"{name}.png", size=size, still="poster", theme=theme, palette=palette,
           markers=markers)
    meta = tl.meta
    left_out = [k for k, v, given in (("palette", palette, look[1]),
                                      ("markers", markers, look[2])) if v != given]
    return TourEntry(name, SCENES[name].description, str(meta.get("caption", "")),
                     _num(meta.get("accuracy")), _num(meta.get("test_accuracy")),
                     time.perf_counter() - t0, total, f"{name}.mp4", f"{name}.png",
                     tuple(left_out))


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) else None


def write_index(folder: Path, entries: list[TourEntry], size: tuple[int, int],
                fps: float, wall: float | None = None) -> Path:
    cards = []
    for e in entries:
        facts = [f"{e.frames} frames, {size[0]}x{size[1]} @ {fps:g} fps",
                 f"rendered in {e.seconds:.1f} s"]
        if e.accuracy is not None:
            facts.insert(0, f"train accuracy {100 * e.accuracy:.1f}%")
        if e.test_accuracy is not None:
            facts.insert(1, f"held-out accuracy {100 * e.test_accuracy:.1f}%")
        cards.append(f"""
<section id="{html.escape(e.name)}">
  <h2>{html.escape(e.name)}</h2>
  <video src="{html.escape(e.video)}" poster="{html.escape(e.poster)}" controls loop
         muted playsinline preload="none"></video>
  <p class="desc">{html.escape(e.caption or e.description)}</p>
  <p class="facts">{' · '.join(html.escape(f) for f in facts)}
     · <a href="{html.escape(e.poster)}">poster</a></p>
</section>""")
    total = wall if wall is not None else sum(e.seconds for e in entries)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>spacefold · the tour</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ background:#1a1a1f; color:#e8e8ee; font:16px/1.5 system-ui, sans-serif;
        margin:0 auto; max-width:1400px; padding:24px; }}
 h1 {{ font-weight:500; margin:0 0 4px; }}
 .lede {{ color:#b8b8c4; margin:0 0 24px; }}
 main {{ display:grid; grid-template-columns:repeat(auto-fill, minmax(560px, 1fr)); gap:28px; }}
 section {{ background:#222229; border-radius:10px; padding:14px 16px; }}
 h2 {{ font:600 18px ui-monospace, monospace; margin:0 0 10px; color:#fbc935; }}
 video {{ width:100%; border-radius:6px; background:#000; }}
 .desc {{ margin:10px 0 6px; }}
 .facts {{ color:#9a9aa8; font-size:13px; margin:0; }}
 a {{ color:#4fb3ff; }}
</style></head>
<body>
<h1>spacefold · what a neural network does to space</h1>
<p class="lede">Every picture below is computed from a real, trained network: the points and
the grid are carried through each layer — the matrix <code>W·x</code>, the shift
<code>+b</code>, the activation. {len(entries)} scenes rendered in {total:.0f} s.</p>
<main>{''.join(cards)}
</main>
</body></html>
"""
    path = folder / "index.html"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return path
