"""Drawing frames: the frame vocabulary (:mod:`.frame`), timelines, the 2-D backend, the 3-D
renderer and the encoders.

A backend is chosen by name through one registry, as Altair chooses its renderers::

    from spacefold.render import backend
    b = backend("numpy", size=(640, 360))     # or "c", or None: the default
    rgba = b.draw(frame)

``"c"`` draws with the compiled kernels, ``"numpy"`` with the same primitives in numpy (no C
compiler needed; slower), and None picks ``"c"`` when it was built and
``SPACEFOLD_NO_KERNELS`` is not set. :func:`register` adds a backend under a new name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from spacefold.render.frame import Frame


class Backend(Protocol):
    """What draws frames: ``draw`` returns the (H, W, 4) uint8 canvas, valid until the next
    call and read-only (a backend may keep what it drew for the next frame); ``close`` frees
    what it holds."""

    def draw(self, frame: Frame) -> np.ndarray: ...

    def close(self) -> None: ...


Factory = Callable[[tuple[int, int]], Backend]
_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Make ``backend(name, size)`` call ``factory(size)``."""
    _FACTORIES[name] = factory


def _builtin() -> None:
    from spacefold.render import kernel2d, rasterize

    def factory(kernels: rasterize.Kernels) -> Factory:
        return lambda size: kernel2d.KernelBackend(size, kernels)

    for name, kernels in rasterize.BY_NAME.items():
        _FACTORIES.setdefault(name, factory(kernels))


def names() -> list[str]:
    """The registered backends' names."""
    _builtin()
    return sorted(_FACTORIES)


def backend(name: str | None = None, size: tuple[int, int] = (1280, 720)) -> Backend:
    """A new backend drawing ``size`` (width, height) frames: ``name`` from :func:`names`, or
    None for the default kernels."""
    _builtin()
    if name is None:
        from spacefold.render import rasterize

        name = rasterize.DEFAULT.name
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"no render backend {name!r} (have: {', '.join(names())})")
    return factory(size)
