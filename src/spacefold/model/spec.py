"""Architecture specs: "2-100-2-5" + activation names, as a frozen, JSON-able dataclass.

An activation may carry parameters after colons, in torch's positional order or by name:
``leaky_relu:0.2``, ``elu:alpha=0.5``, ``hardtanh:-2:2``, ``softplus:beta=2:threshold=10``.
Without them a spec uses its defaults (:func:`spec_params`): torch's, except leaky ReLU's
slope, which is 0.1 in a spec (torch's ``nn.LeakyReLU()`` is 0.01).

No torch here: a spec can be read, checked and traced from numpy weights alone; the
``nn.Sequential`` of a spec is built by :mod:`spacefold.model.torch_build`.

>>> ArchSpec.parse("2-8-8-2", "relu,leaky_relu:0.2").layer_params(1)
{'negative_slope': 0.2}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spacefold.errors import SpecError
from spacefold.limits import MAX_LAYERS, MAX_WIDTH
from spacefold.model.activations import ACTIVATIONS, SPEC_ACTIVATIONS, SPEC_HEADS

ACTIVATION_NAMES = SPEC_ACTIVATIONS   # hidden activations a spec may name (from the table)

Params = tuple[tuple[str, Any], ...]  # (parameter, value) pairs, in the table's order

# Beyond being a finite number: torch's own checks, and where the numpy trace computes what
# torch does (a CELU with α < 0 would differ; softplus with β ≤ 0 is no softplus).
_RULES: dict[tuple[str, str], tuple[Callable[[float], bool], str]] = {
    ("celu", "alpha"): (lambda v: v > 0, "> 0"),
    ("softplus", "beta"): (lambda v: v > 0, "> 0"),
    ("softshrink", "lambd"): (lambda v: v >= 0, ">= 0"),
    ("hardshrink", "lambd"): (lambda v: v >= 0, ">= 0"),
}
_ORDERED = {"hardtanh": ("min_val", "max_val"), "rrelu": ("lower", "upper")}  # lower < upper
_CHOICES = {("gelu", "approximate"): ("none", "tanh")}


@dataclass(frozen=True)
class ArchSpec:
    """Layer widths and one activation per hidden layer; ``head`` is applied after the last
    Linear ("sigmoid", "softmax") or ``None`` for raw logits. ``activation_params`` holds,
    per hidden layer, the parameters that differ from the spec defaults (``()`` when none
    do), so ``leaky_relu`` and ``leaky_relu:0.1`` are the same spec.

    >>> ArchSpec.parse("2-100-2-5", "relu").to_dict()["widths"]
    [2, 100, 2, 5]
    """

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    head: str | None = None
    activation_params: tuple[Params, ...] = ()

    def __post_init__(self) -> None:
        given = tuple(self.activation_params)
        if given and len(given) != len(self.activations):
            raise SpecError(f"{len(given)} parameter sets given for {len(self.activations)} "
                            f"hidden layers")
        norm = tuple(bind_params(a, dict(p), a) for a, p in zip(self.activations, given,
                                                                strict=False))
        object.__setattr__(self, "activation_params", norm if any(norm) else ())

    @staticmethod
    def parse(arch: str, activation: str | Sequence[str] = "relu",
              head: str | None = None) -> ArchSpec:
        """``activation``: one name (with its parameters) for every hidden layer, or a comma
        list / a list with one per hidden layer."""
        widths = parse_arch(arch)
        n_hidden = len(widths) - 2
        if isinstance(activation, str) and "," not in activation:
            # checked even when there is no hidden layer
            layers = [parse_activation(activation)] * n_hidden
        else:
            items = activation.split(",") if isinstance(activation, str) else list(activation)
            layers = [parse_activation(a) for a in items]
        if len(layers) != n_hidden:
            raise SpecError(f"{len(layers)} activations given for {n_hidden} hidden layers "
                            f"of {arch!r}; give one name for all, or one per hidden layer")
        if head is not None and head not in SPEC_HEADS:
            raise SpecError(f"unknown head {head!r}; choose {', '.join(SPEC_HEADS)} or none")
        return ArchSpec(widths, tuple(a for a, _ in layers), head, tuple(p for _, p in layers))

    @property
    def arch(self) -> str:
        return "-".join(str(w) for w in self.widths)

    @property
    def activation_texts(self) -> tuple[str, ...]:
        """Each hidden activation as a spec writes it: ``("relu", "leaky_relu:0.2")``."""
        return tuple(write_activation(a, self._given(i)) for i, a in enumerate(self.activations))

    def layer_params(self, layer: int) -> dict[str, Any]:
        """All parameters of the activation after Linear ``layer`` (0-based; the last Linear's
        is the head's), defaults included."""
        if layer < len(self.activations):
            return {**spec_params(self.activations[layer]), **dict(self._given(layer))}
        return spec_params(self.head) if self.head is not None else {}

    def _given(self, layer: int) -> Params:
        return self.activation_params[layer] if self.activation_params else ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"widths": list(self.widths), "activations": list(self.activations),
                             "head": self.head}
        if self.activation_params:     # only then: a spec of defaults is written as before
            d["params"] = [dict(p) for p in self.activation_params]
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ArchSpec:
        try:
            widths, acts, head = d["widths"], d["activations"], d.get("head")
            params = d.get("params", [])
        except (KeyError, TypeError, AttributeError) as e:
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
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params) \
                or len(params) not in (0, len(acts)):
            raise SpecError(f"bad model spec: params {str(params)[:60]} must be a list of one "
                            f"object per activation")
        spec = ArchSpec.parse("-".join(map(str, widths)), acts, head)
        given = tuple(bind_params(a, p, a, text=False)
                      for a, p in zip(spec.activations, params, strict=False))
        return ArchSpec(spec.widths, spec.activations, spec.head, given)

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
    """All parameters of activation ``name`` in a spec given without any: torch's defaults,
    except leaky ReLU's slope, which is 0.1 in a spec (``nn.LeakyReLU()``: 0.01)."""
    a = ACTIVATIONS[name]
    return {**a.params, **(a.spec or {})}


