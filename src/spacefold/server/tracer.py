"""The live app's tracing processes: ``python -m spacefold.server.tracer``.

Tracing is numpy on small arrays, mostly Python: in the training thread's process it would
take turns with training for the GIL; in its own process it runs on the other core. The
server starts ``LIVE_TRACERS`` of them on first use, shared by all sessions (bounded). Each is
this module run as a program (not multiprocessing, whose spawn re-runs the user's main
script), fed pickled ``(args, kwargs)`` for :func:`spacefold.server.live.live_message` on
stdin and answering pickled ``(ok, result or error text)`` on stdout, one call at a time,
until stdin ends. Only the server starts it, so the pickles come from our own process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

LIVE_WORKER = os.environ.get("SPACEFOLD_LIVE_WORKER", "1") != "0"
_WORKER: list[Tracer] = []
_WORKER_LOCK = threading.Lock()


class Tracer:
    """A child process that runs :func:`live_message` calls one at a time.

    A call made for a job that stops meanwhile is abandoned within ~20 ms: the process is
    killed (a big network's update takes seconds to trace) and started again on the next
    call, so a stopped job never keeps a core busy.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc = self._spawn()
        self.restarts = 0

    @staticmethod
    def _spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "spacefold.server.tracer"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, *args: Any, abort: Callable[[], bool] | None = None, **kw: Any) -> Any:
        """The result of ``live_message(*args, **kw)`` traced in the process; None when
        ``abort()`` became true before it came back."""
        while not self.lock.acquire(timeout=0.02):
            if abort is not None and abort():
                return None
        try:
            if abort is not None and abort():
                return None
            if self.proc.poll() is not None:      # killed by an abandoned call: a new one
                self.proc = self._spawn()
                self.restarts += 1
            assert self.proc.stdin is not None and self.proc.stdout is not None
            request = memoryview(pickle.dumps((args, kw), protocol=pickle.HIGHEST_PROTOCOL))
            fd = self.proc.stdin.fileno()
            while request:     # ~1 MB for a big job: the pipe takes 64 KB at a time, and a
                # process still starting (imports) reads nothing for a second or two
                _, writable, _ = select.select([], [fd], [], 0.02)
                if writable:
                    request = request[os.write(fd, request[:65536]):]
                elif abort is not None and abort():
                    return self._abandon()
            while abort is not None:
                ready, _, _ = select.select([self.proc.stdout], [], [], 0.02)
                if ready:
                    break
                if abort():
                    return self._abandon()
            ok, value = pickle.load(self.proc.stdout)
        finally:
            self.lock.release()
        if not ok:
            raise RuntimeError(value)
        return value

    def _abandon(self) -> None:
        """The call's job has stopped: end the process mid-call (started again next time)."""
        self.proc.kill()
        self.proc.wait(5)

    def close(self, wait: float = 5.0) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()      # the child ends at end of input
            self.proc.wait(wait)
        except (OSError, subprocess.TimeoutExpired):   # already dead, or stuck
            self.proc.kill()
            self.proc.wait(5)


def worker(which: int = 0) -> Tracer | None:
    """Shared tracing process ``which`` (started on first use), or None when disabled or
    broken."""
    if not LIVE_WORKER:
        return None
    with _WORKER_LOCK:
        while len(_WORKER) <= which:
            try:
                _WORKER.append(Tracer())
            except OSError:
                return None
        return _WORKER[which]


def close_workers() -> None:
    """End the tracing processes (the server is exiting: an update being traced is not
    waited for beyond half a second); they start again on next use."""
    with _WORKER_LOCK:
        while _WORKER:
            _WORKER.pop().close(wait=0.5)


def kill_workers() -> None:
    """Kill the tracing processes at once (the server is exiting: an update being traced is
    not waited for, and they hold nothing to save). They start again on next use. Never
    blocks for long: a thread that holds the list meanwhile is only starting one."""
    locked = _WORKER_LOCK.acquire(timeout=0.1)
    try:
        for t in list(_WORKER):
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                t.proc.kill()
                t.proc.wait(1)
    finally:
        if locked:
            _WORKER_LOCK.release()


def drop_workers() -> None:
    """A worker broke: trace in the jobs' own threads from now on."""
    global LIVE_WORKER
    with _WORKER_LOCK:
        LIVE_WORKER = False
        while _WORKER:
            _WORKER.pop().close()


def main() -> None:
    """The child's loop (this module as a program)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr            # a stray print must not corrupt the pipe
    from spacefold.server.live import live_message

    while True:
        try:
            args, kw = pickle.load(inp)
        except (EOFError, OSError):
            return
        try:
            result: tuple[bool, object] = (True, live_message(*args, **kw))
        except Exception as e:  # reported to the caller, which falls back to its own thread
            result = (False, f"{type(e).__name__}: {e}")
        try:
            pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        except OSError:                # the server has gone: nobody to answer
            return


if __name__ == "__main__":
    main()
