"""``spacefold``: the command line, a thin adapter over the public API.

    spacefold scenes
    spacefold render fold-222 -o fold.mp4 [--size 640x360] [--fps 30]
    spacefold train --data spiral --classes 5 --arch 2-100-2-5 -o spiral.safetensors
    spacefold render layers --model spiral.safetensors -o spiral.mp4
    spacefold render bottleneck --model model.pth --arch 2-100-2-5 --activation relu,identity \
        --data spiral --classes 5 -o b.mp4

Choices (scenes, datasets, activations) come from the registries, never typed twice. Every
user error is one line on stderr (``error: ...``) naming the bad value and what is allowed,
exit code 2; options are checked before any slow work, and outputs are written atomically,
so a failed command leaves no file behind.
"""

from __future__ import annotations

import os

# Our arrays are small and the video encoder runs beside us on the other core: BLAS and
# OpenMP thread pools only contend (a 1000x100 SVD measured 0.3-1.5 s instead of 20 ms).
# Set before numpy is imported; an explicit setting from the user wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hashlib
import inspect
import math
import re
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

import spacefold as sf
from spacefold import _atomic
from spacefold.data import DATASETS, Dataset, dataset, load_file
from spacefold.data.datasets import MAX_SEED
from spacefold.errors import DataError, RenderError, SpacefoldError, SpecError
from spacefold.limits import (
    MAX_DURATION,
    MAX_FPS,
    MAX_HOLD,
    MAX_SIZE,
    MAX_SNAPSHOTS,
    MIN_FPS,
    MIN_SIZE,
    MIN_SNAPSHOTS,
)
from spacefold.model.intake import CLI_NAMES, Loaded, read_model
from spacefold.model.spec import ACTIVATION_NAMES, ArchSpec
from spacefold.scenes import SCENES, get_scene
from spacefold.scenes.registry import HOMES, SceneEntry

# -- choices -----------------------------------------------------------------------------------
COLOR_MODES = ("class", "position")  # the modes Trace.colors(by=...) accepts
DATA_SUFFIXES = (".csv", ".npz")
CHECKPOINT_SUFFIX = ".safetensors"
# Used only when the render API does not publish its own list (``SUFFIXES``).
_DEFAULT_FORMATS = (".gif", ".mp4", ".npz", ".png")

EXIT_USAGE = 2         # bad input: the same code Click uses for usage errors
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143   # 128 + SIGTERM

out = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="spacefold",
    help="See what a neural network does inside: points and the grid of the plane carried "
         "through every layer (W·x, +b, activation), rendered as video and pictures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say(text: str) -> None:
    """A result line on stdout, unwrapped, with user strings never read as Rich markup (a
    file name that is not UTF-8 is shown with escapes, as Python shows it)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _names(registry: dict[str, Any]) -> str:
    return ", ".join(sorted(registry))


# -- errors ------------------------------------------------------------------------------------
class _Interrupted(Exception):
    """Ctrl-C inside a command (Typer would otherwise turn it into a silent exit 130)."""


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so every ``finally`` cleans up as for Ctrl-C
    (not a KeyboardInterrupt: Typer turns those into a silent exit 130)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


@contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """SIGTERM raises :class:`_Terminated` in the main thread while a command runs (the
    previous handler comes back after, for callers that run ``main`` in-process)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Typer >= 0.2x vendors Click; older versions use Click itself. ``typer.BadParameter`` is
# Click's BadParameter either way, so its ancestry names the right ClickException class.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _one_line(msg: str) -> str:
    return " ".join(part.strip() for part in str(msg).splitlines() if part.strip())


