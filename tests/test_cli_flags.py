"""cli/flags.py: a command that takes ``flags: SceneFlags`` shows Typer every scene option in
its place, and gets what the user typed gathered into one SceneFlags."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import typer
from typer.testing import CliRunner

from spacefold.cli.flags import NO_FLAGS, SceneFlags, with_scene_flags


def test_the_scene_options_take_the_flags_parameters_place_and_reach_the_command() -> None:
    got: list[tuple[str, SceneFlags, int]] = []

    @with_scene_flags
    def cmd(name: str, flags: SceneFlags = NO_FLAGS, last: int = 0) -> None:
        """A probe."""
        got.append((name, flags, last))

    params = list(inspect.signature(cmd).parameters)
    assert params == ["name", *(f.name for f in fields(SceneFlags)), "last"]
    assert cmd.__doc__ == "A probe." and cmd.__name__ == "cmd"
    app = typer.Typer()
    app.command()(cmd)
    app.command("other")(lambda: None)          # two commands: invoked by name
    r = CliRunner().invoke(app, ["cmd", "x", "--model", "a.pt", "--model", "b.pt", "--stage",
                                 "3", "--data", "moons", "--seed", "7", "--last", "2"])
    assert r.exit_code == 0, r.output
    assert got == [("x", SceneFlags(model=[Path("a.pt"), Path("b.pt")], stage=3, data="moons",
                                    seed=7), 2)]
    r = CliRunner().invoke(app, ["cmd", "--help"])
    for flag in ("--model", "--arch", "--activation", "--model-code", "--stage", "--data",
                 "--classes", "--n", "--noise", "--seed", "--last"):
        assert flag in r.output
