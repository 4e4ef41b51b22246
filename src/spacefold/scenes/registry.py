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

COLOR_MODES = ("class", "position")     # the colourings Trace.colors(by=...) knows


@dataclass(frozen=True)
class SceneEntry:
    """A named scene: ``build(**options)`` returns its Timeline.

    What its options do is declared here, so a command can refuse (and its help leave out)
    what the scene cannot use before any work: the ``color_by`` values it offers, the
    colourings under which its points carry a class (marker shapes, ``markers="shapes"``)
    and under which it draws the palette's class colours (``palette=``). The colouring when
    none is given is ``build``'s own default. tests/test_scenes_registry.py holds every
    declaration to what the scene draws."""

    name: str
    description: str          # one line, shown by `spacefold scenes`
    build: Callable[..., Timeline]
    needs_model: bool = False  # True for scenes that render a user's model (`layers`)
    colors: tuple[str, ...] = COLOR_MODES             # the color_by values offered
    classes_by: tuple[str | None, ...] = COLOR_MODES  # colourings whose points have a class
    palette_by: tuple[str | None, ...] = COLOR_MODES  # colourings drawn in class colours
    traced: bool = True        # its Timeline carries one network's Trace (.npz, .html)

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

    def default_color(self) -> str | None:
        """The colouring ``build`` uses when given no ``color_by`` (None: its own, not one of
        :data:`COLOR_MODES`)."""
        p = inspect.signature(self.build).parameters.get("color_by")
        return p.default if p is not None and isinstance(p.default, str) else None

    def coloring(self, color_by: str | None) -> str | None:
        return self.default_color() if color_by is None else color_by

    def check(self, options: Mapping[str, Any]) -> None:
        """Refuse, in one line, an option this scene's function does not take, or a
        ``color_by`` it does not offer."""
        for key in options:
            if not self.takes(key):
                raise SpacefoldError(f"scene {self.name!r} takes no option {key!r} (it takes: "
                                     f"{', '.join(self.options()) or 'no options'})")
        color_by = options.get("color_by")
        if color_by is not None and self.takes("color_by") and color_by not in self.colors:
            raise SpacefoldError(f"scene {self.name!r} colours by "
                                 f"{' or '.join(self.colors)} only, not {color_by!r}")

    def check_look(self, color_by: str | None = None, palette: str = "default",
                   markers: str = "dots") -> None:
        """Refuse, in one line, ``markers="shapes"`` for points without a class and a
        palette for a scene that draws no class colours (in the colouring ``color_by``)."""
        mode = self.coloring(color_by)
        for option, value, modes, drawn in (
                ("markers", markers, self.classes_by, "points of a class"),
                ("palette", palette, self.palette_by, "class colours")):
            if value in ("dots", "default") or mode in modes:
                continue
            offered = [m for m in self.colors if m in modes]
            how = f" coloured by {mode}" if offered and mode is not None else ""
            instead = f" (it would with color_by={offered[0]}, --color-by {offered[0]})" \
                if offered else ""
            raise SpacefoldError(f"scene {self.name!r}{how} draws no {drawn}: {option}="
                                 f"{value} (--{option} {value}) would change nothing{instead}")


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


def scene(name: str, description: str, needs_model: bool = False, **declared: Any
          ) -> Callable[[Callable[..., Timeline]], Callable[..., Timeline]]:
    """Decorator registering a scene builder under ``name``; ``declared``: the
    :class:`SceneEntry` fields that say what its options do (``colors``, ``classes_by``,
    ``palette_by``, ``traced``)."""

    def register(fn: Callable[..., Timeline]) -> Callable[..., Timeline]:
        SCENES.add(SceneEntry(name, description, fn, needs_model, **declared))
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