def _fail(msg: str, code: int) -> None:
    red = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    prefix = "\x1b[31merror:\x1b[0m" if red else "error:"
    sys.stderr.write(f"{prefix} {_one_line(msg)}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``spacefold`` command (and ``python -m spacefold``)."""
    command = typer.main.get_command(app)
    try:
        with _sigterm_as_exception(), warnings.catch_warnings():
            if not sys.warnoptions:   # an error is one line: no numpy/torch warnings around it
                warnings.simplefilter("ignore")
            rv = command.main(args=list(argv) if argv is not None else None,
                              prog_name="spacefold", standalone_mode=False)
    except SpacefoldError as e:
        _fail(str(e), EXIT_USAGE)
    except _Terminated:
        _fail("terminated", EXIT_TERMINATED)
    except (_Interrupted, KeyboardInterrupt, typer.Abort):
        _fail("interrupted", EXIT_INTERRUPTED)
    except _ClickException as e:  # usage errors: unknown option, missing argument, bad type
        if type(e).__name__ == "NoArgsIsHelpError":   # bare `spacefold`: the help is the answer
            out.print(e.format_message(), markup=False, highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
            raise SystemExit(0) from None
        _fail(e.format_message(), getattr(e, "exit_code", EXIT_USAGE))  # type: ignore[attr-defined]
    except OSError as e:   # reading or writing failed (disk full, a file gone): one line
        where = f" {e.filename!r}" if getattr(e, "filename", None) else ""
        _fail(f"cannot read or write{where}: {e.strerror or e}", EXIT_USAGE)
    raise SystemExit(rv if isinstance(rv, int) else 0)


@contextmanager
def _interruptible() -> Iterator[None]:
    try:
        yield
    except _Terminated:
        raise
    except KeyboardInterrupt:
        raise _Interrupted() from None


# -- option parsing (each raises SpacefoldError with a one-line message) -----------------------
_SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` → ``(1280, 720)``, within 16x16 .. 3840x2160."""
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


def check_output(path: Path, suffixes: Sequence[str], what: str, force: bool = False) -> Path:
    """Fail fast, before any slow work, on an output the command could not write: a wrong
    suffix, a folder, a name too long, a missing or read-only folder, or a read-only file
    (which ``--force`` replaces). Temp files of this output left by a killed run are removed
    (and named on stdout)."""
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        shown = suffix if len(suffix) <= 20 else f"{suffix[:17]}..."
        raise RenderError(f"output {_short(path)!r}: unknown {what} suffix {shown or '(none)'!r}; "
                          f"use one of: {', '.join(suffixes)}")
    _atomic.check_name(path)
    try:
        if path.is_dir():
            raise RenderError(f"output {str(path)!r} is a folder; give a file name")
        folder = path.parent
        if not folder.is_dir():
            raise RenderError(f"output folder {str(folder)!r} does not exist; create it first")
    except OSError as e:
        raise RenderError(f"output {_short(path)!r}: {e.strerror or e}") from None
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
        _say(f"removed {len(gone)} temp file{'s' if len(gone) > 1 else ''} left by an earlier "
             f"run: {', '.join(g.name for g in gone)}")
    return path


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:77]}..."


ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace the output even when it is read-only.")]


def _is_file_arg(data: str) -> bool:
    return data.lower().endswith(DATA_SUFFIXES) or os.sep in data or Path(data).is_file()


def _recipe_params(name: str, params: dict[str, Any], classes: int) -> dict[str, Any]:
    """The keyword arguments that remake dataset ``name`` (those its generator takes)."""
    takes = inspect.signature(DATASETS[name]).parameters
    full = {**params, "classes": classes}
    return {k: v for k, v in full.items() if k in takes}


def data_recipe(data: Dataset, source: str) -> dict[str, Any]:
    """What a checkpoint stores so a later render can recreate the training data: a file as
    its resolved path (a render from another folder finds it) and the SHA-256 of its bytes
    (a changed file is noticed), or a dataset's name and parameters."""
    if _is_file_arg(source):
        path = Path(source).resolve()
        return {"file": str(path), "sha256": _sha256(path)}
    return {"name": data.name, "params": _recipe_params(data.name, data.params, data.classes)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_data(data: str, *, classes: int | None = None, n: int | None = None,
              noise: float | None = None, seed: int | None = None,
              base: dict[str, Any] | None = None) -> Dataset:
    """``--data`` as a registered name (with its options) or a .csv / .npz file.

    ``base`` is a checkpoint's data recipe: options not given on the command line are taken
    from it when it names the same dataset.
    """
    check_seed(seed)
    if _is_file_arg(data):
        given = [f for f, v in (("--classes", classes), ("--n", n), ("--noise", noise))
                 if v is not None]
        if given:
            raise DataError(f"{', '.join(given)} apply to generated datasets, not to the file "
                            f"{data!r}; its points and labels come from the file")
        return load_file(data)
    if data not in DATASETS:
        raise DataError(f"unknown dataset {data!r}; choose one of: {_names(DATASETS)}, "
                        f"or a {' / '.join(DATA_SUFFIXES)} file")
    params: dict[str, Any] = {}
    if base and base.get("name") == data:
        params.update(base.get("params") or {})
    given_params = {"classes": classes, "n": n, "noise": noise, "seed": seed}
    params.update({k: v for k, v in given_params.items() if v is not None})
    return dataset(data, **params)


def _data_from_meta(meta: dict[str, Any], model_file: Path) -> Dataset | None:
    """The training data a checkpoint's recipe names, checked: a file that still exists and
    still has the bytes it was trained on, or a registered dataset with valid parameters."""
    recipe = meta.get("data") if isinstance(meta, dict) else None
    if not isinstance(recipe, dict):
        return None
    where = f"model file {_short(model_file)!r}"
    if "file" in recipe:
        file, digest = recipe["file"], recipe.get("sha256")
        if not isinstance(file, str) or not file.lower().endswith(DATA_SUFFIXES):
            raise DataError(f"{where}: its data recipe names no .csv / .npz file; pass --data")
        path = Path(file)
        if not path.is_file():
            raise DataError(f"{where} was trained on {_short(path)!r}, which no longer exists; "
                            f"pass --data")
        if isinstance(digest, str) and _sha256(path) != digest:
            raise DataError(f"{where} was trained on {_short(path)!r}, which has changed since "
                            f"(its SHA-256 differs); pass --data {_short(path)!r} to use it "
                            f"as it is now")
        return load_file(path)
    name = recipe.get("name")
    if not isinstance(name, str) or name not in DATASETS:
        shown = repr(name) if len(repr(name)) <= 40 else f"{repr(name)[:37]}..."
        raise DataError(f"{where} names dataset {shown}, which is not one of: "
                        f"{_names(DATASETS)}; pass --data")
    params = recipe.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise DataError(f"{where}: the parameters of its dataset {name!r} are not an object "
                        f"of names and values; pass --data")
    try:
        return dataset(name, **params)
    except DataError as e:
        raise DataError(f"{where}: its data recipe: {e}; pass --data") from None


# -- completion helpers (the registries again) --------------------------------------------------
# -- the user's model and data for a scene ----------------------------------------------------
# scene option -> the flag that gives it
COMPARING_SCENES = ("extrapolation",)   # the scenes whose model= may be a list of models
SCENE_FLAGS = {"model": "--model", "data": "--data", "stage": "--stage",
               "recording": "--recording", "color_by": "--color-by", "mnist": "--mnist"}


def _refuse_untaken(entry: SceneEntry, given: dict[str, str]) -> None:
    """``given``: scene option → the flag the user typed. A scene whose function does not
    take that option refuses it in one line, naming what it takes and which scenes do."""
    for option, flag in given.items():
        if entry.takes(option):
            continue
        takes = [SCENE_FLAGS[o] for o in entry.options() if o in SCENE_FLAGS]
        others = [n for n in sorted(SCENES) if SCENES[n].takes(option)]
        raise RenderError(f"scene {entry.name!r} takes no {flag} (it takes: "
                          f"{', '.join(takes) or 'none of the model or data options'}); "
                          f"scenes that take {SCENE_FLAGS.get(option, flag)}: "
                          f"{', '.join(others) or 'none'}")


def load_models(models: Sequence[Path], arch: str | None, activation: str | None,
                code: str | None) -> list[Loaded]:
    """``--model`` (repeatable), ``--arch``, ``--activation`` and ``--model-code`` through
    the one loader (spacefold.model.intake)."""
    if not models and code is None:
        if arch is not None or activation is not None:
            flags = " and ".join(f for f, v in (("--arch", arch), ("--activation", activation))
                                 if v is not None)
            raise SpecError(f"{flags} describe the network in a --model file without a "
                            f"spacefold spec; give --model FILE")
        return []
    if not models:
        return [read_model(None, arch=arch, activation=activation, code=code,
                           names=CLI_NAMES)]
    return [read_model(m, arch=arch, activation=activation, code=code, names=CLI_NAMES)
            for m in models]


def scene_inputs(entry: SceneEntry, *, models: Sequence[Path], arch: str | None,
                 activation: str | None, model_code: str | None, data: str | None,
                 classes: int | None, n: int | None, noise: float | None, seed: int | None,
                 stage: int | None = None, recording: Path | None = None,
                 color_by: str | None = None) -> dict[str, Any]:
    """The options a scene gets from the command line: only those given, and each only if
    the scene's function takes it (else one line, exit 2), checked before any slow work."""
    given: dict[str, str] = {}
    if models or model_code is not None:
        given["model"] = "--model" if models else "--model-code"
    data_flags = [f for f, v in (("--data", data), ("--classes", classes), ("--n", n),
                                 ("--noise", noise), ("--seed", seed)) if v is not None]
    if data_flags:
        given["data"] = data_flags[0]
    for option, value in (("stage", stage), ("recording", recording), ("color_by", color_by)):
        if value is not None:
            given[option] = SCENE_FLAGS[option]
    _refuse_untaken(entry, given)
    if len(models) > 1 and entry.name not in COMPARING_SCENES:
        raise SpecError(f"scene {entry.name!r} tells about one network; give one --model "
                        f"({', '.join(COMPARING_SCENES)} compares two)")
    if data is None and data_flags:
        raise DataError(f"{', '.join(data_flags)} need --data NAME (the dataset they shape)")
    if recording is not None and not recording.is_file():
        raise SpecError(f"--recording {str(recording)!r} does not exist")
    loaded = load_models(models, arch, activation, model_code)
    if entry.needs_model and not loaded:
        raise SpecError(f"scene {entry.name!r} needs --model FILE (a spacefold checkpoint, a "
                        f"safetensors file or a PyTorch state dict) or --model-code FILE.py:NAME")
    options: dict[str, Any] = {}
    meta = loaded[0].meta if loaded else {}
    ds: Dataset | None = None
    if data is not None:
        ds = load_data(data, classes=classes, n=n, noise=noise, seed=seed,
                       base=meta.get("data") if isinstance(meta.get("data"), dict) else None)
    elif loaded:
        ds = _data_from_meta(meta, Path(loaded[0].source))
        if ds is None and entry.needs_model:
            raise DataError(f"model {loaded[0].source!r} does not say which data it was "
                            f"trained on; pass --data ({_names(DATASETS)} or a .csv / .npz "
                            f"file)")
    if loaded and ds is not None:
        d_in = loaded[0].arch.split("-")[0]
        if d_in.isdigit() and int(d_in) != ds.dim:
            raise DataError(f"model {loaded[0].source!r} ({loaded[0].arch}) takes {d_in}-D "
                            f"input but data {ds.name!r} is {ds.dim}-D")
    if loaded:
        options["model"] = loaded[0].model if len(loaded) == 1 else [m.model for m in loaded]
    if ds is not None:
        options["data"] = ds
    if stage is not None:
        options["stage"] = stage
    if recording is not None:
        options["recording"] = sf.Recorder.load(recording)
    if color_by is not None:
        options["color_by"] = color_by
    return options


def _complete_scene(incomplete: str) -> list[str]:
    return [s for s in sorted(SCENES) if s.startswith(incomplete)]


def _complete_data(incomplete: str) -> list[str]:
    return [d for d in sorted(DATASETS) if d.startswith(incomplete)]


def _complete_activation(incomplete: str) -> list[str]:
    return [a for a in sorted(ACTIVATION_NAMES) if a.startswith(incomplete)]


# -- commands ----------------------------------------------------------------------------------
def _version(value: bool) -> None:
    if value:
        _say(f"spacefold {sf.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """See what a neural network does inside."""


@app.command("scenes")
def scenes_cmd() -> None:
    """List the scenes you can render, each with a one-line description."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("scene", style="bold cyan", no_wrap=True)
    table.add_column("description")
    for name in sorted(SCENES):
        entry = SCENES[name]
        table.add_row(Text(name), Text(entry.description))
    if not SCENES:
        err.print("no scenes are registered")
    out.print(table)


def _formats() -> tuple[str, ...]:
    """Output suffixes the render API writes (its ``SUFFIXES``)."""
    try:
        from spacefold.scenes import api
    except ImportError:
        return _DEFAULT_FORMATS
    fmts = getattr(api, "SUFFIXES", None)
    if not fmts:
        return _DEFAULT_FORMATS
    return tuple(sorted(s if s.startswith(".") else f".{s}" for s in fmts))


# Options that `render` and `export` share (data for a model that needs it), defined once.
DataOpt = Annotated[str | None, typer.Option(
    "--data", help=f"Data: one of {_names(DATASETS)}, or a .csv / .npz file. "
    "Default: the data the model was trained on.", autocompletion=_complete_data,
    show_default=False)]
ClassesOpt = Annotated[int | None, typer.Option(
    "--classes", help="Number of classes.", show_default=False)]
NOpt = Annotated[int | None, typer.Option("--n", help="Number of points.", show_default=False)]
NoiseOpt = Annotated[float | None, typer.Option(
    "--noise", help="Noise of the dataset.", show_default=False)]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", help="Seed of the dataset.", show_default=False)]
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
    autocompletion=lambda incomplete: _complete_activation(incomplete), show_default=False)]
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


@app.command("render")
def render_cmd(
    scene: Annotated[str, typer.Argument(
        help=f"The scene to render; one of: {_names(HOMES)} (see `spacefold scenes`).",
        autocompletion=_complete_scene, show_default=False, metavar="SCENE")],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Output file; the format comes from the suffix: "
        f"{', '.join(_DEFAULT_FORMATS)} (.png: every stage side by side).",
        show_default=False)],
    size: Annotated[str, typer.Option(
        "--size", help=f"Frame size WIDTHxHEIGHT, {MIN_SIZE[0]}x{MIN_SIZE[1]} up to "
        f"{MAX_SIZE[0]}x{MAX_SIZE[1]}.")] = "1280x720",
    fps: Annotated[float, typer.Option(
        "--fps", help=f"Frames per second, in [{MIN_FPS:g}, {MAX_FPS:g}].")] = 30.0,
    color_by: Annotated[str | None, typer.Option(
        "--color-by", help=f"Point colours: {' or '.join(COLOR_MODES)}. Default: class.",
        show_default=False)] = None,
    model: ModelOpt = None,
    arch: ArchOpt = None,
    activation: ActivationOpt = None,
    model_code: ModelCodeOpt = None,
    stage: StageOpt = None,
    recording: RecordingOpt = None,
    data: DataOpt = None,
    classes: ClassesOpt = None,
    n: NOpt = None,
    noise: NoiseOpt = None,
    seed: SeedOpt = None,
    mnist: Annotated[Path | None, typer.Option(
        "--mnist", help="digits scene: a folder with the MNIST IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, optionally .gz) to use instead "
        "of the bundled 8x8 digits.", show_default=False)] = None,
    theme: Annotated[str, typer.Option(
        "--theme", help="dark, or light for slides and print.")] = "dark",
    palette: Annotated[str, typer.Option(
        "--palette", help="Class colours: default, or okabe-ito (colour-blind safe, "
        "up to 8 classes).")] = "default",
    hold: Annotated[float | None, typer.Option(
        "--hold", help=f"Seconds the video pauses at each stage (0-{MAX_HOLD:g}).",
        show_default=False)] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Seconds the whole video lasts: the scene is scaled to it.",
        show_default=False)] = None,
    show: Annotated[str | None, typer.Option(
        "--show", help="math: each stage shows its equation with the numbers (W·x with the "
        "matrix up to 3x3, + b, the activation's formula).", show_default=False)] = None,
    force: ForceOpt = False,
) -> None:
    """Render a scene to video (.mp4, .gif), a picture (.png) or raw stage data (.npz).

    Example: spacefold render fold-222 -o fold.mp4

    Example: spacefold render bottleneck --model model.pth --arch 2-100-2-5
    --activation relu,identity --data spiral --classes 5 -o b.mp4
    """
    # Everything cheap is checked first, so bad input fails in milliseconds.
    wh = parse_size(size)
    check_fps(fps)
    if color_by is not None and color_by not in COLOR_MODES:
        raise RenderError(f"unknown --color-by {color_by!r}; choose one of: "
                          f"{', '.join(COLOR_MODES)}")
    check_seed(seed)
    look = _check_look(theme, palette)
    pacing = _pacing(hold, duration)
    if pacing and output.suffix.lower() not in (".mp4", ".gif"):
        raise RenderError(f"--{next(iter(pacing))} paces a video (.mp4, .gif), not a "
                          f"{output.suffix or 'suffix-less'} file")
    check_output(output, _formats(), "output", force)
    entry = get_scene(scene)
    if mnist is not None:
        if not entry.takes("mnist"):
            raise RenderError(f"--mnist is an option of the digits scene, not of {scene!r}")
        if not mnist.is_dir():
            raise DataError(f"--mnist {str(mnist)!r} is not a folder")
    options = scene_inputs(entry, models=model or [], arch=arch, activation=activation,
                           model_code=model_code, data=data, classes=classes, n=n,
                           noise=noise, seed=seed, stage=stage, recording=recording,
                           color_by=color_by)

    if mnist is not None:
        options["mnist"] = str(mnist)
    if show is not None:
        if show != "math":
            raise RenderError(f"unknown --show {show!r}; choose: math")
        if not entry.takes("show_math"):
            takers = sorted(n for n in HOMES if SCENES[n].takes("show_math"))
            raise RenderError(f"--show math is an option of {', '.join(takers)}, not of "
                              f"{scene!r}")
        options["show_math"] = True

    from spacefold.export import render

    with _interruptible(), _frame_progress(render, f"rendering {scene}") as progress:
        if progress is not None:
            options["progress"] = progress
        path = render(scene, output, size=wh, fps=fps, **options, **look,
                      **_pacing(hold, duration))
    _say(f"wrote {path}")


def _check_look(theme: str, palette: str) -> dict[str, Any]:
    """--theme and --palette checked: the render options they become (only those given)."""
    from spacefold.colors import PALETTES, THEMES

    if theme not in THEMES:
        raise RenderError(f"unknown --theme {theme!r}; choose one of: {', '.join(THEMES)}")
    if palette not in PALETTES:
        raise RenderError(f"unknown --palette {palette!r}; choose one of: "
                          f"{', '.join(PALETTES)}")
    return {k: v for k, v in (("theme", theme), ("palette", palette))
            if v not in ("dark", "default")}


def _pacing(hold: float | None, duration: float | None) -> dict[str, Any]:
    """--hold and --duration checked: the render options they become (only those given)."""
    if hold is not None and not (math.isfinite(hold) and 0 <= hold <= MAX_HOLD):
        raise RenderError(f"--hold {hold:g} is out of range; use seconds in [0, {MAX_HOLD:g}]")
    if duration is not None and not (math.isfinite(duration) and 0 < duration <= MAX_DURATION):
        raise RenderError(f"--duration {duration:g} is out of range; use seconds in "
                          f"(0, {MAX_DURATION:g}]")
    return {k: v for k, v in (("hold", hold), ("duration", duration)) if v is not None}


@contextmanager
def _frame_progress(render: Callable[..., Any], label: str
                    ) -> Iterator[Callable[..., None] | None]:
    """A Rich bar fed by the render API's ``progress(done, total)`` callback, if it has one."""
    if "progress" not in inspect.signature(render).parameters:
        yield None
        return
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("frames"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task(label, total=None)

    def progress(done: int, total: int | None = None, *_: Any) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield progress


@app.command("tour")
def tour_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Folder for <scene>.mp4, <scene>.png and index.html.",
        show_default=False)],
    size: Annotated[str, typer.Option(
        "--size", help=f"Frame size WIDTHxHEIGHT, {MIN_SIZE[0]}x{MIN_SIZE[1]} up to "
        f"{MAX_SIZE[0]}x{MAX_SIZE[1]}.")] = "1280x720",
    fps: Annotated[float, typer.Option(
        "--fps", help=f"Frames per second, in [{MIN_FPS:g}, {MAX_FPS:g}].")] = 30.0,
    scenes: Annotated[str | None, typer.Option(
        "--scenes", help="Comma-separated scenes to render (default: every scene that needs "
        "no model).", show_default=False)] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", help="Scenes rendered at once, each in its own process (1-16).")] = 2,
    theme: Annotated[str, typer.Option(
        "--theme", help="dark, or light for slides and print.")] = "dark",
    palette: Annotated[str, typer.Option(
        "--palette", help="Class colours: default, or okabe-ito (colour-blind safe, "
        "up to 8 classes).")] = "default",
    hold: Annotated[float, typer.Option(
        "--hold", help=f"Seconds each video pauses at each stage (0-{MAX_HOLD:g}).")] = 1.0,
    duration: Annotated[float | None, typer.Option(
        "--duration", help="Seconds each video lasts: its scene is scaled to it.",
        show_default=False)] = None,
) -> None:
    """Render the whole catalogue into a folder with a gallery page (index.html).

    Example: spacefold tour -o out/
    """
    wh = parse_size(size)
    check_fps(fps)
    look = _check_look(theme, palette)
    _pacing(hold, duration)
    if output.exists() and not output.is_dir():
        raise RenderError(f"--output {str(output)!r} is a file; give a folder")
    names = None
    if scenes is not None:
        names = [x.strip() for x in scenes.split(",") if x.strip()]
        for name in names:
            get_scene(name)
    from spacefold.tour import tour, tour_scenes

    todo = names or tour_scenes()
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("frames"), TimeElapsedColumn(), console=err, transient=True,
                   disable=not err.is_terminal)
    tasks: dict[str, Any] = {}

    def progress(scene: str, done: int, total: int) -> None:
        if scene not in tasks:
            tasks[scene] = bar.add_task(f"{scene} ({len(tasks) + 1}/{len(todo)})", total=total)
        bar.update(tasks[scene], completed=done, total=total)

    t0 = time.perf_counter()
    with _interruptible(), bar:
        entries = tour(output, size=wh, fps=fps, scenes=todo, progress=progress, jobs=jobs,
                       **look, **_pacing(hold, duration))
    wall = time.perf_counter() - t0
    for e in entries:
        acc = f"  accuracy {100 * e.accuracy:.1f}%" if e.accuracy is not None else ""
        _say(f"{e.name:16s} {e.seconds:6.1f} s  {e.frames:5d} frames{acc}")
    _say(f"wrote {len(entries)} scenes and {output / 'index.html'} in {wall:.1f} s "
         f"({jobs} at a time)")


@app.command("train")
def train_cmd(
    data: Annotated[str, typer.Option(
        "--data", help=f"Data: one of {_names(DATASETS)}, or a .csv / .npz file.",
        autocompletion=_complete_data, show_default=False)],
    arch: Annotated[str, typer.Option(
        "--arch", help="Layer widths joined by '-', input first, like 2-100-2-5.",
        show_default=False)],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help=f"Checkpoint file to write ({CHECKPOINT_SUFFIX}).",
        show_default=False)],
    activation: Annotated[str, typer.Option(
        "--activation", help=f"Hidden activation: one of {', '.join(ACTIVATION_NAMES)}; "
        "or one per hidden layer, comma-separated.", autocompletion=_complete_activation)] = "relu",
    classes: Annotated[int | None, typer.Option(
        "--classes", help="Number of classes.", show_default=False)] = None,
    n: Annotated[int | None, typer.Option(
        "--n", help="Number of points.", show_default=False)] = None,
    noise: Annotated[float | None, typer.Option(
        "--noise", help="Noise of the dataset.", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seeds the data, the initial weights and the batch order (default: 0 "
        "for the network; the dataset's own default for the data).", show_default=False)] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="At most this many epochs.")] = 2000,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.01,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", help="Mini-batch size (default: full batch).",
        show_default=False)] = None,
    weight_decay: Annotated[float, typer.Option(
        "--weight-decay", help="Adam weight decay.")] = 0.0,
    target_accuracy: Annotated[float, typer.Option(
        "--target-accuracy", help="Stop once the training accuracy reaches this, in (0, 1].")
    ] = 0.995,
    force: ForceOpt = False,
    movie: Annotated[Path | None, typer.Option(
        "--movie", help="Also render the training as a movie (.mp4): the `training` scene "
        "of this network, from its initial weights to trained.", show_default=False)] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", help="Also save the weight snapshots (.safetensors) for "
        "`spacefold render training --recording FILE`.", show_default=False)] = None,
    snapshots: Annotated[int, typer.Option(
        "--snapshots", help="With --movie / --record: how many weight snapshots to keep, "
        f"spaced evenly in log(1 + epoch), {MIN_SNAPSHOTS}-{MAX_SNAPSHOTS}.")] = 40,
) -> None:
    """Train a network on a dataset and save it as a safetensors checkpoint.

    Example: spacefold train --data spiral --classes 5 --arch 2-100-2-5 -o spiral.safetensors

    Example: spacefold train --data spiral --arch 2-100-2-5 -o m.safetensors --movie t.mp4
    """
    for name in activation.split(","):  # checked even when the arch has no hidden layer
        if name.strip() not in ACTIVATION_NAMES:
            raise SpecError(f"unknown activation {name.strip()!r}; choose one of: "
                            f"{', '.join(ACTIVATION_NAMES)}")
    spec = ArchSpec.parse(arch, activation)
    if not (0.0 < target_accuracy <= 1.0):
        raise SpecError(f"--target-accuracy {target_accuracy:g} must be in (0, 1]")
    if not (0.0 <= weight_decay <= 1.0):
        raise SpecError(f"--weight-decay {weight_decay:g} must be in [0, 1]")
    check_seed(seed)
    check_output(output, (CHECKPOINT_SUFFIX,), "checkpoint", force)
    outputs = {output.resolve()}
    for flag, path, suffixes in (("--movie", movie, (".mp4",)),
                                 ("--record", record, (CHECKPOINT_SUFFIX,))):
        if path is None:
            continue
        check_output(path, suffixes, flag, force)
        if path.resolve() in outputs:
            raise RenderError(f"{flag} {str(path)!r} is the same file as another output")
        outputs.add(path.resolve())
    if (movie is not None or record is not None) and \
            not MIN_SNAPSHOTS <= snapshots <= MAX_SNAPSHOTS:
        raise SpecError(f"--snapshots {snapshots} must be in {MIN_SNAPSHOTS}-{MAX_SNAPSHOTS}")
    if movie is None and record is None and snapshots != 40:
        raise SpecError("--snapshots is for --movie / --record; give one of them")
    ds = load_data(data, classes=classes, n=n, noise=noise, seed=seed)
    if spec.widths[0] != ds.dim:
        raise DataError(f"--arch {arch!r} takes {spec.widths[0]}-D input but data {ds.name!r} "
                        f"is {ds.dim}-D; start the architecture with {ds.dim}")
    if spec.widths[-1] < ds.classes:
        raise DataError(f"--arch {arch!r} has {spec.widths[-1]} outputs but data {ds.name!r} "
                        f"has {ds.classes} classes; end the architecture with {ds.classes}")
    torch_seed = 0 if seed is None else seed
    net = sf.build(spec.arch, list(spec.activations), seed=torch_seed)

    bar = Progress(TextColumn("[bold]training {task.fields[arch]}"), BarColumn(),
                   MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
                   TextColumn("acc {task.fields[acc]:.1%}"), TimeElapsedColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task("train", total=epochs, arch=spec.arch, loss=float("nan"), acc=0.0)

    rec = None
    if movie is not None or record is not None:
        from spacefold.model.training import evaluate
        from spacefold.scenes.zoo import snapshot_epochs

        rec = sf.Recorder(net, data=ds, spec=spec)
        wanted = set(snapshot_epochs(epochs, snapshots))

        def keep(epoch: int) -> None:
            assert rec is not None
            loss, acc = evaluate(net, ds)      # these weights' own numbers
            rec.snapshot(epoch, loss=loss, accuracy=acc)

        keep(0)

    def progress(epoch: int, total: int, loss: float, acc: float) -> None:
        bar.update(task, completed=epoch, total=total, loss=loss, acc=acc)
        if rec is not None and (epoch in wanted or acc >= target_accuracy):
            keep(epoch)

    with _interruptible(), bar:
        hist = sf.train(net, ds, epochs=epochs, lr=lr, batch_size=batch_size,
                        weight_decay=weight_decay, target_accuracy=target_accuracy,
                        seed=torch_seed, progress=progress)
    acc = hist.accuracy[-1]
    meta = {
        "data": data_recipe(ds, data),
        "train": {"epochs": hist.epochs, "lr": lr, "batch_size": batch_size,
                  "weight_decay": weight_decay, "seed": torch_seed,
                  "target_accuracy": target_accuracy, "accuracy": acc,
                  "loss": hist.loss[-1], "stopped": hist.stopped},
    }
    with _interruptible():
        sf.save(net, output, spec=spec, meta=meta)
    _say(f"accuracy {acc:.2%} on {len(ds)} training points of {ds.name!r} after "
         f"{hist.epochs} epochs ({hist.seconds:.1f} s; {hist.stopped})")
    _say(f"wrote {output}")
    if rec is not None and record is not None:
        with _interruptible():
            rec.save(record)
        _say(f"wrote {record} ({len(rec)} snapshots)")
    if rec is not None and movie is not None:
        from spacefold.scenes.api import render

        with _interruptible(), _frame_progress(render, "rendering training") as frames:
            extra: dict[str, Any] = {"progress": frames} if frames is not None else {}
            render("training", movie, recording=rec, **extra)
        _say(f"wrote {movie}")


@app.command("export")
def export_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="The .html file to write (one file, opens offline).",
        show_default=False)],
    scene: Annotated[str | None, typer.Argument(
        help=f"A scene whose network to export; one of: {_names(HOMES)}. Omit it with "
        "--model.", autocompletion=_complete_scene, show_default=False, metavar="[SCENE]")
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
        with _interruptible():
            tr = sf.trace(options["model"], options["data"])
        name = models[0].stem if models else str(model_code).rpartition(":")[2]
        page_title = title or f"{name} · {tr.meta.get('arch', '')}"
    else:
        entry = get_scene(scene)
        options = scene_inputs(entry, models=models, arch=arch, activation=activation,
                               model_code=model_code, data=data, classes=classes, n=n,
                               noise=noise, seed=seed, stage=stage)
        entry.check(options)
        with _interruptible():
            tl = entry.build(**options)
        found = tl.meta.get("trace")
        if not isinstance(found, sf.Trace):
            raise RenderError(f"scene {scene!r} has no single network trace to export; try "
                              f"fold-222, spiral or bottleneck")
        tr = found
        page_title = title or f"{scene} · {tr.meta.get('arch', '')}".rstrip(" ·")
    # a name that is not UTF-8 (surrogate escapes) is shown with escapes, as on the terminal
    page_title = page_title.encode("utf-8", "backslashreplace").decode("utf-8")
    with _interruptible():
        path = write_html(tr, output, title=page_title)
    _say(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {len(tr.stages)} stages, "
         f"{tr.n} points)")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(
        "--host", help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port, 1-65535.")] = 8765,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Another host name (or address) the app may be reached by, "
                             "e.g. this machine's name on the network; repeatable. Other "
                             "names get 400 (a DNS-rebinding guard).")] = None,
) -> None:
    """The live app: train a network in the browser and watch the plane unfold.

    Only pages served by this server may drive it (other origins get 403), and only its own
    host names are answered. Example: spacefold serve   (then open http://127.0.0.1:8765)
    """
    if not 1 <= port <= 65535:
        raise SpecError(f"--port {port} must be in 1-65535")
    hosts = tuple(_serve_host_name(h) for h in allow_host or ())
    from spacefold.server.app import serve

    if host.strip().strip("[]") in ("0.0.0.0", "::", ""):
        names = ", ".join(hosts) if hosts else "none: add --allow-host NAME"
        err.print(f"warning: --host {host} serves every network interface, and anyone who "
                  f"can reach this machine can train on it; host names answered besides "
                  f"loopback: {names}", markup=False, highlight=False, soft_wrap=True)
    _say(f"spacefold app on http://{host}:{port}  (Ctrl-C stops it)")
    try:
        serve(host, port, hosts)
    except (_Terminated, KeyboardInterrupt) as e:
        # serve has stopped every job and closed the connections; the interpreter's own
        # teardown with torch loaded takes another 1.5-3.5 s on a busy machine, so end here
        # (the signal must end the process within 2 s)
        term = isinstance(e, _Terminated)
        sys.stdout.flush()
        sys.stderr.write(f"error: {'terminated' if term else 'interrupted'}\n")
        sys.stderr.flush()
        os._exit(EXIT_TERMINATED if term else EXIT_INTERRUPTED)


def _serve_host_name(name: str) -> str:
    """An ``--allow-host`` value: a bare host name or address (no scheme, path or port)."""
    bare = name.strip().lower()
    inner = bare.removeprefix("[").removesuffix("]")
    ok = re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]*:[0-9a-f:.]*", inner)
    if ok is None or len(inner) > 253:
        raise SpecError(f"--allow-host {name[:80]!r} is not a host name; give a bare name "
                        f"such as mybox.local or 192.168.1.20 (no scheme or port)")
    return inner
