"""``spacefold``: the command line, a thin adapter over the library.

    spacefold scenes
    spacefold render fold-222 -o fold.mp4 [--size 640x360] [--fps 30]
    spacefold train --data spiral --classes 5 --arch 2-100-2-5 -o spiral.safetensors
    spacefold render layers --model spiral.safetensors -o spiral.mp4
    spacefold render bottleneck --model model.pth --arch 2-100-2-5 --activation relu,identity \
        --data spiral --classes 5 -o b.mp4

Choices (scenes, datasets, activations) come from the registries, never typed twice. Every
user error is one line on stderr (``error: ...``) naming the bad value and what is allowed,
exit code 2 (cli/exits.py); options are checked before any slow work (cli/options.py), and
outputs are written atomically, so a failed command leaves no file behind.

Modules: app (the Typer app; COMMANDS below registers the commands on it), render (scenes,
render), tour, train, export and serve (the commands), command (the command class: an option
given twice is refused), scene_help (a scene's own help), flags (shared options), options
(checks), intake (a scene's model and data), console (output), exits (exit codes, signals).
"""

from __future__ import annotations

from spacefold._threads import one_thread_each

# One thread per BLAS and OpenMP pool (see spacefold._threads). The command's own process set
# them before numpy was imported; this covers main() called from Python, for torch (imported
# later) and child processes.
one_thread_each()

from collections.abc import Callable, Sequence

from spacefold.cli import export, render, serve, tour, train
from spacefold.cli.app import app
from spacefold.cli.command import ShowRule, command_class
from spacefold.cli.exits import run
from spacefold.cli.scene_help import export_rule, render_rule

# The commands, in the order `spacefold --help` lists them.
COMMANDS: dict[str, Callable[..., None]] = {
    "scenes": render.scenes_cmd, "render": render.render_cmd, "tour": tour.tour_cmd,
    "train": train.train_cmd, "export": export.export_cmd, "serve": serve.serve_cmd,
}
# the commands whose help shows a scene's own options (cli/scene_help.py)
HELP_RULES: dict[str, ShowRule] = {"render": render_rule, "export": export_rule}
for _name, _command in COMMANDS.items():
    app.command(_name, cls=command_class(HELP_RULES.get(_name)))(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``spacefold`` command (and ``python -m spacefold``)."""
    run(app, argv)


__all__ = ["COMMANDS", "app", "main"]
