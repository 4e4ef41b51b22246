"""Byte-compile spacefold before a benchmark times its processes.

``pip install`` byte-compiles a package, and an editable install writes its ``.pyc`` files on
the first import; a process started with ``PYTHONDONTWRITEBYTECODE=1`` (set in some CI and
container images) writes none, so every process would compile spacefold's ~100 modules from
source again (~0.1 s of CPU each start, not part of what a user runs). Reading ``.pyc`` files
is not affected by that variable, so compiling them once here measures what users get.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import spacefold


def byte_compile() -> str:
    """Compile spacefold's modules where they are imported from; returns a line saying so."""
    root = Path(spacefold.__file__).resolve().parent
    ok = compileall.compile_dir(str(root), quiet=1)
    return f"spacefold byte-compiled in {root} ({'ok' if ok else 'with errors'})"
