"""What runs in the server process: every training job and export, counted against
``limits.MAX_JOBS``, cancelled together when the server stops, and the memory they freed given
back to the system once none is left."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import spacefold.limits as limits


class Running(Protocol):
    """A job or an export: threads that :meth:`cancel` asks to end."""

    @property
    def alive(self) -> bool: ...

    def cancel(self) -> None: ...


class Stoppable(Running, Protocol):
    def stop(self, wait: float = 5.0) -> None: ...


TRACKED: weakref.WeakSet[Running] = weakref.WeakSet()
CLOSING = threading.Event()      # the server is exiting: nothing new runs, nothing is waited for
T = TypeVar("T")


def track(what: Running) -> None:
    """Count ``what`` (a job or export) among the process's jobs while it lives (cancelled at
    once when the server is exiting)."""
    TRACKED.add(what)
    if CLOSING.is_set():
        what.cancel()


def count() -> int:
    """Jobs with a thread alive in this process: training sessions (paused ones too) and
    exports (a test checks disconnects stop theirs), and the places :func:`slot` holds."""
    return sum(1 for j in list(TRACKED) if j.alive) + sum(1 for p in list(_HELD) if p.counts)


class Place:
    """A place :func:`slot` holds among ``limits.MAX_JOBS``. It counts until the work it is
    held for has a thread alive (``job``, set once the job is built): from then on the job
    counts itself, so it is never counted twice while its threads start."""

    def __init__(self) -> None:
        self.job: Running | None = None

    @property
    def counts(self) -> bool:
        return self.job is None or not self.job.alive


_HELD: list[Place] = []          # places held by work not yet counted by its threads
_SLOT_LOCK = threading.Lock()


@contextlib.contextmanager
def slot() -> Iterator[Place | None]:
    """A place among ``limits.MAX_JOBS`` for work that is not counted yet: a session's job
    while it is built off the event loop (set ``place.job`` once it is), or work that runs in
    the request itself (the "download HTML" of a shown network). Yields the place, or None
    when none is free; holds it until the block ends. Checking :func:`count` and starting
    later would let requests that arrive together all pass the check."""
    with _SLOT_LOCK:
        place = Place() if count() < limits.MAX_JOBS else None
        if place is not None:
            _HELD.append(place)
    try:
        yield place
    finally:
        if place is not None:
            with _SLOT_LOCK:
                _HELD.remove(place)


def cancel_all() -> None:
    """Ask every job and export to stop (the server is shutting down); does not wait."""
    for j in list(TRACKED):
        j.cancel()


def close() -> None:
    """The server is exiting (SIGTERM, Ctrl-C): every job stops, later ones are cancelled as
    they are made, and sessions no longer wait for their jobs' threads to end."""
    CLOSING.set()
    cancel_all()


async def off_loop(fn: Callable[[], T]) -> T:
    """``fn()`` in a daemon thread, awaited. Unlike ``asyncio.to_thread`` (the loop's
    executor, whose threads ``asyncio.run`` joins as it closes), an exiting server never
    waits for it: joining a job's threads can take seconds (an update traced in this
    process cannot be interrupted), and a signal must end the server within 2 s."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: tuple[bool, Any]) -> None:
        if done.done():              # the awaiting task was cancelled
            return
        ok, value = outcome
        if ok:
            done.set_result(value)
        else:
            done.set_exception(value)

    def run() -> None:
        outcome: tuple[bool, Any]
        try:
            outcome = (True, fn())
        except BaseException as e:      # handed to the awaiting task
            outcome = (False, e)
        with contextlib.suppress(RuntimeError):     # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="spacefold-off-loop", daemon=True).start()
    return await done


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
