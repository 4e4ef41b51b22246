"""What the command line prints: result lines on stdout, progress bars and warnings on stderr.

Result and warning lines are plain writes: a user's string is printed as it is (Rich would
read ``:smile:`` in a file name as an emoji). Rich draws the tables and the progress bars; it
is imported when one is drawn (~28 ms that a render to a file, no terminal, never pays).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, ProgressColumn


@functools.cache
def out() -> Console:
    """Rich's console on stdout (tables, the help)."""
    from rich.console import Console

    return Console()


@functools.cache
def err() -> Console:
    """Rich's console on stderr (progress bars)."""
    from rich.console import Console

    return Console(stderr=True)


def _line(stream: Any, text: str) -> None:
    # a file name that is not UTF-8 is shown with escapes, as Python shows it
    stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    stream.flush()


def say(text: str) -> None:
    """A result line on stdout, as it is: never read as markup, never wrapped."""
    _line(sys.stdout, text)


def warn(text: str) -> None:
    """A warning line on stderr, as it is."""
    _line(sys.stderr, text)


def names(registry: dict[str, Any]) -> str:
    return ", ".join(sorted(registry))


def short(path: Path) -> str:
    """A path for a one-line message: at most 80 characters."""
    text = str(path)
    return text if len(text) <= 80 else f"{text[:77]}..."


def bar(*columns: ProgressColumn | str) -> Progress:
    """A transient Rich progress bar on stderr (drawn only on a terminal): ``columns`` after
    the task's description."""
    from rich.progress import Progress, TextColumn

    return Progress(TextColumn("[bold]{task.description}"), *columns, console=err(),
                    transient=True, disable=not err().is_terminal)


@contextmanager
def frame_progress(render: Callable[..., Any], label: str
                   ) -> Iterator[Callable[..., None] | None]:
    """A bar fed by the render API's ``progress(done, total)`` callback, if it has one and
    stderr is a terminal."""
    if "progress" not in inspect.signature(render).parameters or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    frames = bar(BarColumn(), MofNCompleteColumn(), TextColumn("frames"), TimeElapsedColumn(),
                 TimeRemainingColumn())
    task = frames.add_task(label, total=None)

    def progress(done: int, total: int | None = None, *_: Any) -> None:
        frames.update(task, completed=done, total=total)

    with frames:
        yield progress
