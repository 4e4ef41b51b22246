"""The scene catalogue of MISSION.md: each a Timeline built from real (trained) networks."""

import importlib
import pkgutil

from spacefold.scenes.api import render, to_timeline
from spacefold.scenes.registry import SCENES, SceneEntry, build_scene, get_scene, scene

__all__ = ["SCENES", "SceneEntry", "build_scene", "get_scene", "render", "scene", "to_timeline"]


def _register_all() -> None:
    """Import every scene module once so its ``@scene`` registrations run."""
    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in ("api", "registry", "story", "zoo"):
            importlib.import_module(f"{__name__}.{mod.name}")


_register_all()
