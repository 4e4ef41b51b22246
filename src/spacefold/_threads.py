"""One thread in each BLAS and OpenMP pool for the ``spacefold`` command.

Our arrays are small and the video encoder runs beside us on the other core: extra pool
threads only contend (a 1000x100 SVD measured 0.3-1.5 s instead of 20 ms). The pools read
these variables when their library loads, so the package sets them before it imports numpy,
in the command's process only (a library user's process is left alone); an explicit setting
from the user wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

POOLS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_each() -> None:
    """Set every pool of :data:`POOLS` to one thread unless the user set it."""
    for var in POOLS:
        os.environ.setdefault(var, "1")


def in_command() -> bool:
    """True in the process of the ``spacefold`` console script or ``python -m spacefold``."""
    if Path(sys.argv[0]).name == "spacefold":
        return True
    # the interpreter's own options, up to the script, -c or -m (-W and -X take a value)
    args = iter(list(getattr(sys, "orig_argv", ()))[1:])
    for a in args:
        if a == "-m":
            return next(args, None) == "spacefold"
        if a in ("-W", "-X"):
            next(args, None)
        elif a == "-c" or not a.startswith("-"):
            return False
    return False
