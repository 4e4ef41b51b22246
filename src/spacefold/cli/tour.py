"""``spacefold tour``: every scene of the catalogue into a folder with a gallery page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from spacefold.cli.console import bar, say
from spacefold.cli.exits import interruptible
from spacefold.cli.flags import DurationOpt, FpsOpt, SizeOpt, ThemeOpt
from spacefold.cli.options import check_fps, check_look, pacing, parse_size
from spacefold.errors import RenderError
from spacefold.limits import MAX_HOLD, MAX_TOUR_JOBS
from spacefold.scenes import get_scene

# what a scene that cannot use a look option lacks (the tour draws it without the option)
LACKS = {"palette": "no class colours, or more classes than it has colours",
         "markers": "no points of a class"}


def tour_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Folder for <scene>.mp4, <scene>.png and index.html.",
        show_default=False)],
    size: SizeOpt = "1280x720",
    fps: FpsOpt = 30.0,
    scenes: Annotated[str | None, typer.Option(
        "--scenes", help="Comma-separated scenes to render (default: every scene that needs "
        "no model).", show_default=False)] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", help=f"Scenes rendered at once, each in its own process (1-{MAX_TOUR_JOBS}).")
    ] = 2,
    theme: ThemeOpt = "dark",
    palette: Annotated[str, typer.Option(
        "--palette", help="Class colours: default, or okabe-ito (colour-blind safe, up to 8 "
        "classes). Used by every scene that draws class colours; the others, and a scene "
        "with more classes than the palette has colours, keep the default, and the tour says "
        "which (refused when no scene can use it).")] = "default",
    markers: Annotated[str, typer.Option(
        "--markers", help="How points show their class: dots (colour alone), or shapes (a "
        "marker shape per class too; for greyscale print). Used by every scene whose points "
        "have a class; the others keep dots, and the tour says which (refused when no scene "
        "can use it).")] = "dots",
    hold: Annotated[float, typer.Option(
        "--hold", help=f"Seconds each video pauses at each stage (0-{MAX_HOLD:g}).")] = 1.0,
    duration: DurationOpt = None,
) -> None:
    """Render the whole catalogue into a folder with a gallery page (index.html).

    Example: spacefold tour -o out/
    """
    wh = parse_size(size)
    if wh[0] % 2 or wh[1] % 2:
        raise RenderError(f"--size {size!r}: the tour writes MP4s, which need an even width "
                          f"and height")
    check_fps(fps)
    look = check_look(theme, palette, markers)
    paced = pacing(hold, duration)
    if not 1 <= jobs <= MAX_TOUR_JOBS:
        raise RenderError(f"--jobs {jobs} is out of range; use 1-{MAX_TOUR_JOBS}")
    if output.exists() and not output.is_dir():
        raise RenderError(f"--output {str(output)!r} is a file; give a folder")
    chosen = None
    if scenes is not None:
        chosen = [x.strip() for x in scenes.split(",")]
        if not any(chosen):
            raise RenderError(f"--scenes {scenes!r} names no scene; leave it out for every "
                              f"scene that needs no model")
        if not all(chosen):
            raise RenderError(f"--scenes {scenes!r} has an empty name between its commas")
        for name in chosen:
            if get_scene(name).needs_model:
                raise RenderError(f"--scenes {name}: the {name} scene tells about your model; "
                                  f"the tour renders scenes that need none (spacefold render "
                                  f"{name} --model FILE)")
        twice = sorted({n for n in chosen if chosen.count(n) > 1})
        if twice:
            raise RenderError(f"--scenes names {', '.join(twice)} more than once")
    from spacefold.tour import check_looks, tour, tour_scenes

    todo = chosen or tour_scenes()
    check_looks(todo, (theme, palette, markers))
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    frames = bar(BarColumn(), MofNCompleteColumn(), TextColumn("frames"), TimeElapsedColumn())
    tasks: dict[str, Any] = {}

    def progress(scene: str, done: int, total: int) -> None:
        if scene not in tasks:
            tasks[scene] = frames.add_task(f"{scene} ({len(tasks) + 1}/{len(todo)})",
                                           total=total)
        frames.update(tasks[scene], completed=done, total=total)

    t0 = time.perf_counter()
    with interruptible(), frames:
        entries = tour(output, size=wh, fps=fps, scenes=todo, progress=progress, jobs=jobs,
                       **look, **paced)
    wall = time.perf_counter() - t0
    for e in entries:
        acc = f"  accuracy {100 * e.accuracy:.1f}%" if e.accuracy is not None else ""
        say(f"{e.name:16s} {e.seconds:6.1f} s  {e.frames:5d} frames{acc}")
    for option, value in (("palette", palette), ("markers", markers)):
        without = [e.name for e in entries if option in e.left_out]
        if without:
            say(f"drawn without --{option} {value} ({LACKS[option]}): {', '.join(without)}")
    say(f"wrote {len(entries)} scenes and {output / 'index.html'} in {wall:.1f} s "
        f"({jobs} at a time)")
