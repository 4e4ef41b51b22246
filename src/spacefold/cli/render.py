"""``spacefold scenes`` and ``spacefold render``: the catalogue, and one scene to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from spacefold.cli.console import err, frame_progress, names, out, say
from spacefold.cli.exits import interruptible
from spacefold.cli.flags import (
    NO_FLAGS,
    DurationOpt,
    ForceOpt,
    MarkersOpt,
    PaletteOpt,
    RecordingOpt,
    SceneFlags,
    ThemeOpt,
    complete_scene,
    with_scene_flags,
)
from spacefold.cli.intake import scene_inputs
from spacefold.cli.options import (
    COLOR_MODES,
    VIDEO_SUFFIXES,
    check_color_by,
    check_fps,
    check_look,
    check_output,
    check_seed,
    pacing,
    parse_size,
    render_suffixes,
)
from spacefold.errors import DataError, RenderError
from spacefold.limits import MAX_FPS, MAX_HOLD, MAX_SIZE, MIN_FPS, MIN_SIZE
from spacefold.scenes import SCENES, get_scene
from spacefold.scenes.registry import HOMES, SceneEntry
from spacefold.scenes.show import SHOW, show_help

FORMATS = (".gif", ".mp4", ".npz", ".png", ".html")     # the formats the help names


def scenes_cmd() -> None:
    """List the scenes you can render, each with a one-line description."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("scene", style="bold cyan", no_wrap=True)
    table.add_column("description")
    for name in sorted(SCENES):
        entry = SCENES[name]
        table.add_row(Text(name), Text(entry.description))
    if not SCENES:
        err().print("no scenes are registered")
    out().print(table)


@with_scene_flags
def render_cmd(
    scene: Annotated[str, typer.Argument(
        help=f"The scene to render; one of: {names(HOMES)} (see `spacefold scenes`).",
        autocompletion=complete_scene, show_default=False, metavar="SCENE")],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Output file; the format comes from the suffix: "
        f"{', '.join(FORMATS)} (.png: every stage side by side; .npz: the numbers of every "
        "stage; .html: the interactive page, as spacefold export).",
        show_default=False)],
    size: Annotated[str | None, typer.Option(
        "--size", help=f"Frame size WIDTHxHEIGHT, {MIN_SIZE[0]}x{MIN_SIZE[1]} up to "
        f"{MAX_SIZE[0]}x{MAX_SIZE[1]}; default 1280x720 (.mp4, .gif, .png).",
        show_default=False)] = None,
    fps: Annotated[float | None, typer.Option(
        "--fps", help=f"Frames per second, in [{MIN_FPS:g}, {MAX_FPS:g}]; default 30 (.mp4, "
        f".gif).", show_default=False)] = None,
    color_by: Annotated[str | None, typer.Option(
        "--color-by", help=f"Point colours: {' or '.join(COLOR_MODES)}. Default: class.",
        show_default=False)] = None,
    flags: SceneFlags = NO_FLAGS,           # --model ... --seed (with_scene_flags)
    recording: RecordingOpt = None,
    mnist: Annotated[Path | None, typer.Option(
        "--mnist", help="digits scene: a folder with the MNIST IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, optionally .gz) to use instead "
        "of the bundled 8x8 digits.", show_default=False)] = None,
    theme: ThemeOpt = "dark",
    palette: PaletteOpt = "default",
    markers: MarkersOpt = "dots",
    hold: Annotated[float | None, typer.Option(
        "--hold", help=f"Seconds the video pauses at each stage (0-{MAX_HOLD:g}).",
        show_default=False)] = None,
    duration: DurationOpt = None,
    show: Annotated[list[str] | None, typer.Option(
        "--show", help=f"What to add to a plane story; repeatable. {show_help()}",
        show_default=False)] = None,
    force: ForceOpt = False,
) -> None:
    """Render a scene to video (.mp4, .gif), a picture (.png) or raw stage data (.npz).

    Example: spacefold render fold-222 -o fold.mp4

    Example: spacefold render bottleneck --model model.pth --arch 2-100-2-5
    --activation relu,identity --data spiral --classes 5 -o b.mp4
    """
    # Everything cheap is checked first, so bad input fails in milliseconds.
    wh = parse_size("1280x720" if size is None else size)
    check_fps(30.0 if fps is None else fps)
    unused = [flag for flag, v, formats in (("--size", size, (".mp4", ".gif", ".png")),
                                            ("--fps", fps, VIDEO_SUFFIXES))
              if v is not None and output.suffix.lower() not in formats]
    if unused:
        raise RenderError(f"{' and '.join(unused)} {'do' if len(unused) > 1 else 'does'} "
                          f"nothing for a {output.suffix or 'suffix-less'} file")
    check_color_by(color_by)
    check_seed(flags.seed)
    look = check_look(theme, palette, markers)
    paced = pacing(hold, duration)
    if paced and output.suffix.lower() not in VIDEO_SUFFIXES:
        raise RenderError(f"--{next(iter(paced))} paces a video (.mp4, .gif), not a "
                          f"{output.suffix or 'suffix-less'} file")
    check_output(output, render_suffixes(), "output", force)
    if output.suffix.lower() in (".npz", ".html"):
        drawing = [f for f, v in (("--color-by", color_by), ("--stage", flags.stage),
                                  ("--show", show)) if v]
        if drawing:
            one = len(drawing) == 1
            raise RenderError(f"{' and '.join(drawing)} change{'s' * one} the drawing, and a "
                              f"{output.suffix} file holds the network's numbers at every "
                              f"stage: leave {'it' if one else 'them'} out")
    entry = get_scene(scene)
    # the scene's colourings, look and formats (its registry declarations), before any work
    from spacefold.scenes.api import check_scene

    check_scene(scene, output.suffix.lower(), color_by, {}, (theme, palette, markers))
    shown = show_options(entry, show or [])
    if mnist is not None:
        if not entry.takes("mnist"):
            raise RenderError(f"--mnist is an option of the digits scene, not of {scene!r}")
        if not mnist.is_dir():
            raise DataError(f"--mnist {str(mnist)!r} is not a folder")
    options = scene_inputs(entry, flags, recording=recording, color_by=color_by,
                           output=output)
    if mnist is not None:
        options["mnist"] = str(mnist)
    options.update(shown)

    from spacefold.export import render

    with interruptible(), frame_progress(render, f"rendering {scene}") as progress:
        if progress is not None:
            options["progress"] = progress
        given: dict[str, Any] = {k: v for k, v in (("size", None if size is None else wh),
                                                   ("fps", fps)) if v is not None}
        path = render(scene, output, **given, **options, **look, **paced)
    say(f"wrote {path}")


def show_options(entry: SceneEntry, show: list[str]) -> dict[str, bool]:
    """``--show`` choices (scenes/show.py's table) as the scene options they set, each checked
    to be one the scene's function takes."""
    options = {}
    twice = sorted({name for name in show if show.count(name) > 1})
    if twice:
        raise RenderError(f"--show {', '.join(twice)} given more than once; give each once")
    for name in show:
        if name not in SHOW:
            raise RenderError(f"unknown --show {name!r}; choose one of: {', '.join(SHOW)}")
        option = SHOW[name][0]
        if not entry.takes(option):
            takers = sorted(n for n in HOMES if SCENES[n].takes(option))
            raise RenderError(f"--show {name} is an option of {', '.join(takers)}, not of "
                              f"{entry.name!r}")
        options[option] = True
    return options
