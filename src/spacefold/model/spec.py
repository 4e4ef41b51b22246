"""Architecture specs: "2-100-2-5" + activation names, as a frozen, JSON-able dataclass.

No torch here: a spec can be read, checked and traced from numpy weights alone; the
``nn.Sequential`` of a spec is built by :mod:`spacefold.model.torch_build`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacefold.errors import SpecError
from spacefold.limits import MAX_LAYERS, MAX_WIDTH
from spacefold.model.activations import ACTIVATIONS, SPEC_ACTIVATIONS, SPEC_HEADS

ACTIVATION_NAMES = SPEC_ACTIVATIONS   # hidden activations a spec may name (from the table)


@dataclass(frozen=True)
class ArchSpec:
    """Layer widths and one activation per hidden layer; ``head`` is applied after the last
    Linear ("sigmoid", "softmax") or ``None`` for raw logits.

    >>> ArchSpec.parse("2-100-2-5", "relu").to_dict()["widths"]
    [2, 100, 2, 5]
    """

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    head: str | None = None

    @staticmethod
    def parse(arch: str, activation: str | Sequence[str] = "relu",
              head: str | None = None) -> ArchSpec:
        widths = parse_arch(arch)
        n_hidden = len(widths) - 2
        if isinstance(activation, str):
            if "," not in activation:
                activation = activation.strip()
                _check_activation(activation)   # checked even when there is no hidden layer
            acts = tuple(a.strip() for a in activation.split(",")) if "," in activation \
                else (activation,) * n_hidden
        else:
            acts = tuple(activation)
        if len(acts) != n_hidden:
            raise SpecError(f"{len(acts)} activations given for {n_hidden} hidden layers "
                            f"of {arch!r}; give one name for all, or one per hidden layer")
        for a in acts:
            _check_activation(a)
        if head is not None and head not in SPEC_HEADS:
            raise SpecError(f"unknown head {head!r}; choose {', '.join(SPEC_HEADS)} or none")
        return ArchSpec(widths, acts, head)

    @property
    def arch(self) -> str:
        return "-".join(str(w) for w in self.widths)

    def to_dict(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "activations": list(self.activations),
                "head": self.head}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ArchSpec:
        try:
            widths, acts, head = d["widths"], d["activations"], d.get("head")
        except (KeyError, TypeError) as e:
            raise SpecError(f"bad model spec {str(d)[:80]!r}: missing {e}") from None
        # whole numbers and names as written: 8.5, true or "relu" alone are not read as 8, 1
        # or four letters
        if not isinstance(widths, list) or \
                not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
            raise SpecError(f"bad model spec: widths {str(widths)[:60]} must be a list of "
                            f"whole numbers")
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            raise SpecError(f"bad model spec: activations {str(acts)[:60]} must be a list of "
                            f"names")
        if head is not None and not isinstance(head, str):
            raise SpecError(f"bad model spec: head {str(head)[:40]} must be a name")
        return ArchSpec.parse("-".join(map(str, widths)), acts, head)

    def module_layout(self) -> list[tuple[int, str | None]]:
        """(state-dict index of each Linear, activation after it or None), in order — the
        layout ``build`` produces: Linear, activation, Linear, ..., Linear, head."""
        out: list[tuple[int, str | None]] = []
        idx = 0
        n = len(self.widths) - 1
        for i in range(n):
            act = self.activations[i] if i < len(self.activations) else self.head
            out.append((idx, act))
            idx += 2 if i < len(self.activations) else 1
        return out


def parse_arch(arch: str) -> tuple[int, ...]:
    """``"2-100-2-5"`` → ``(2, 100, 2, 5)``; every width in [1, MAX_WIDTH], at least two."""
    parts = str(arch).strip().split("-")
    if len(parts) < 2:
        raise SpecError(f"architecture {arch!r} needs at least input and output widths, "
                        f"like '2-100-5'")
    widths = []
    for p in parts:
        # ASCII decimals only ("²" is a digit that int() refuses); the length cap keeps
        # int() away from its 4300-digit limit (any longer width is out of range anyway).
        if not (p.strip().isascii() and p.strip().isdecimal() and len(p.strip()) <= 9):
            raise SpecError(f"architecture {arch!r}: {p!r} is not a width; widths are "
                            f"integers 1-{MAX_WIDTH} joined by '-', like '2-100-2-5'")
        w = int(p.strip())
        if not 1 <= w <= MAX_WIDTH:
            raise SpecError(f"architecture {arch!r}: width {w} must be in [1, {MAX_WIDTH}]")
        widths.append(w)
    if len(widths) - 1 > MAX_LAYERS:
        raise SpecError(f"architecture {arch!r}: {len(widths) - 1} layers, at most {MAX_LAYERS}")
    return tuple(widths)


def spec_params(name: str) -> dict[str, Any]:
    """The parameters of activation ``name`` in a spec (leaky ReLU's slope is 0.1 there)."""
    return dict(ACTIVATIONS[name].spec or {})


def _check_activation(name: str) -> None:
    if name not in ACTIVATION_NAMES:
        raise SpecError(f"unknown activation {name!r}; choose one of: "
                        f"{', '.join(sorted(ACTIVATION_NAMES))}")

