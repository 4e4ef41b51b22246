"""The scene catalogue: name → a function building a :class:`Timeline`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
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

    def options(self) -> tuple[str, ...]:
        """The keyword options ``build`` takes, sorted (``_private`` ones aside)."""
        params = inspect.signature(self.build).parameters.values()
        return tuple(sorted(p.name for p in params if not p.name.startswith("_") and
                            p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)))

    def open_options(self) -> bool:
        """True while ``build`` still takes ``**options`` (then any option is accepted)."""
        return any(p.kind is p.VAR_KEYWORD
                   for p in inspect.signature(self.build).parameters.values())

    def takes(self, option: str) -> bool:
        return option in self.options() or self.open_options()

    def check(self, options: Mapping[str, Any]) -> None:
        """Refuse, in one line, an option this scene's function does not take."""
        for key in options:
            if not self.takes(key):
                raise SpacefoldError(f"scene {self.name!r} takes no option {key!r} (it takes: "
                                     f"{', '.join(self.options()) or 'no options'})")


class _Catalogue(Mapping[str, SceneEntry]):
    """Scene name → entry. The scene modules register themselves when first asked for: a
    trace rendered by the ``layers`` story needs none of them, and the 3-D ones load OpenGL."""

    def __init__(self) -> None:
        self._entries: dict[str, SceneEntry] = {}
        self._loaded = False

    def add(self, entry: SceneEntry) -> None:
        self._entries[entry.name] = entry

    def _all(self) -> dict[str, SceneEntry]:
        if not self._loaded:
            self._loaded = True
            # the modules beside this one, found on disk (importing the package itself here
            # would be a cycle: it imports this registry)
            for mod in pkgutil.iter_modules([str(Path(__file__).parent)]):
                if mod.name not in ("api", "registry", "story", "zoo"):
                    importlib.import_module(f"{PACKAGE}.{mod.name}")
        return self._entries

    def __getitem__(self, name: str) -> SceneEntry:
        if name not in self._entries and name in HOMES:     # load only the module it lives in
            importlib.import_module(f"{PACKAGE}.{HOMES[name]}")
        if name in self._entries:
            return self._entries[name]
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


PACKAGE = __name__.rpartition(".")[0]     # "spacefold.scenes", whose modules register
SCENES = _Catalogue()
# the module each scene lives in: rendering one scene imports that module only (the 3-D
# modules load OpenGL and Matplotlib); a test holds this to the registrations
HOMES = {"affine": "affine", "activations": "activations", "argmax-softmax": "softmax",
         "spiral": "spiral", "bottleneck": "bottleneck", "extrapolation": "extrapolation",
         "digits": "digits", "fold-232": "fold3d", "layers": "layers", "fold-222": "layers",
         "surfaces-argmax": "surfaces3d", "surfaces-softmax": "surfaces3d",
         "training": "training", "wide-layer": "wide3d", "linear-regions": "linear_regions"}


def scene(name: str, description: str, needs_model: bool = False) -> Callable[
        [Callable[..., Timeline]], Callable[..., Timeline]]:
    """Decorator registering a scene builder under ``name``."""

    def register(fn: Callable[..., Timeline]) -> Callable[..., Timeline]:
        SCENES.add(SceneEntry(name, description, fn, needs_model))
        return fn

    return register


def get_scene(name: str) -> SceneEntry:
    if name not in SCENES:
        raise SpacefoldError(f"unknown scene {name!r}; choose one of: {', '.join(sorted(SCENES))}")
    return SCENES[name]


def build_scene(name: str, **options: Any) -> Timeline:
    """Scene ``name``'s Timeline; an option its function does not take is an error."""
    entry = get_scene(name)
    entry.check(options)
    return entry.build(**options)
