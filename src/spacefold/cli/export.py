"""``spacefold export``: a network's trace as one interactive .html page (no server needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacefold.cli.console import names, say
from spacefold.cli.exits import interruptible
from spacefold.cli.flags import (
    ActivationOpt,
    ArchOpt,
    ClassesOpt,
    DataOpt,
    ForceOpt,
    ModelCodeOpt,
    ModelOpt,
    NoiseOpt,
    NOpt,
    SeedOpt,
    StageOpt,
    complete_scene,
)
from spacefold.cli.intake import scene_inputs
from spacefold.cli.options import check_output, check_seed
from spacefold.errors import RenderError, SpecError
from spacefold.scenes import SCENES, get_scene
from spacefold.scenes.registry import HOMES


def export_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="The .html file to write (one file, opens offline).",
        show_default=False)],
    scene: Annotated[str | None, typer.Argument(
        help=f"A scene whose network to export; one of: {names(HOMES)}. Omit it with "
        "--model.", autocompletion=complete_scene, show_default=False, metavar="[SCENE]")
    ] = None,
    model: ModelOpt = None,
    arch: ArchOpt = None,
    activation: ActivationOpt = None,
    model_code: ModelCodeOpt = None,
    stage: StageOpt = None,
    data: DataOpt = None,
    classes: ClassesOpt = None,
    n: NOpt = None,
    noise: NoiseOpt = None,
    seed: SeedOpt = None,
    title: Annotated[str | None, typer.Option(
        "--title", help="Page title (default: the architecture).", show_default=False)] = None,
    force: ForceOpt = False,
) -> None:
    """Export a network's trace as one interactive .html file (no server needed).

    Example: spacefold export --model spiral.safetensors --data spiral -o spiral.html
    Example: spacefold export fold-222 -o fold.html
    """
    check_seed(seed)
    check_output(output, (".html",), "export", force)
    models = model or []
    from spacefold.export import write_html
    from spacefold.trace import Trace, trace

    if scene is None:
        if not models and model_code is None:
            raise SpecError("give a SCENE (see `spacefold scenes`) or --model FILE")
        if stage is not None:
            raise SpecError("--stage chooses the stage of a SCENE; give one")
        if len(models) > 1:
            raise SpecError("export writes one network: give one --model")
        options = scene_inputs(SCENES["layers"], models=models, arch=arch,
                               activation=activation, model_code=model_code, data=data,
                               classes=classes, n=n, noise=noise, seed=seed)
        with interruptible():
            tr = trace(options["model"], options["data"])
        name = models[0].stem if models else str(model_code).rpartition(":")[2]
        page_title = title or f"{name} · {tr.meta.get('arch', '')}"
    else:
        entry = get_scene(scene)
        options = scene_inputs(entry, models=models, arch=arch, activation=activation,
                               model_code=model_code, data=data, classes=classes, n=n,
                               noise=noise, seed=seed, stage=stage)
        entry.check(options)
        with interruptible():
            tl = entry.build(**options)
        found = tl.meta.get("trace")
        if not isinstance(found, Trace):
            raise RenderError(f"scene {scene!r} has no single network trace to export; try "
                              f"fold-222, spiral or bottleneck")
        tr = found
        page_title = title or f"{scene} · {tr.meta.get('arch', '')}".rstrip(" ·")
    # a name that is not UTF-8 (surrogate escapes) is shown with escapes, as on the terminal
    page_title = page_title.encode("utf-8", "backslashreplace").decode("utf-8")
    with interruptible():
        path = write_html(tr, output, title=page_title)
    say(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {len(tr.stages)} stages, "
        f"{tr.n} points)")
