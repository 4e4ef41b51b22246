"""Write-then-rename, so an error never leaves a half-written output file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spacefold.errors import RenderError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temp path beside ``path`` (same suffix); rename onto ``path`` on success only.

    Raises :class:`RenderError` up front when the folder does not exist or is not writable.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise RenderError(f"output folder {str(folder)!r} does not exist")
    if p.is_dir():
        raise RenderError(f"output path {str(p)!r} is a folder; give a file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{p.stem}-", suffix=p.suffix)
    except OSError as e:
        raise RenderError(f"cannot write to {str(folder)!r}: {e.strerror}") from None
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
