"""The help of ``spacefold render`` and ``spacefold export``, read from the scene registry:
``render SCENE --help`` shows only the options SCENE takes, with the values it offers, and
the help of the command alone names, for each scene-dependent option, the scenes that take
it (cli/command.py applies these rules). The same declarations make the checks, so what the
help advertises is what the command accepts (tests/test_cli_help.py walks every scene)."""

from __future__ import annotations

from typing import Any

from spacefold.cli.command import with_help
from spacefold.cli.flags import MODEL_REPEAT, PAIRED_REPEAT
from spacefold.cli.intake import COMPARING_SCENES, PAIRED, SCENE_PARAMS
from spacefold.scenes import SCENES
from spacefold.scenes.registry import SceneEntry
from spacefold.scenes.show import SHOW

# a look option -> the SceneEntry declaration of the colourings it shows in, and what those
# colourings draw
LOOKS = {"markers": ("classes_by", "points of a class"),
         "palette": ("palette_by", "class colours")}
EXPORT_FORMATS = (".npz", ".html")     # one network's trace: scenes with `traced` only
DRAWINGS = " For .mp4, .gif and .png (a .npz or .html holds the numbers of every stage)."


def takers(option: str) -> list[str]:
    return [n for n in sorted(SCENES) if SCENES[n].takes(option)]


def color_help(entry: SceneEntry) -> str:
    """``--color-by`` for one scene: the colourings it offers and its default."""
    default = entry.default_color()
    return (f"Colour by {' or '.join(entry.colors)}. Default: "
            f"{default or 'the scene' + chr(39) + 's own colours'}.{DRAWINGS}")


def look_limits(entry: SceneEntry, option: str) -> tuple[list[str], list[str]] | None:
    """The ``--color-by`` values with which ``option`` (markers, palette) shows in ``entry``
    and those without which it does not; None when it never shows."""
    modes = getattr(entry, LOOKS[option][0])
    offered = [m for m in entry.colors if m in modes]
    if not offered and entry.default_color() not in modes:
        return None
    needs = offered if entry.default_color() not in modes else []
    never = [m for m in entry.colors if m not in modes]
    return needs, never


def look_note(entry: SceneEntry, option: str) -> str:
    """What a scene's colouring does to ``option`` (for its help): '', or like "only with
    --color-by class"."""
    limits = look_limits(entry, option)
    if limits is None:
        return ""
    needs, never = limits
    if needs:
        return f"only with --color-by {' or '.join(needs)}"
    return f"not with --color-by {' or '.join(never)}" if never else ""


def catalogue_note(option: str) -> str:
    """For the command's help: the scenes that refuse ``option`` (markers, palette), and
    those that take it with some colourings only."""
    never = [n for n in sorted(SCENES) if look_limits(SCENES[n], option) is None]
    partial: dict[str, list[str]] = {}
    for n in sorted(SCENES):
        if n not in never and (note := look_note(SCENES[n], option)):
            partial.setdefault(note, []).append(n)
    parts = ([f"Refused by {', '.join(never)} (no {LOOKS[option][1]})"] if never else []) \
        + [f"{note}: {', '.join(scenes)}" for note, scenes in partial.items()]
    return f" {'; '.join(parts)}." if parts else ""


def formats(entry: SceneEntry | None, all_formats: tuple[str, ...]) -> list[str]:
    return [f for f in all_formats if f not in EXPORT_FORMATS or entry is None or entry.traced]


