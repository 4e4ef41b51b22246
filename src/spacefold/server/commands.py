"""The commands a tab sends over its WebSocket, each field type-checked before it is used.

JSON has one number type, so a whole number is what an int field takes (not ``5.0``, not
``true``, not ``"5"``) and any finite number is what a float field takes; a field a command
does not take is an error too, never silently dropped. Bounds (an epoch after the current
one, a coordinate on the plane, a label below the classes) are checked where the value is
used (Job.train, points.edit); the config by :func:`config.parse_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spacefold.server.guard import BadInput

# cmd → the fields it takes (besides "cmd") and what each must be
FIELDS: dict[str, dict[str, str]] = {
    "config": {"config": "a JSON object of config fields"},
    "train": {"until": "a whole number (the epoch to pause at) or null"},
    "pause": {},
    "step": {},
    "reset": {},
    "save": {},
    "edit": {"add": "[x, y, label]: two numbers and a whole-number class",
             "remove": "[x, y]: two numbers"},
}


@dataclass(frozen=True)
class Command:
    """One checked command: ``cmd`` and the fields it was sent with (None: absent)."""

    cmd: str
    config: dict[str, Any] | None = None
    until: int | None = None
    add: list[float] | None = None      # [x, y, label]; the label is an int
    remove: list[float] | None = None   # [x, y]


def is_int(v: Any) -> bool:
    """A JSON whole number (bool is an int to Python, not to JSON)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _shown(v: Any) -> str:
    return repr(v)[:60]


def parse_command(msg: Any) -> Command:
    """``msg`` (parsed JSON) as a :class:`Command`; :class:`BadInput` (one line) naming the
    field, what it got and what it takes otherwise."""
    cmd = msg.get("cmd") if isinstance(msg, dict) else None
    if not isinstance(cmd, str) or cmd not in FIELDS:
        shown = _shown(cmd) if cmd is not None else "(none)"
        raise BadInput(f"unknown command {shown}; send a JSON object with cmd: "
                       f"{', '.join(FIELDS)}")
    assert isinstance(msg, dict)
    takes = FIELDS[cmd]
    extra = [k for k in msg if k != "cmd" and k not in takes]
    if extra:
        what = f"only {', '.join(takes)}" if takes else "no other fields"
        raise BadInput(f"{cmd}: unknown field {_shown(extra[0])}; {cmd} takes {what}")
    if cmd == "config":
        cfg = msg.get("config", {})
        if not isinstance(cfg, dict):
            raise BadInput(f"config: must be {takes['config']}, not {_shown(cfg)}")
        return Command(cmd, config=cfg)
    if cmd == "train":
        until = msg.get("until")
        if until is not None and not is_int(until):
            raise BadInput(f"train: until must be {takes['until']}, not {_shown(until)}")
        return Command(cmd, until=until)
    if cmd == "edit":
        return _edit(msg)
    return Command(cmd)


def _edit(msg: dict[str, Any]) -> Command:
    given = [k for k in ("add", "remove") if k in msg]
    if len(given) != 1:
        raise BadInput("edit takes one of add: [x, y, label] or remove: [x, y]"
                       + (", not both" if given else ""))
    name = given[0]
    v = msg[name]
    size = 3 if name == "add" else 2
    if not (isinstance(v, list) and len(v) == size and all(map(is_number, v[:2]))):
        raise BadInput(f"edit: {name} must be {FIELDS['edit'][name]}, not {_shown(v)}")
    if name == "add" and not is_int(v[2]):
        raise BadInput(f"edit: add's label must be a whole number (a class), not "
                       f"{_shown(v[2])}")
    return Command("edit", add=v) if name == "add" else Command("edit", remove=v)
