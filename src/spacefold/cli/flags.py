"""The options several commands share, defined once; their choices and completions come from
the registries (datasets, activations, scenes) and their bounds from :mod:`spacefold.limits`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spacefold.cli.console import names
from spacefold.data import DATASETS
from spacefold.limits import MAX_FPS, MAX_SIZE, MIN_FPS, MIN_SIZE
from spacefold.model.spec import ACTIVATION_NAMES
from spacefold.scenes import SCENES


def complete_scene(incomplete: str) -> list[str]:
    return [s for s in sorted(SCENES) if s.startswith(incomplete)]


def complete_data(incomplete: str) -> list[str]:
    return [d for d in sorted(DATASETS) if d.startswith(incomplete)]


def complete_activation(incomplete: str) -> list[str]:
    return [a for a in sorted(ACTIVATION_NAMES) if a.startswith(incomplete)]


# -- how a video looks: `render` and `tour` ------------------------------------------------------
SizeOpt = Annotated[str, typer.Option(
    "--size", help=f"Frame size WIDTHxHEIGHT, {MIN_SIZE[0]}x{MIN_SIZE[1]} up to "
    f"{MAX_SIZE[0]}x{MAX_SIZE[1]}.")]
FpsOpt = Annotated[float, typer.Option(
    "--fps", help=f"Frames per second, in [{MIN_FPS:g}, {MAX_FPS:g}].")]
ThemeOpt = Annotated[str, typer.Option("--theme", help="dark, or light for slides and print.")]
PaletteOpt = Annotated[str, typer.Option(
    "--palette", help="Class colours: default, or okabe-ito (colour-blind safe, up to 8 "
    "classes).")]
DurationOpt = Annotated[float | None, typer.Option(
    "--duration", help="Seconds the whole video lasts: the scene is scaled to it.",
    show_default=False)]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace the output even when it is read-only.")]

# -- the data: `render`, `export` and `train` ---------------------------------------------------
DataOpt = Annotated[str | None, typer.Option(
    "--data", help=f"Data: one of {names(DATASETS)}, or a .csv / .npz file. "
    "Default: the data the model was trained on.", autocompletion=complete_data,
    show_default=False)]
ClassesOpt = Annotated[int | None, typer.Option(
    "--classes", help="Number of classes.", show_default=False)]
NOpt = Annotated[int | None, typer.Option("--n", help="Number of points.", show_default=False)]
NoiseOpt = Annotated[float | None, typer.Option(
    "--noise", help="Noise of the dataset.", show_default=False)]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", help="Seed of the dataset.", show_default=False)]

# -- the user's network: `render` and `export` -------------------------------------------------
ModelOpt = Annotated[list[Path] | None, typer.Option(
    "--model", help="Your network's weights: a spacefold checkpoint (`spacefold train`), a "
    "safetensors file, or a PyTorch state dict (.pt / .pth / .bin, read with "
    "weights_only=True; a pickled full model is refused, never unpickled). Repeat it for a "
    "scene that compares two (extrapolation).", show_default=False, metavar="FILE")]
ArchOpt = Annotated[str | None, typer.Option(
    "--arch", help="For a --model file without a spacefold spec: the layer widths, like "
    "2-100-2-5; the file's Linear weights are matched by order and shape, whatever their "
    "names.", show_default=False)]
ActivationOpt = Annotated[str | None, typer.Option(
    "--activation", help="With --arch: the hidden activation, or one per hidden layer "
    f"comma-separated ({', '.join(ACTIVATION_NAMES)}). Default: relu.",
    autocompletion=complete_activation, show_default=False)]
ModelCodeOpt = Annotated[str | None, typer.Option(
    "--model-code", help="FILE.py:NAME. RUNS THE CODE IN FILE.py: imports it and calls "
    "NAME() (a class or a factory) to build your nn.Module; with --model, loads those "
    "weights into it. Only for a file you trust; nothing runs without this option.",
    show_default=False, metavar="FILE.py:NAME")]
StageOpt = Annotated[int | None, typer.Option(
    "--stage", help="The stage the scene centres on (the bottleneck plane, the plane under "
    "the surfaces, fold-232's 3-unit stage, the wide layer). Default: the one the story "
    "needs.", show_default=False)]
RecordingOpt = Annotated[Path | None, typer.Option(
    "--recording", help="training scene: a recording of your training (sf.Recorder.save, "
    "or `spacefold train --record`).", show_default=False)]
