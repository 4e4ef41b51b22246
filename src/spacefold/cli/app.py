"""The ``spacefold`` Typer app and its ``--version``; spacefold.cli.COMMANDS adds the commands."""

from __future__ import annotations

from typing import Annotated

import typer

from spacefold.cli.console import say

app = typer.Typer(
    name="spacefold",
    help="See what a neural network does inside: points and the grid of the plane carried "
         "through every layer (W·x, +b, activation), rendered as video and pictures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def version() -> str:
    """The installed spacefold's version (its distribution metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("spacefold")
    except PackageNotFoundError:     # run from a source tree that is not installed
        return "(not installed)"


def _version(value: bool) -> None:
    if value:
        say(f"spacefold {version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """See what a neural network does inside."""
