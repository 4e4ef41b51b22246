"""``spacefold train``: train a network on a dataset and save it as a checkpoint that remembers
its data (spacefold.model.recipe); optionally a recording of its training and a movie of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from spacefold.cli.console import bar, frame_progress, names, say
from spacefold.cli.exits import interruptible
from spacefold.cli.flags import (
    ACTIVATION_HELP,
    ClassesOpt,
    ForceOpt,
    NoiseOpt,
    NOpt,
    complete_activation,
    complete_data,
)
from spacefold.cli.intake import load_data
from spacefold.cli.options import CHECKPOINT_SUFFIX, check_output, check_seed
from spacefold.data import DATASETS
from spacefold.errors import DataError, RenderError, SpecError
from spacefold.limits import MAX_SNAPSHOTS, MIN_SNAPSHOTS
from spacefold.model import recipe
from spacefold.model.spec import ArchSpec, parse_activation

SNAPSHOTS = 40      # weight snapshots a --movie / --record keeps by default


def train_cmd(
    data: Annotated[str, typer.Option(
        "--data", help=f"Data: one of {names(DATASETS)}, or a .csv / .npz file.",
        autocompletion=complete_data, show_default=False)],
    arch: Annotated[str, typer.Option(
        "--arch", help="Layer widths joined by '-', input first, like 2-100-2-5.",
        show_default=False)],
    output: Annotated[Path, typer.Option(
        "-o", "--output", help=f"Checkpoint file to write ({CHECKPOINT_SUFFIX}).",
        show_default=False)],
    activation: Annotated[str | None, typer.Option(
        "--activation", help=ACTIVATION_HELP, autocompletion=complete_activation,
        show_default=False)] = None,
    classes: ClassesOpt = None,
    n: NOpt = None,
    noise: NoiseOpt = None,
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
    snapshots: Annotated[int | None, typer.Option(
        "--snapshots", help="With --movie / --record: how many weight snapshots to keep, "
        f"spaced evenly in log(1 + epoch), {MIN_SNAPSHOTS}-{MAX_SNAPSHOTS}; default "
        f"{SNAPSHOTS}.", show_default=False)] = None,
) -> None:
    """Train a network on a dataset and save it as a safetensors checkpoint.

    Example: spacefold train --data spiral --classes 5 --arch 2-100-2-5 -o spiral.safetensors

    Example: spacefold train --data spiral --arch 2-100-2-5 -o m.safetensors --movie t.mp4
    """
    for item in (activation or "relu").split(","):  # checked even with no hidden layer
        parse_activation(item)
    spec = ArchSpec.parse(arch, activation or "relu")
    if activation is not None and len(spec.widths) == 2:
        raise SpecError(f"--arch {arch!r} has no hidden layer, so --activation {activation!r} "
                        f"would change nothing; leave it out, or add a hidden layer")
    if not (0.0 < target_accuracy <= 1.0):
        raise SpecError(f"--target-accuracy {target_accuracy:g} must be in (0, 1]")
    if not (0.0 <= weight_decay <= 1.0):
        raise SpecError(f"--weight-decay {weight_decay:g} must be in [0, 1]")
    check_seed(seed)
    _check_outputs(output, movie, record, snapshots, force)
    # a file's points need no seed: here --seed still seeds the training
    ds = load_data(data, classes=classes, n=n, noise=noise,
                   seed=None if recipe.is_data_file(data) else seed)
    if spec.widths[0] != ds.dim:
        raise DataError(f"--arch {arch!r} takes {spec.widths[0]}-D input but data {ds.name!r} "
                        f"is {ds.dim}-D; start the architecture with {ds.dim}")
    if spec.widths[-1] < ds.classes:
        raise DataError(f"--arch {arch!r} has {spec.widths[-1]} outputs but data {ds.name!r} "
                        f"has {ds.classes} classes; end the architecture with {ds.classes}")
    from spacefold.model import training
    from spacefold.model.checkpoint import save
    from spacefold.model.torch_build import build

    torch_seed = 0 if seed is None else seed
    net = build(spec.arch, list(spec.activation_texts), seed=torch_seed)

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    epochs_bar = bar(BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
                     TextColumn("acc {task.fields[acc]:.1%}"), TimeElapsedColumn())
    task = epochs_bar.add_task(f"training {spec.arch}", total=epochs, loss=float("nan"),
                               acc=0.0)

    rec = None
    if movie is not None or record is not None:
        from spacefold.model.recorder import Recorder
        from spacefold.scenes.zoo import snapshot_epochs

        rec = Recorder(net, data=ds, spec=spec)
        wanted = set(snapshot_epochs(epochs, SNAPSHOTS if snapshots is None else snapshots))

        def keep(epoch: int) -> None:
            assert rec is not None
            loss, acc = training.evaluate(net, ds)      # these weights' own numbers
            rec.snapshot(epoch, loss=loss, accuracy=acc)

        keep(0)

    def progress(epoch: int, total: int, loss: float, acc: float) -> None:
        epochs_bar.update(task, completed=epoch, total=total, loss=loss, acc=acc)
        if rec is not None and (epoch in wanted or acc >= target_accuracy):
            keep(epoch)

    with interruptible(), epochs_bar:
        hist = training.train(net, ds, epochs=epochs, lr=lr, batch_size=batch_size,
                              weight_decay=weight_decay, target_accuracy=target_accuracy,
                              seed=torch_seed, progress=progress)
    acc = hist.accuracy[-1]
    meta = {"data": recipe.data_recipe(ds, data),
            "train": recipe.training(epochs=hist.epochs, lr=lr, batch_size=batch_size,
                                     weight_decay=weight_decay, seed=torch_seed, accuracy=acc,
                                     target_accuracy=target_accuracy, loss=hist.loss[-1],
                                     stopped=hist.stopped)}
    with interruptible():
        save(net, output, spec=spec, meta=meta)
    say(f"accuracy {acc:.2%} on {len(ds)} training points of {ds.name!r} after "
        f"{hist.epochs} epochs ({hist.seconds:.1f} s; {hist.stopped})")
    say(f"wrote {output}")
    if rec is not None and record is not None:
        with interruptible():
            rec.save(record)
        say(f"wrote {record} ({len(rec)} snapshots)")
    if rec is not None and movie is not None:
        from spacefold.scenes.api import render

        with interruptible(), frame_progress(render, "rendering training") as frames:
            extra: dict[str, Any] = {"progress": frames} if frames is not None else {}
            render("training", movie, recording=rec, **extra)
        say(f"wrote {movie}")


def _check_outputs(output: Path, movie: Path | None, record: Path | None,
                   snapshots: int | None, force: bool) -> None:
    """The checkpoint, --movie and --record: writable, each a different file, and
    --snapshots only with one of the last two."""
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
    if snapshots is not None and not MIN_SNAPSHOTS <= snapshots <= MAX_SNAPSHOTS:
        raise SpecError(f"--snapshots {snapshots} must be in {MIN_SNAPSHOTS}-{MAX_SNAPSHOTS}")
    if movie is None and record is None and snapshots is not None:
        raise SpecError("--snapshots is for --movie / --record; give one of them")
