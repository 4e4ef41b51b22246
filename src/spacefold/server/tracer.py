"""The live app's tracing process: ``python -m spacefold.server.tracer``.

Reads pickled ``(args, kwargs)`` for :func:`spacefold.server.jobs.live_message` from stdin and
writes pickled ``(ok, result or error text)`` to stdout, one call at a time, until stdin ends.
Only the server starts it (jobs.Tracer), so the pickles come from our own process.
"""

from __future__ import annotations

import os
import pickle
import sys


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr            # a stray print must not corrupt the pipe
    from spacefold.server.jobs import live_message

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
