"""How a command ends: every user error is one line on stderr (``error: ...``) and exit code 2;
Ctrl-C is 130 and SIGTERM 143, after every ``finally`` has cleaned up (temp files go)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from spacefold.cli.console import out
from spacefold.errors import SpacefoldError

EXIT_USAGE = 2         # bad input: the same code Click uses for usage errors
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143   # 128 + SIGTERM

# Typer >= 0.2x vendors Click; older versions use Click itself. ``typer.BadParameter`` is
# Click's BadParameter either way, so its ancestry names the right ClickException class.
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class Interrupted(Exception):
    """Ctrl-C inside a command (Typer would otherwise turn it into a silent exit 130)."""


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so every ``finally`` cleans up as for Ctrl-C
    (not a KeyboardInterrupt: Typer turns those into a silent exit 130)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_exception() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the main thread while a command runs (the
    previous handler comes back after, for callers that run ``main`` in-process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def interruptible() -> Iterator[None]:
    """Around slow work: Ctrl-C becomes :class:`Interrupted` (exit 130, one line)."""
    try:
        yield
    except Terminated:
        raise
    except KeyboardInterrupt:
        raise Interrupted() from None


def one_line(msg: str) -> str:
    return " ".join(part.strip() for part in str(msg).splitlines() if part.strip())


def fail(msg: str, code: int) -> NoReturn:
    red = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    prefix = "\x1b[31merror:\x1b[0m" if red else "error:"
    sys.stderr.write(f"{prefix} {one_line(msg)}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def run(app: typer.Typer, argv: Sequence[str] | None) -> NoReturn:
    """Run the Typer ``app`` on ``argv`` (None: the process's) under the exit policy."""
    command = typer.main.get_command(app)
    try:
        with sigterm_as_exception(), warnings.catch_warnings():
            if not sys.warnoptions:   # an error is one line: no numpy/torch warnings around it
                warnings.simplefilter("ignore")
            rv = command.main(args=list(argv) if argv is not None else None,
                              prog_name="spacefold", standalone_mode=False)
    except SpacefoldError as e:
        fail(str(e), EXIT_USAGE)
    except Terminated:
        fail("terminated", EXIT_TERMINATED)
    except (Interrupted, KeyboardInterrupt, typer.Abort):
        fail("interrupted", EXIT_INTERRUPTED)
    except _ClickException as e:  # usage errors: unknown option, missing argument, bad type
        if type(e).__name__ == "NoArgsIsHelpError":   # bare `spacefold`: the help is the answer
            out().print(e.format_message(), markup=False, highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
            raise SystemExit(0) from None
        fail(e.format_message(), getattr(e, "exit_code", EXIT_USAGE))  # type: ignore[attr-defined]
    except OSError as e:   # reading or writing failed (disk full, a file gone): one line
        where = f" {e.filename!r}" if getattr(e, "filename", None) else ""
        fail(f"cannot read or write{where}: {e.strerror or e}", EXIT_USAGE)
    raise SystemExit(rv if isinstance(rv, int) else 0)
