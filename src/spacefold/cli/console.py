"""What the command line prints: result lines on stdout, progress bars and warnings on stderr."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

out = Console()
err = Console(stderr=True)


def say(text: str) -> None:
    """A result line on stdout, unwrapped, with user strings never read as Rich markup (a
    file name that is not UTF-8 is shown with escapes, as Python shows it)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """A warning line on stderr, unwrapped, never read as markup."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def names(registry: dict[str, Any]) -> str:
    return ", ".join(sorted(registry))


def short(path: Path) -> str:
    """A path for a one-line message: at most 80 characters."""
    text = str(path)
    return text if len(text) <= 80 else f"{text[:77]}..."


def bar(*columns: ProgressColumn | str) -> Progress:
    """A transient Rich progress bar on stderr (drawn only on a terminal): ``columns`` after
    the task's description."""
    return Progress(TextColumn("[bold]{task.description}"), *columns, console=err,
                    transient=True, disable=not err.is_terminal)


@contextmanager
def frame_progress(render: Callable[..., Any], label: str
                   ) -> Iterator[Callable[..., None] | None]:
    """A bar fed by the render API's ``progress(done, total)`` callback, if it has one."""
    if "progress" not in inspect.signature(render).parameters:
        yield None
        return
    frames = bar(BarColumn(), MofNCompleteColumn(), TextColumn("frames"), TimeElapsedColumn(),
                 TimeRemainingColumn())
    task = frames.add_task(label, total=None)

    def progress(done: int, total: int | None = None, *_: Any) -> None:
        frames.update(task, completed=done, total=total)

    with frames:
        yield progress
