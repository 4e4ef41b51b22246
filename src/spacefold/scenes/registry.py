"""The scene catalogue: name → a function building a :class:`Timeline`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spacefold.errors import SpacefoldError
from spacefold.render.timeline import Timeline


@dataclass(frozen=True)
class SceneEntry:
    """A named scene: ``build(**options)`` returns its Timeline."""

    name: str
    description: str          # one line, shown by `spacefold scenes`
    build: Callable[..., Timeline]
    needs_model: bool = False  # True for scenes that render a user's model (`layers`)


SCENES: dict[str, SceneEntry] = {}


def scene(name: str, description: str, needs_model: bool = False) -> Callable[
        [Callable[..., Timeline]], Callable[..., Timeline]]:
    """Decorator registering a scene builder under ``name``."""

    def register(fn: Callable[..., Timeline]) -> Callable[..., Timeline]:
        SCENES[name] = SceneEntry(name, description, fn, needs_model)
        return fn

    return register


def get_scene(name: str) -> SceneEntry:
    if name not in SCENES:
        raise SpacefoldError(f"unknown scene {name!r}; choose one of: {', '.join(sorted(SCENES))}")
    return SCENES[name]


def build_scene(name: str, **options: Any) -> Timeline:
    return get_scene(name).build(**options)
