"""The headless OpenGL context: moderngl on EGL (Mesa's llvmpipe renders in software), with
one clear error naming the packages when it cannot be made, and ``glFlush``."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from spacefold.errors import RenderError

GL_PACKAGES = "libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri"


def create() -> tuple[Any, Any]:
    """(moderngl, a standalone EGL context), or a RenderError saying what to install."""
    try:
        import moderngl
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise RenderError(f"3-D rendering needs moderngl (pip install moderngl): {e}") \
            from None
    try:
        # the sonames of Debian's libgl1 / libegl1: no -dev symlinks or ldconfig needed
        egl: dict[str, Any] = {"backend": "egl", "libgl": "libGL.so.1",
                               "libegl": "libEGL.so.1"}
        ctx = moderngl.create_standalone_context(**egl)
    except Exception as e:
        raise RenderError(f"3-D rendering needs OpenGL through EGL: "
                          f"apt-get install {GL_PACKAGES} ({e})") from None
    return moderngl, ctx


def gl_flush() -> Callable[[], None] | None:
    """``glFlush`` of the current context (moderngl has none), or None where it can't be
    found. On llvmpipe it hands the commands so far to the rasterizer threads, which then
    work while this thread sorts, shades vertices and bins the rest."""
    try:
        egl = ctypes.CDLL("libEGL.so.1")
        egl.eglGetProcAddress.restype = ctypes.c_void_p
        egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
        addr = egl.eglGetProcAddress(b"glFlush")
    except (OSError, AttributeError):
        return None
    return ctypes.CFUNCTYPE(None)(addr) if addr else None
