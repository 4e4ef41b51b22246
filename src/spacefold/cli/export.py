"""``spacefold export``: a network's trace as one interactive .html page (no server needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacefold.cli.console import names, say
from spacefold.cli.exits import interruptible
from spacefold.cli.flags import NO_FLAGS, ForceOpt, SceneFlags, complete_scene, with_scene_flags
from spacefold.cli.intake import repeated, scene_inputs
from spacefold.cli.options import check_output, check_seed
from spacefold.errors import RenderError, SpecError
from spacefold.scenes import SCENES, get_scene
from spacefold.scenes.api import one_trace
from spacefold.scenes.registry import HOMES

EXPORT_OPTIONS = ("model", "data")   # the scene options export's flags give (--stage: refused)


@with_scene_flags
def export_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="The .html file to write (one file, opens offline).",
        show_default=False)],
    scene: Annotated[str | None, typer.Argument(
        help=f"A scene whose network to export; one of: {names(HOMES)}. Omit it with "
        "--model.", autocompletion=complete_scene, show_default=False, metavar="[SCENE]")
    ] = None,
    flags: SceneFlags = NO_FLAGS,           # --model ... --seed (with_scene_flags)
    title: Annotated[str | None, typer.Option(
        "--title", help="Page title (default: the architecture).", show_default=False)] = None,
    force: ForceOpt = False,
) -> None:
    """Export a network's trace as one interactive .html file (no server needed).

    Example: spacefold export --model spiral.safetensors --data spiral -o spiral.html
    Example: spacefold export fold-222 -o fold.html
    """
    check_seed(flags.seed)
    if title is not None and not title.strip():
        raise RenderError("--title is empty; leave it out for the default (the architecture)")
    check_output(output, (".html",), "export", force)
    models = flags.model or []
    from spacefold.export import write_html
    from spacefold.trace import trace

    if scene is None:
        if not models and not flags.model_code:
            raise SpecError("give a SCENE (see `spacefold scenes`) or --model FILE")
        if flags.stage is not None:
            raise SpecError("--stage chooses the stage of a SCENE; give one")
        if twice := repeated(flags):
            raise SpecError(f"export writes one network: give one {twice}")
        options = scene_inputs(SCENES["layers"], flags, output=output)
        with interruptible():
            tr = trace(options["model"], options["data"])
        name = models[0].stem if models else (flags.model_code or [""])[0].rpartition(":")[2]
        page_title = title or f"{name} · {tr.meta.get('arch', '')}"
    else:
        entry = get_scene(scene)
        if not entry.traced:
            traced = ", ".join(n for n in sorted(SCENES) if SCENES[n].traced)
            raise RenderError(f"scene {scene!r} has no single network trace to export; "
                              f"one of: {traced}")
        if flags.stage is not None:
            raise SpecError("--stage picks the stage a video centres on; the page holds every "
                            "stage of the network, so leave it out")
        if twice := repeated(flags):
            raise SpecError(f"export writes one network's page; give one {twice} (scene "
                            f"{scene!r} with two compares them only in a video or picture)")
        options = scene_inputs(entry, flags, output=output, offered=EXPORT_OPTIONS)
        entry.check(options)
        with interruptible():
            tl = entry.build(**options)
        tr = one_trace(scene, tl, ".html")     # two networks compared are not one page
        page_title = title or f"{scene} · {tr.meta.get('arch', '')}".rstrip(" ·")
    # a name that is not UTF-8 (surrogate escapes) is shown with escapes, as on the terminal
    page_title = page_title.encode("utf-8", "backslashreplace").decode("utf-8")
    with interruptible():
        path = write_html(tr, output, title=page_title)
    say(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {len(tr.stages)} stages, "
        f"{tr.n} points)")
