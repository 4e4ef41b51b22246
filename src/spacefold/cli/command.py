"""The Click command class of every ``spacefold`` command, and the help of a scene's command.

Click keeps the last value of an option given twice and drops the first without a word; a
spacefold command refuses it in one line. ``spacefold render SCENE --help`` lists only the
options SCENE takes, with the values it offers: a command given a ``ShowRule`` (cli/render.py,
cli/export.py) shows each parameter as the rule says, for that scene or (no scene, or an
unknown one) for every scene, so the help and the checks read the same registry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from typer.core import TyperCommand

from spacefold.errors import SpacefoldError
from spacefold.scenes.registry import SceneEntry

# (the scene named, or None; a parameter) → the parameter as the help shows it, or None to
# leave it out of the help
ShowRule = Callable[[SceneEntry | None, Any], Any]

_SCENE = "spacefold.scene"     # ctx.meta keys: the scene the command line names,
_HELP = "spacefold.help"       # and whether the help is being written


class Command(TyperCommand):
    """A spacefold command: an option given twice is an error, not a silent last-one-wins."""

    show_rule: ShowRule | None = None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        parsed = self._peek(ctx, args)
        if parsed is not None:
            opts, order = parsed
            counts = Counter(p for p in order if getattr(p, "param_type_name", "") == "option"
                             and not p.multiple and not p.count and p.name != "help")
            twice = [max(p.opts, key=len) for p, k in counts.items() if k > 1]
            if twice:
                raise SpacefoldError(f"{', '.join(twice)} given more than once; give "
                                     f"{'it' if len(twice) == 1 else 'each'} once")
            ctx.meta[_SCENE] = opts.get("scene")
        return super().parse_args(ctx, args)

    def _peek(self, ctx: Any, args: Sequence[str]) -> tuple[dict[str, Any], list[Any]] | None:
        """What Click's parser makes of ``args`` before any value is converted or checked
        (None if it fails: the real parse then says why)."""
        try:
            opts, _, order = self.make_parser(ctx).parse_args(args=list(args))
        except Exception:    # Click's usage errors, reported by the parse that follows
            return None
        return opts, order

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_HELP] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta[_HELP] = False

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        if self.show_rule is None or not ctx.meta.get(_HELP):
            return params
        from spacefold.scenes import SCENES

        name = ctx.meta.get(_SCENE)
        entry = SCENES[name] if isinstance(name, str) and name in SCENES else None
        return [q for p in params if (q := self.show_rule(entry, p)) is not None]


def command_class(rule: ShowRule | None = None) -> type[Command]:
    """The command class of a command whose help ``rule`` shows (None: as declared)."""
    if rule is None:
        return Command
    return type("SceneCommand", (Command,), {"show_rule": staticmethod(rule)})


def with_help(param: Any, text: str) -> Any:
    """A copy of ``param`` whose help is ``text``."""
    import copy

    shown = copy.copy(param)
    shown.help = text
    return shown
