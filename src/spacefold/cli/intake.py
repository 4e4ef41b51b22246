"""The user's model and data for a scene, from the command line's flags: ``--model`` (through
the one loader, spacefold.model.intake), ``--data`` and its options, or the data a
checkpoint's recipe names (spacefold.model.recipe). Each option only for a scene whose
function takes it; all checked before any slow work."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from spacefold.cli.console import names, short
from spacefold.cli.flags import SceneFlags
from spacefold.cli.options import check_seed
from spacefold.data import DATASETS, Dataset, load_file
from spacefold.errors import DataError, RenderError, SpecError
from spacefold.model.intake import CLI_NAMES, Loaded, read_model
from spacefold.model.network import Network
from spacefold.model.recipe import DATA_SUFFIXES, data_from_meta, is_data_file, remake
from spacefold.scenes import SCENES
from spacefold.scenes.registry import SceneEntry

COMPARING_SCENES = ("extrapolation",)   # the scenes whose model= may be a list of models
# scene option -> the flag that gives it
SCENE_FLAGS = {"model": "--model", "data": "--data", "stage": "--stage",
               "recording": "--recording", "color_by": "--color-by", "mnist": "--mnist"}
# a command's parameter -> the scene option it gives: a scene whose function does not take
# that option refuses the flag, and the help of that scene's command leaves it out
SCENE_PARAMS = {"color_by": "color_by", "model": "model", "arch": "model",
                "activation": "model", "model_code": "model", "stage": "stage", "data": "data",
                "classes": "data", "n": "data", "noise": "data", "seed": "data",
                "recording": "recording", "mnist": "mnist"}


def flag_of(param: str) -> str:
    """``model_code`` → ``--model-code``."""
    return "--" + param.replace("_", "-")


def load_data(data: str, *, classes: int | None = None, n: int | None = None,
              noise: float | None = None, seed: int | None = None,
              base: dict[str, Any] | None = None) -> Dataset:
    """``--data`` as a registered name (with its options) or a .csv / .npz file.

    ``base`` is a checkpoint's data recipe: options not given on the command line are taken
    from it when it names the same dataset.
    """
    check_seed(seed)
    if is_data_file(data):
        given = [f for f, v in (("--classes", classes), ("--n", n), ("--noise", noise),
                                ("--seed", seed)) if v is not None]
        if given:
            raise DataError(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to "
                            f"generated datasets, not to the file "
                            f"{data!r}; its points and labels come from the file")
        return load_file(data)
    if data not in DATASETS:
        raise DataError(f"unknown dataset {data!r}; choose one of: {names(DATASETS)}, "
                        f"or a {' / '.join(DATA_SUFFIXES)} file")
    return remake(data, base, classes=classes, n=n, noise=noise, seed=seed)


PAIRED = ("arch", "activation", "model_code")   # flags given once, or once per --model


def repeated(flags: SceneFlags) -> str | None:
    """The first of ``--model``, ``--arch``, ``--activation``, ``--model-code`` given more
    than once (a second network, or one value per network), or None."""
    return next((flag_of(p) for p in ("model", *PAIRED) if len(getattr(flags, p) or []) > 1),
                None)


def paired(flag: str, values: Sequence[str], models: int, of: str) -> list[str | None]:
    """One value of ``flag`` per network: none given, None for each; one, the same for each;
    as many as the ``models`` networks (given by ``of``), one each, in order; any other count
    is one line."""
    each: list[str | None] = list(values)
    if len(each) in (0, 1):
        return (each or [None]) * models
    if len(each) != models:
        raise SpecError(f"{flag} given {len(each)} times for {models} {of}; give it once "
                        f"(for every {of}) or once per {of}, in order")
    return each


def load_models(models: Sequence[Path], arch: Sequence[str] | None = None,
                activation: Sequence[str] | None = None,
                code: Sequence[str] | None = None) -> list[Loaded]:
    """``--model`` (repeatable) with its ``--arch``, ``--activation`` and ``--model-code``
    (each once for every --model, or once per --model), through the one loader
    (spacefold.model.intake); without --model, each --model-code builds one network."""
    archs, acts, codes = list(arch or []), list(activation or []), list(code or [])
    if not models and not codes:
        if archs or acts:
            flags = " and ".join(f for f, v in (("--arch", archs), ("--activation", acts)) if v)
            raise SpecError(f"{flags} describe the network in a --model file without a "
                            f"spacefold spec; give --model FILE")
        return []
    if not models:           # the user's code builds each network: --arch has no place here
        if archs or acts:
            read_model(None, arch=archs[0] if archs else None,
                       activation=acts[0] if acts else None, code=codes[0], names=CLI_NAMES)
        return [read_model(None, code=c, names=CLI_NAMES) for c in codes]
    n = len(models)
    rows = zip(models, paired("--arch", archs, n, "--model"),
               paired("--activation", acts, n, "--model"),
               paired("--model-code", codes, n, "--model"), strict=True)
    shared = [f for f, v in (("--arch", archs), ("--activation", acts), ("--model-code", codes))
              if len(v) == 1]
    loaded = []
    for m, a, act, c in rows:
        try:
            loaded.append(read_model(m, arch=a, activation=act, code=c, names=CLI_NAMES))
        except SpecError as e:     # a value given once, for both, may be meant for one
            named = [f for f in shared if f in str(e)]
            if n == 1 or not named:
                raise
            raise SpecError(f"{e} ({' and '.join(named)} given once, so for every --model; "
                            f"give {'it' if len(named) == 1 else 'each'} once per --model)"
                            ) from None
    return loaded


def refuse_untaken(entry: SceneEntry, given: dict[str, str],
                   offered: Collection[str] = tuple(SCENE_FLAGS)) -> None:
    """``given``: scene option → the flag the user typed. A scene whose function does not
    take that option refuses it in one line, naming what it takes of the options the
    command ``offered`` and which scenes do."""
    for option, flag in given.items():
        if entry.takes(option):
            continue
        takes = [SCENE_FLAGS[o] for o in entry.options() if o in SCENE_FLAGS and o in offered]
        others = [n for n in sorted(SCENES) if SCENES[n].takes(option)]
        raise RenderError(f"scene {entry.name!r} takes no {flag} (it takes: "
                          f"{', '.join(takes) or 'none of the model or data options'}); "
                          f"scenes that take {flag}: "
                          f"{', '.join(others) or 'none'}")


def refuse_overwriting(output: Path | None, inputs: Sequence[tuple[str, Path]]) -> None:
    """An ``output`` that is one of the ``inputs`` (what it is, path) would be replaced by
    what is made from it: refused in one line."""
    if output is None or not output.exists():
        return
    for what, path in inputs:
        try:
            same = path.exists() and output.samefile(path)
        except OSError:
            same = False
        if same:
            raise RenderError(f"output {short(output)!r} is {what}; writing it would replace "
                              f"that input")


def scene_inputs(entry: SceneEntry, flags: SceneFlags, *, recording: Path | None = None,
                 color_by: str | None = None, output: Path | None = None,
                 offered: Collection[str] = tuple(SCENE_FLAGS)) -> dict[str, Any]:
    """The options a scene gets from the command line: only those given, and each only if
    the scene's function takes it (else one line, exit 2), checked before any slow work.
    ``output``, the file the command writes, may be none of the files they read."""
    models, model_code, data, stage = flags.model or [], flags.model_code, flags.data, flags.stage
    classes, n, noise, seed = flags.classes, flags.n, flags.noise, flags.seed
    given_files = [("--model", m) for m in models] \
        + [("--model-code", Path(c.rpartition(":")[0])) for c in model_code or [] if ":" in c] \
        + ([("--recording", recording)] if recording is not None else []) \
        + ([("--data", Path(data))] if data and is_data_file(data) else [])
    refuse_overwriting(output, [(f"the {flag} file", path) for flag, path in given_files])
    values = {**{f.name: getattr(flags, f.name) for f in fields(flags)},
              "recording": recording, "color_by": color_by}
    given: dict[str, str] = {}     # scene option -> the first flag given for it
    for param, option in SCENE_PARAMS.items():
        if values.get(param) not in (None, []):
            given.setdefault(option, flag_of(param))
    refuse_untaken(entry, given, offered)
    data_flags = [f for f, v in (("--data", data), ("--classes", classes), ("--n", n),
                                 ("--noise", noise), ("--seed", seed)) if v is not None]
    twice = repeated(flags)
    if twice and entry.name not in COMPARING_SCENES:
        raise SpecError(f"scene {entry.name!r} tells about one network; give one {twice} "
                        f"({', '.join(COMPARING_SCENES)} compares two)")
    if data is None and data_flags:
        one = len(data_flags) == 1
        raise DataError(f"{', '.join(data_flags)} need{'s' * one} --data NAME (the dataset "
                        f"{'it shapes' if one else 'they shape'})")
    if data_flags and not models and not model_code and not entry.needs_model:
        raise DataError(f"--data is data for your network: give --model too (scene "
                        f"{entry.name!r} without one shows its own network, on the data it "
                        f"was trained on)")
    if recording is not None and not recording.is_file():
        why = "is a folder" if recording.is_dir() else "is not a file" if recording.exists() \
            else "does not exist"
        raise SpecError(f"--recording {str(recording)!r} {why}")
    loaded = load_models(models, flags.arch, flags.activation, model_code)
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
        recipe = meta.get("data")
        if isinstance(recipe, dict) and isinstance(recipe.get("file"), str):
            refuse_overwriting(output, [(f"the data file {short(Path(loaded[0].source))!r} "
                                         f"was trained on", Path(recipe["file"]))])
        ds = data_from_meta(meta, f"model file {short(Path(loaded[0].source))!r}")
        if ds is None and entry.needs_model:
            raise DataError(f"model {loaded[0].source!r} does not say which data it was "
                            f"trained on; pass --data ({names(DATASETS)} or a .csv / .npz "
                            f"file)")
    # a spacefold network's spec says its input width; a module's Linears may be declared in
    # any order, so its width is left to the trace, which follows forward
    for got in loaded:
        d_in = got.arch.split("-")[0]
        if ds is not None and isinstance(got.model, Network) and d_in.isdigit() \
                and int(d_in) != ds.dim:
            raise DataError(f"model {got.source!r} ({got.arch}) takes {d_in}-D input but data "
                            f"{ds.name!r} is {ds.dim}-D")
    if loaded:
        options["model"] = loaded[0].model if len(loaded) == 1 else [m.model for m in loaded]
    if ds is not None:
        options["data"] = ds
    if stage is not None:
        options["stage"] = stage
    if recording is not None:
        from spacefold.model.recorder import Recorder

        options["recording"] = Recorder.load(recording)
    if color_by is not None:
        options["color_by"] = color_by
    return options
