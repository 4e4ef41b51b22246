"""What runs in the server process: every training job and export, counted against
``limits.MAX_JOBS``, cancelled together when the server stops, and the memory they freed given
back to the system once none is left."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Protocol

import spacefold.limits as limits


class Running(Protocol):
    """A job or an export: threads that :meth:`cancel` asks to end."""

    @property
    def alive(self) -> bool: ...

    def cancel(self) -> None: ...


class Stoppable(Running, Protocol):
    def stop(self, wait: float = 5.0) -> None: ...


TRACKED: weakref.WeakSet[Running] = weakref.WeakSet()


def track(what: Running) -> None:
    """Count ``what`` (a job or export) among the process's jobs while it lives."""
    TRACKED.add(what)


def count() -> int:
    """Jobs with a thread alive in this process: training sessions (paused ones too) and
    exports (a test checks disconnects stop theirs), and the places :func:`slot` holds."""
    return sum(1 for j in list(TRACKED) if j.alive) + _HELD[0]


_HELD = [0]                      # places taken by jobs being built, not yet running
_SLOT_LOCK = threading.Lock()


@contextlib.contextmanager
def slot() -> Iterator[bool]:
    """A place among ``limits.MAX_JOBS`` for work that runs in the request itself and has no
    thread of its own to count (the "download HTML" of a shown network): yields whether one
    was free, and holds it until the block ends. (Not for a session's job: held while its
    threads start, it would count that job twice; sessions configuring at once can still
    pass the count together, see the closing note.)"""
    with _SLOT_LOCK:
        free = count() < limits.MAX_JOBS
        if free:
            _HELD[0] += 1
    try:
        yield free
    finally:
        if free:
            with _SLOT_LOCK:
                _HELD[0] -= 1


def cancel_all() -> None:
    """Ask every job and export to stop (the server is shutting down); does not wait."""
    for j in list(TRACKED):
        j.cancel()


def busy_message() -> str:
    return (f"the server is running {count()} jobs, the most it runs at once "
            f"({limits.MAX_JOBS}); try again when one has ended")


def end(job: Stoppable) -> None:
    """Stop ``job``, waiting for its threads; memory goes back once no job is left."""
    job.stop()
    ended()


def release_memory() -> None:
    """Give freed memory back to the system once no job is left.

    Each training thread's tensors come from its own glibc malloc arena, and glibc keeps
    freed arena memory mapped: measured (benchmarks/bench_server_load.py, 10 maximum jobs),
    the server stayed ~36% above its idle RSS after every job had ended, and within a few
    percent with this ``malloc_trim(0)``. Elsewhere than glibc this does nothing.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


_JANITOR_DIRTY = threading.Event()
_JANITOR_IDLE = threading.Event()
_JANITOR_IDLE.set()
_JANITOR_LOCK = threading.Lock()
_JANITOR_THREAD: list[threading.Thread] = []


def ended() -> None:
    """A job or export has ended: once none runs, :func:`release_memory` (a thread that
    looks twice a second, so jobs ending together cannot each leave it to the other)."""
    with _JANITOR_LOCK:
        _JANITOR_IDLE.clear()
        _JANITOR_DIRTY.set()
        if not _JANITOR_THREAD:
            t = threading.Thread(target=_janitor, name="spacefold-janitor", daemon=True)
            _JANITOR_THREAD.append(t)
            t.start()


def _janitor() -> None:
    while True:
        _JANITOR_DIRTY.wait()
        time.sleep(0.5)
        if count() == 0:
            _JANITOR_DIRTY.clear()
            release_memory()
            with _JANITOR_LOCK:
                if not _JANITOR_DIRTY.is_set():
                    _JANITOR_IDLE.set()


def settled(timeout: float) -> bool:
    """Wait until every ended job's memory release has run (none is pending); False if
    ``timeout`` seconds pass first. Jobs still alive keep it pending."""
    return _JANITOR_IDLE.wait(timeout)