def parse_activation(text: str) -> tuple[str, Params]:
    """One activation as written: ``"leaky_relu:0.2"`` → ``("leaky_relu", (("negative_slope",
    0.2),))``. Values after colons are the parameters in torch's order, or ``name=value``."""
    item = str(text).strip()
    if "(" in item or ")" in item:
        raise SpecError(f"activation {item!r}: write its parameters after colons, like "
                        f"leaky_relu:0.2 or hardtanh:min_val=-2:max_val=2")
    name, *args = (p.strip() for p in item.split(":"))
    _check_activation(name)
    keys = list(spec_params(name))
    if args and not keys:
        raise SpecError(f"activation {item!r}: {name} takes no parameters")
    given: dict[str, Any] = {}
    named = False
    for i, arg in enumerate(args):
        key, eq, value = (s.strip() for s in arg.partition("="))
        named = named or bool(eq)
        if not eq:
            if named:
                raise SpecError(f"activation {item!r}: value {arg!r} after a named one; "
                                f"name it too")
            if i >= len(keys):
                raise SpecError(f"activation {item!r}: {name} takes {len(keys)} "
                                f"parameter{'s' if len(keys) > 1 else ''} "
                                f"({', '.join(keys)}), got {len(args)} values")
            key, value = keys[i], key
        if key in given:
            raise SpecError(f"activation {item!r}: {key} given twice")
        given[key] = value
    return name, bind_params(name, given, item)


def bind_params(name: str, given: Mapping[str, Any], where: str, text: bool = True) -> Params:
    """``given`` checked for activation ``name`` and reduced to the values that differ from
    its spec defaults, in the table's order; ``where`` names it in messages. Numbers may be
    given as text only when ``text`` (a JSON spec holds them as numbers)."""
    defaults = spec_params(name)
    values: dict[str, Any] = {}
    for key, raw in given.items():
        if key not in defaults:
            has = ", ".join(defaults) or "none"
            raise SpecError(f"activation {where!r}: {name} has no parameter {key!r}; its "
                            f"parameters: {has}")
        values[key] = _value(name, key, raw, where, text)
    lo_hi = _ORDERED.get(name)
    if lo_hi is not None:
        lo, hi = ({**defaults, **values}[k] for k in lo_hi)
        if not lo < hi:
            raise SpecError(f"activation {where!r}: {lo_hi[0]} {lo:g} must be below "
                            f"{lo_hi[1]} {hi:g}")
    return tuple((k, values[k]) for k in defaults if k in values and values[k] != defaults[k])


def _value(name: str, key: str, raw: Any, where: str, text: bool) -> Any:
    choices = _CHOICES.get((name, key))
    if choices is not None:
        if raw not in choices:
            raise SpecError(f"activation {where!r}: {key} {str(raw)[:20]!r} must be one of "
                            f"{', '.join(choices)}")
        return raw
    try:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float) if text else
                                                   (int, float)):
            raise ValueError
        v = float(raw)
    except (ValueError, OverflowError):
        raise SpecError(f"activation {where!r}: {key} {str(raw)[:20]!r} is not a number") \
            from None
    rule = _RULES.get((name, key))
    if not math.isfinite(v) or (rule is not None and not rule[0](v)):
        need = f"a finite number {rule[1]}" if rule else "a finite number"
        raise SpecError(f"activation {where!r}: {key} {str(raw)[:20]} must be {need}")
    return v


def write_activation(name: str, params: Params | Mapping[str, Any] = ()) -> str:
    """``("leaky_relu", {"negative_slope": 0.2})`` → ``"leaky_relu:0.2"``: the parameter
    alone when the activation has one, else ``name=value`` for each given."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    if not items:
        return name
    if len(spec_params(name)) == 1:
        return f"{name}:{_show(items[0][1])}"
    return name + "".join(f":{k}={_show(v)}" for k, v in items)


def params_help() -> str:
    """The spec defaults of every activation that has parameters, as a spec writes them:
    ``"celu:alpha=1, elu:alpha=1, ..., leaky_relu:negative_slope=0.1, ..."``."""
    return ", ".join(name + "".join(f":{k}={v:.4g}" if isinstance(v, float) else f":{k}={v}"
                                    for k, v in spec_params(name).items())
                     for name in ACTIVATION_NAMES if spec_params(name))


def _show(v: Any) -> str:
    if isinstance(v, float):
        text = repr(v)
        return text[:-2] if text.endswith(".0") else text
    return str(v)


def _check_activation(name: str) -> None:
    if name not in ACTIVATION_NAMES:
        raise SpecError(f"unknown activation {name!r}; choose one of: "
                        f"{', '.join(sorted(ACTIVATION_NAMES))}")
