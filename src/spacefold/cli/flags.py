"""The options several commands share, defined once; their choices and completions come from
the registries (datasets, activations, scenes) and their bounds from :mod:`spacefold.limits`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from spacefold.cli.console import names
from spacefold.data import DATASETS
from spacefold.limits import MAX_FPS, MAX_SIZE, MIN_FPS, MIN_SIZE
from spacefold.model.spec import ACTIVATION_NAMES, params_help
from spacefold.scenes import SCENES


def complete_scene(incomplete: str) -> list[str]:
    return [s for s in sorted(SCENES) if s.startswith(incomplete)]


def complete_data(incomplete: str) -> list[str]:
    return [d for d in sorted(DATASETS) if d.startswith(incomplete)]


def complete_activation(incomplete: str) -> list[str]:
    return [a for a in sorted(ACTIVATION_NAMES) if a.startswith(incomplete)]


# --activation of `train`, and of a --model file without a spacefold spec (with --arch)
ACTIVATION_HELP = (
    f"The hidden activation ({', '.join(ACTIVATION_NAMES)}), or one per hidden layer, "
    "comma-separated. Parameters follow colons, in torch's order or by name: leaky_relu:0.2, "
    "elu:alpha=0.5, hardtanh:-2:2. Without them, torch's defaults, except leaky_relu's slope: "
    "0.1, where torch's nn.LeakyReLU() has 0.01 (give leaky_relu:0.01 for that). The "
    f"defaults: {params_help()}. Default: relu.")


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
MarkersOpt = Annotated[str, typer.Option(
    "--markers", help="How points show their class: dots (colour alone), or shapes (a marker "
    "shape per class too: circle, square, triangle, ...; for greyscale print).")]
DurationOpt = Annotated[float | None, typer.Option(
    "--duration", help="Seconds the whole video lasts: the scene is scaled to it.",
    show_default=False)]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace the output even when it is read-only.")]


def option(flag: str, help: str, **kw: Any) -> Any:
    """An option whose default (None: not given) the help does not show."""
    return typer.Option(flag, help=help, show_default=False, **kw)


# -- the data: `render`, `export` and `train` -----------------------------------------------------
DataOpt = Annotated[str | None, option(
    "--data", f"Data for your --model: one of {names(DATASETS)}, or a .csv / .npz file. "
    "Default: the data the model was trained on.", autocompletion=complete_data)]
def generators_taking(param: str) -> str:
    """The built-in datasets whose generator takes ``param`` (the others refuse it)."""
    return ", ".join(sorted(name for name, make in DATASETS.items()
                            if param in inspect.signature(make).parameters))


ClassesOpt = Annotated[int | None, option(
    "--classes", f"Number of classes ({generators_taking('classes')}).")]
NOpt = Annotated[int | None, option("--n", "Number of points.")]
NoiseOpt = Annotated[float | None, option(
    "--noise", f"Noise of the dataset ({generators_taking('noise')}).")]
SeedOpt = Annotated[int | None, option("--seed", "Seed of the dataset.")]
RecordingOpt = Annotated[Path | None, option(
    "--recording", "training scene: a recording of your training (sf.Recorder.save, or "
    "`spacefold train --record`).")]


@dataclass(frozen=True)
class SceneFlags:
    """The flags that give a scene the user's network and data (``render``, ``export``);
    None where not given."""

    model: list[Path] | None = None
    arch: list[str] | None = None           # once for every --model, or once per --model
    activation: list[str] | None = None
    model_code: list[str] | None = None
    stage: int | None = None
    data: str | None = None
    classes: int | None = None
    n: int | None = None
    noise: float | None = None
    seed: int | None = None


MODEL_REPEAT = " Repeat it for a scene that compares two (extrapolation)."   # not export's
# --arch, --activation and --model-code: one value for every --model, or one per --model
PAIRED_REPEAT = (" Give it once for every --model, or once per --model, paired in order (a "
                 "scene that compares two: extrapolation).")
NO_FLAGS = SceneFlags()                 # a command's default: with_scene_flags gives the real one
_SCENE_OPTIONS: dict[str, Any] = {     # SceneFlags field → its option, in --help order
    "model": Annotated[list[Path] | None, option(
        "--model", "Your network's weights: a spacefold checkpoint (`spacefold train`), a "
        "safetensors file, or a PyTorch state dict (.pt / .pth / .bin, read with "
        "weights_only=True; a pickled full model is refused, never unpickled)." + MODEL_REPEAT,
        metavar="FILE")],
    "arch": Annotated[list[str] | None, option(
        "--arch", "For a --model file without a spacefold spec: the layer widths, like "
        "2-100-2-5; the file's Linear weights are matched by order and shape, whatever their "
        "names." + PAIRED_REPEAT)],
    "activation": Annotated[list[str] | None, option(
        "--activation", f"With --arch: {ACTIVATION_HELP[0].lower()}{ACTIVATION_HELP[1:]}"
        + PAIRED_REPEAT, autocompletion=complete_activation)],
    "model_code": Annotated[list[str] | None, option(
        "--model-code", "FILE.py:NAME. RUNS THE CODE IN FILE.py: imports it and calls NAME() "
        "(a class or a factory) to build your nn.Module; with --model, loads those weights "
        "into it. Only for a file you trust; nothing runs without this option."
        + PAIRED_REPEAT, metavar="FILE.py:NAME")],
    "stage": Annotated[int | None, option(
        "--stage", "The stage the scene centres on (the bottleneck plane, the plane under the "
        "surfaces, fold-232's 3-unit stage, the wide layer). Default: the one the story "
        "needs. For .mp4, .gif and .png (a .npz or .html holds every stage).")],
    "data": DataOpt, "classes": ClassesOpt, "n": NOpt, "noise": NoiseOpt, "seed": SeedOpt,
}


def with_scene_flags(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with its ``flags: SceneFlags`` parameter spelled out as the options above
    (Typer reads a command's signature), which reach it gathered into one SceneFlags."""
    sig = inspect.signature(command, eval_str=True)
    params: list[inspect.Parameter] = []
    for p in sig.parameters.values():
        if p.name == "flags":
            params += [inspect.Parameter(name, p.kind, default=None, annotation=annotation)
                       for name, annotation in _SCENE_OPTIONS.items()]
        else:
            params.append(p)

    def run(**given: Any) -> None:
        flags = SceneFlags(**{name: given.pop(name) for name in _SCENE_OPTIONS})
        command(flags=flags, **given)

    run.__name__, run.__doc__ = command.__name__, command.__doc__
    run.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return run
