"""Write-then-rename, so an error never leaves a half-written output file.

The temp file sits beside its target as ``.STEM-PID-XXXXXXXX.SUFFIX`` (``STEM`` shortened when
the target's name is long, so the temp name stays within the file system's name limit). A run
that is killed outright (SIGKILL) cannot remove its temp file; :func:`stale_temps` finds the
ones of a target that are older than a day or whose process is gone, so the next run of the
same command removes them.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spacefold.errors import RenderError

STALE_SECONDS = 24 * 3600   # a temp file older than this is left over, whoever made it
_RANDOM = 8                 # characters mkstemp adds


def name_max(folder: str | Path) -> int:
    """The longest file name (bytes) the file system of ``folder`` takes (255 usually)."""
    try:
        return int(os.pathconf(str(folder), "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def _folder(p: Path) -> Path:
    return p.parent if str(p.parent) else Path(".")


def _stem_part(p: Path, limit: int) -> str:
    """``.STEM-`` with STEM cut so that it, a pid of up to 7 digits, the random part and the
    suffix fit in ``limit`` bytes (the same cut whatever the pid, so stale temps are found)."""
    room = limit - 1 - 1 - 8 - _RANDOM - len(os.fsencode(p.suffix))
    stem = os.fsencode(p.stem)[:max(room, 1)]
    while stem and os.fsencode(os.fsdecode(stem)) != stem:   # never half a character
        stem = stem[:-1]
    return f".{os.fsdecode(stem)}-"


def _temp_prefix(p: Path, limit: int) -> str:
    return f"{_stem_part(p, limit)}{os.getpid()}-"


def check_name(path: str | Path) -> None:
    """Refuse a file name longer than the file system takes (one line, before any work)."""
    p = Path(path)
    limit = name_max(_folder(p))
    size = len(os.fsencode(p.name))   # bytes, as the file system counts (any encoding)
    if size > limit:
        raise RenderError(f"output name {p.name[:40]!r}... is {size} bytes long; the file "
                          f"system takes at most {limit}")
    if len(os.fsencode(str(p.absolute()))) >= 4096:
        raise RenderError(f"output path {str(p)[:40]!r}... is longer than 4095 bytes")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def stale_temps(path: str | Path, now: float | None = None) -> list[Path]:
    """Temp files of ``path`` (``.STEM-PID-XXXXXXXX.SUFFIX`` beside it) left by a run that
    died: older than a day, or made by a process that no longer runs."""
    p = Path(path)
    folder = _folder(p)
    stem_part = _stem_part(p, name_max(folder))
    now = time.time() if now is None else now
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for e in entries:
        name = e.name
        if not (name.startswith(stem_part) and name.endswith(p.suffix)) or name == p.name:
            continue
        middle = name[len(stem_part):len(name) - len(p.suffix)]
        pid, sep, rand = middle.partition("-")
        if not (sep and pid.isdigit() and len(rand) == _RANDOM):
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if now - st.st_mtime > STALE_SECONDS or not _pid_alive(int(pid)):
            found.append(folder / name)
    return sorted(found)


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove :func:`stale_temps` of ``path``; returns the ones removed."""
    gone = []
    for t in stale_temps(path):
        try:
            t.unlink()
        except OSError:
            continue
        gone.append(t)
    return gone


def read_only(path: str | Path) -> bool:
    """True for an existing file nobody may write (by its mode: root bypasses os.access)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP
                                                          | stat.S_IWOTH)


def _write_error(p: Path, e: OSError) -> RenderError:
    why = e.strerror or str(e) or type(e).__name__
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        why = f"{why} (the output was not written)"
    return RenderError(f"cannot write {str(p)!r}: {why}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temp path beside ``path`` (same suffix); rename onto ``path`` on success only.

    A replaced file keeps its mode; a new one gets the usual mode (0666 less the umask).
    Raises :class:`RenderError` up front when the folder does not exist or is not writable,
    and for any write error (disk full, ...) inside the block, with the temp file removed.
    """
    p = Path(path)
    folder = _folder(p)
    check_name(p)
    if not folder.is_dir():
        raise RenderError(f"output folder {str(folder)!r} does not exist")
    if p.is_dir():
        raise RenderError(f"output path {str(p)!r} is a folder; give a file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(p, name_max(folder)),
                                   suffix=p.suffix)
    except OSError as e:
        raise RenderError(f"cannot write to {str(folder)!r}: {e.strerror}") from None
    os.close(fd)
    try:
        try:
            yield tmp
            try:
                mode = stat.S_IMODE(os.stat(p).st_mode)
            except OSError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask   # mkstemp makes 0600; outputs get the usual mode
            os.chmod(tmp, mode)
            os.replace(tmp, p)
        except OSError as e:
            raise _write_error(p, e) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