def render_rule(entry: SceneEntry | None, param: Any) -> Any:
    """How ``spacefold render``'s help shows ``param``, for ``entry`` (None: every scene)."""
    name, text = param.name, param.help or ""
    if entry is None:
        if name == "output":
            untraced = [n for n in sorted(SCENES) if not SCENES[n].traced]
            return with_help(param, f"{text} .npz and .html: not for {', '.join(untraced)} "
                                    f"(no single network).") if untraced else param
        if name == "color_by":
            every = ("class", "position")
            fewer = [f"{n}: {' or '.join(SCENES[n].colors)} only" for n in sorted(SCENES)
                     if SCENES[n].colors != every]
            defaults = [f"{n}: {SCENES[n].default_color() or 'its own colours'}"
                        for n in sorted(SCENES) if SCENES[n].default_color() != "class"]
            return with_help(param, f"Point colours: class or position"
                                    f"{' (' + '; '.join(fewer) + ')' if fewer else ''}. "
                                    f"Default: class"
                                    f"{' (' + '; '.join(defaults) + ')' if defaults else ''}."
                                    f"{DRAWINGS}")
        if name in LOOKS:
            return with_help(param, text + catalogue_note(name))
        if name == "show":
            return with_help(param, "What to add to a plane story; repeatable. " + " ".join(
                f"{choice} ({', '.join(takers(option))}): {what}."
                for choice, (option, what) in SHOW.items()) + DRAWINGS)
        if name in ("model", "stage", "data"):
            return with_help(param, f"{text} Scenes: {', '.join(takers(name))}.")
        if name in ("classes", "n", "noise", "seed"):
            return with_help(param, f"{text} With --data.")
        if name == "model_code":
            return with_help(param, f"{text} Scenes: as --model.")
        return param
    if name == "scene":
        return with_help(param, f"{entry.name}: {entry.description}.")
    if name == "output":
        suffixes = formats(entry, (".gif", ".mp4", ".npz", ".png", ".html"))
        return with_help(param, f"Output file; the format comes from the suffix: "
                                f"{', '.join(suffixes)} (.png: every stage side by side"
                                + ("; .npz: the numbers of every stage; .html: the interactive "
                                   "page, as spacefold export)." if ".npz" in suffixes
                                   else ")."))
    if name in SCENE_PARAMS:
        if not entry.takes(SCENE_PARAMS[name]):
            return None
        if name == "model" and entry.name not in COMPARING_SCENES:
            return with_help(param, text.replace(MODEL_REPEAT, " One: the scene tells about "
                                                               "one network."))
        if name in PAIRED and entry.name not in COMPARING_SCENES:
            return with_help(param, text.replace(PAIRED_REPEAT, ""))
        return with_help(param, color_help(entry)) if name == "color_by" else param
    if name in LOOKS:
        note = look_note(entry, name)
        return None if look_limits(entry, name) is None else \
            with_help(param, f"{text} This scene: {note}." if note else text)
    if name == "show":
        shown = [(c, what) for c, (option, what) in SHOW.items() if entry.takes(option)]
        return with_help(param, "What to add to the story; repeatable. " + " ".join(
            f"{c}: {what}." for c, what in shown) + DRAWINGS) if shown else None
    return param


def export_rule(entry: SceneEntry | None, param: Any) -> Any:
    """How ``spacefold export``'s help shows ``param``, for ``entry`` (None: every scene).
    ``--stage`` is never shown: the page holds every stage, and export refuses it."""
    traced = [n for n in sorted(SCENES) if SCENES[n].traced]
    if param.name == "stage":
        return None
    if param.name == "scene":
        if entry is None:
            return with_help(param, f"A scene whose network to export; one of: "
                                    f"{', '.join(traced)}. Omit it with --model.")
        return with_help(param, f"{entry.name}: {entry.description}.")
    if param.name in SCENE_PARAMS:
        option = SCENE_PARAMS[param.name]
        if entry is not None and not entry.takes(option):
            return None
        text = (param.help or "").replace(MODEL_REPEAT, " One: a page shows one network.") \
            .replace(PAIRED_REPEAT, "")
        if entry is None and param.name in ("model", "data"):
            scenes = [n for n in takers(option) if n in traced]
            text += f" Scenes: {', '.join(scenes)}; and with no SCENE."
        elif entry is None and param.name in ("classes", "n", "noise", "seed"):
            text += " With --data."
        return with_help(param, text)
    return param
