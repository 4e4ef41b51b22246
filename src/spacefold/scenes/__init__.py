"""The scene catalogue of MISSION.md: each a Timeline built from real (trained) networks."""

from spacefold.scenes.api import render, to_timeline
from spacefold.scenes.registry import SCENES, SceneEntry, build_scene, get_scene, scene

__all__ = ["SCENES", "SceneEntry", "build_scene", "get_scene", "render", "scene", "to_timeline"]

