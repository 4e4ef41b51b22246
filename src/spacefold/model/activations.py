"""The one activation table: every elementwise activation (and output head) spacefold knows.

Each :class:`Activation` says everything the rest of the package needs about one function:
its registry name, the numpy function the trace computes, the torch modules and the
``torch.*`` / ``F.*`` / tensor-method forms it matches (with their parameters, in positional
order), a display label, a formula, a one-line narration and whether it is piecewise linear.
Spec parsing, ``build``, the trace, the scenes' captions and the CLI / web choices read it;
a new activation is one entry.

No torch here: torch classes and functions are named by their dotted paths and resolved only
by :mod:`spacefold.trace.torch_front` and :mod:`spacefold.model.torch_build` (which import
torch), so a checkpoint can be traced with numpy alone.

>>> ACTIVATIONS["leaky_relu"].label, ACTIVATIONS["leaky_relu"].piecewise_linear
('leaky ReLU', True)
>>> ACTIVATIONS["silu"](np.array([[0.0, 1.0]]), {}).round(4).tolist()
[[0.0, 0.7311]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import SpecError

Fn = Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]   # (M, d) float64 → (M, d)

# Arguments of the torch forms that do not change the values (in place or not, the numbers are
# the same; torch_front checks that an in-place input is not read again).
NEUTRAL_ARGS = ("inplace", "_stacklevel")


@dataclass(frozen=True)
class Form:
    """A function or tensor-method form: its dotted name ("torch.nn.functional.elu", or the
    method name "relu") and the names of its arguments after the input, in positional order."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Activation:
    """One row of the table. ``params`` maps each value-changing parameter to its torch
    default (the names are torch's: module attribute = keyword argument)."""

    name: str                                  # registry name and stage kind: "leaky_relu"
    label: str                                 # on screen: "leaky ReLU"
    formula: str                               # mathtext
    narration: str                             # what it does to the plane, one line
    fn: Fn = field(repr=False)
    piecewise_linear: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    modules: tuple[str, ...] = ()              # "torch.nn.LeakyReLU"
    functions: tuple[Form, ...] = ()           # torch.* / F.* forms
    methods: tuple[Form, ...] = ()             # tensor methods: x.relu()
    spec: Mapping[str, Any] | None = None      # params when named in a spec; None: not in specs
    head: bool = False                         # an output head over the classes (softmax, ...)
    over_classes: bool = False                 # acts on the whole vector (dim=-1), not per unit

    def bind(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``params`` completed with the defaults; unknown names are an error."""
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise SpecError(f"{self.name} has no parameter {unknown[0]!r}; its parameters: "
                            f"{', '.join(self.params) or 'none'}")
        return {**self.params, **given}

    def __call__(self, z: np.ndarray, params: Mapping[str, Any] | None = None) -> np.ndarray:
        return self.fn(z, self.bind(params))


# -- the numpy functions (float64, no overflow warnings at any magnitude) -------------------------

def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))                       # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(z: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    bz = beta * z
    return np.where(bz > threshold, z, np.logaddexp(0.0, np.minimum(bz, threshold)) / beta)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return np.asarray(erf(z))


def _gelu(z: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    if p["approximate"] == "tanh":
        c = math.sqrt(2 / math.pi)
        return 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z ** 3)))
    return 0.5 * z * (1 + _erf(z / math.sqrt(2)))


def _expm1_neg(z: np.ndarray) -> np.ndarray:
    return np.expm1(np.minimum(z, 0.0))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _prelu(z: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    w = np.asarray(p["weight"], dtype=np.float64).ravel()   # (1,) or (d,): slope per unit
    return np.where(z >= 0, z, w * z)


def _softmax_dim(p: Mapping[str, Any]) -> None:
    if p.get("dim") not in (-1, 1, None):
        raise SpecError(f"softmax over dim={p.get('dim')} is not supported; use dim=-1 "
                        f"(over the classes)")


F_ = "torch.nn.functional."
_INPLACE = ("inplace",)


def _over_classes(name: str) -> dict[str, Any]:
    """The rest of a softmax-like head's row: over the classes (dim=-1), spelled
    ``torch.<name>``, ``torch.special.<name>``, ``F.<name>`` and ``x.<name>()``."""
    dim = ("dim", "dtype")
    return {"params": {"dim": -1}, "head": True, "over_classes": True,
            "functions": (Form(f"torch.{name}", dim), Form(f"torch.special.{name}", dim),
                          Form(F_ + name, ("dim", "_stacklevel", "dtype"))),
            "methods": (Form(name, dim),)}

# Ordered as the scenes show them: the classic four first.
_TABLE: tuple[Activation, ...] = (
    Activation(
        "sigmoid", "sigmoid", r"$\sigma(x) = 1\,/\,(1 + e^{-x})$",
        "sigmoid squashes every coordinate into (0, 1): the plane lands in the unit square",
        lambda z, p: _sigmoid(z),
        modules=("torch.nn.Sigmoid",),
        functions=(Form("torch.sigmoid"), Form(F_ + "sigmoid"), Form("torch.special.expit")),
        methods=(Form("sigmoid"),), spec={}, head=True),
    Activation(
        "relu", "ReLU", r"$\mathrm{ReLU}(x) = \max(0,\ x)$",
        "ReLU sets negative coordinates to 0: the other quadrants fold onto the axes",
        lambda z, p: np.maximum(z, 0.0), piecewise_linear=True,
        modules=("torch.nn.ReLU",),
        functions=(Form("torch.relu"), Form(F_ + "relu", _INPLACE)),
        methods=(Form("relu"),), spec={}),
    Activation(
        "tanh", "tanh", r"$\tanh(x) = (e^{x} - e^{-x})\,/\,(e^{x} + e^{-x})$",
        "tanh squashes every coordinate into (−1, 1), steepest at 0",
        lambda z, p: np.tanh(z),
        modules=("torch.nn.Tanh",), functions=(Form("torch.tanh"), Form(F_ + "tanh")),
        methods=(Form("tanh"),), spec={}),
    Activation(
        "leaky_relu", "leaky ReLU", r"$\mathrm{leaky}(x) = \max(a\,x,\ x)$",
        "leaky ReLU shrinks negative coordinates by its slope: the plane bends at the axes",
        lambda z, p: np.where(z > 0, z, float(p["negative_slope"]) * z),
        piecewise_linear=True, params={"negative_slope": 0.01},
        modules=("torch.nn.LeakyReLU",),
        functions=(Form(F_ + "leaky_relu", ("negative_slope", "inplace")),),
        spec={"negative_slope": 0.1}),
    Activation(
        "sin", "sine", r"$\sin(x)$",
        "sine wraps each coordinate around: past ±π/2 the plane folds back on itself",
        lambda z, p: np.sin(z),
        modules=("spacefold.model.torch_build.Sine",), functions=(Form("torch.sin"),),
        methods=(Form("sin"),), spec={}),
    Activation(
        "relu6", "ReLU6", r"$\mathrm{ReLU6}(x) = \min(\max(0,\ x),\ 6)$",
        "ReLU6 clips every coordinate to [0, 6]: the plane folds onto the sides of a square",
        lambda z, p: np.clip(z, 0.0, 6.0), piecewise_linear=True,
        modules=("torch.nn.ReLU6",), functions=(Form(F_ + "relu6", _INPLACE),), spec={}),
    Activation(
        "prelu", "PReLU", r"$\mathrm{PReLU}(x) = \max(a\,x,\ x)$, $a$ learned",
        "PReLU shrinks negative coordinates by a learned slope per unit: the plane bends at "
        "the axes", _prelu, piecewise_linear=True, params={"weight": 0.25},
        modules=("torch.nn.PReLU",),
        functions=(Form("torch.prelu", ("weight",)), Form(F_ + "prelu", ("weight",))),
        methods=(Form("prelu", ("weight",)),)),
    Activation(
        "rrelu", "RReLU", r"$\mathrm{RReLU}(x) = \max(\frac{l+u}{2}x,\ x)$ (eval)",
        "RReLU in eval mode is a leaky ReLU with the mean slope: the plane bends at the axes",
        lambda z, p: np.where(z >= 0, z, z * (float(p["lower"]) + float(p["upper"])) / 2),
        piecewise_linear=True, params={"lower": 1 / 8, "upper": 1 / 3},
        modules=("torch.nn.RReLU",),
        functions=(Form("torch.rrelu", ("lower", "upper", "training")),
                   Form(F_ + "rrelu", ("lower", "upper", "training", "inplace"))),
        spec={}),
    Activation(
        "elu", "ELU", r"$\mathrm{ELU}(x) = x$ if $x > 0$, else $\alpha(e^{x} - 1)$",
        "ELU bends negative coordinates smoothly towards −α",
        lambda z, p: np.where(z > 0, z, float(p["alpha"]) * _expm1_neg(z)),
        params={"alpha": 1.0}, modules=("torch.nn.ELU",),
        functions=(Form(F_ + "elu", ("alpha", "inplace")),), spec={}),
    Activation(
        "selu", "SELU", r"$\mathrm{SELU}(x) = \lambda\,\mathrm{ELU}_{\alpha}(x)$",
        "SELU stretches positive coordinates by 1.05 and bends negative ones towards −1.76",
        lambda z, p: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * _expm1_neg(z)),
        modules=("torch.nn.SELU",),
        functions=(Form("torch.selu"), Form(F_ + "selu", _INPLACE)), spec={}),
    Activation(
        "celu", "CELU", r"$\mathrm{CELU}(x) = \max(0,x) + \min(0,\ \alpha(e^{x/\alpha} - 1))$",
        "CELU bends negative coordinates smoothly towards −α",
        lambda z, p: np.where(z > 0, z, float(p["alpha"])
                              * _expm1_neg(z / float(p["alpha"]))),
        params={"alpha": 1.0}, modules=("torch.nn.CELU",),
        functions=(Form("torch.celu", ("alpha",)), Form(F_ + "celu", ("alpha", "inplace"))),
        spec={}),
    Activation(
        "gelu", "GELU", r"$\mathrm{GELU}(x) = x\,\Phi(x)$",
        "GELU is a smooth ReLU: negative coordinates shrink towards 0, dipping a little below",
        _gelu, params={"approximate": "none"}, modules=("torch.nn.GELU",),
        functions=(Form(F_ + "gelu", ("approximate",)),), spec={}),
    Activation(
        "silu", "SiLU", r"$\mathrm{SiLU}(x) = x\,\sigma(x)$",
        "SiLU (swish) is a smooth ReLU: negative coordinates shrink towards 0, dipping below",
        lambda z, p: z * _sigmoid(z), modules=("torch.nn.SiLU",),
        functions=(Form(F_ + "silu", _INPLACE),), spec={}),
    Activation(
        "mish", "Mish", r"$\mathrm{Mish}(x) = x\,\tanh(\mathrm{softplus}(x))$",
        "Mish is a smooth ReLU: negative coordinates shrink towards 0, dipping below",
        lambda z, p: z * np.tanh(_softplus(z)), modules=("torch.nn.Mish",),
        functions=(Form(F_ + "mish", _INPLACE),), spec={}),
    Activation(
        "softplus", "softplus", r"$\mathrm{softplus}(x) = \frac{1}{\beta}\log(1 + e^{\beta x})$",
        "softplus is a smooth ReLU: every coordinate becomes positive",
        lambda z, p: _softplus(z, float(p["beta"]), float(p["threshold"])),
        params={"beta": 1.0, "threshold": 20.0}, modules=("torch.nn.Softplus",),
        functions=(Form(F_ + "softplus", ("beta", "threshold")),), spec={}),
    Activation(
        "softsign", "softsign", r"$\mathrm{softsign}(x) = x\,/\,(1 + |x|)$",
        "softsign squashes every coordinate into (−1, 1), more slowly than tanh",
        lambda z, p: z / (1.0 + np.abs(z)), modules=("torch.nn.Softsign",),
        functions=(Form(F_ + "softsign"),), spec={}),
    Activation(
        "hardtanh", "hardtanh", r"$\mathrm{hardtanh}(x) = \min(\max(x,\ a),\ b)$",
        "hardtanh clips every coordinate to [min, max]: the plane folds onto a square's sides",
        lambda z, p: np.clip(z, float(p["min_val"]), float(p["max_val"])),
        piecewise_linear=True, params={"min_val": -1.0, "max_val": 1.0},
        modules=("torch.nn.Hardtanh",),
        functions=(Form(F_ + "hardtanh", ("min_val", "max_val", "inplace")),), spec={}),
    Activation(
        "hardsigmoid", "hard sigmoid", r"$\mathrm{hardsigmoid}(x) = \min(\max(x/6 + 1/2,\ 0),\ 1)$",
        "hard sigmoid squashes every coordinate into [0, 1] with straight pieces",
        lambda z, p: np.clip(z / 6.0 + 0.5, 0.0, 1.0), piecewise_linear=True,
        modules=("torch.nn.Hardsigmoid",), functions=(Form(F_ + "hardsigmoid", _INPLACE),),
        spec={}),
    Activation(
        "hardswish", "hard swish", r"$\mathrm{hardswish}(x) = x\,\mathrm{ReLU6}(x + 3)/6$",
        "hard swish is SiLU made of pieces: negative coordinates go to 0, dipping below",
        lambda z, p: z * np.clip(z + 3.0, 0.0, 6.0) / 6.0, modules=("torch.nn.Hardswish",),
        functions=(Form(F_ + "hardswish", _INPLACE),), spec={}),
    Activation(
        "logsigmoid", "log-sigmoid", r"$\log\sigma(x) = -\mathrm{softplus}(-x)$",
        "log-sigmoid makes every coordinate negative: large ones go to 0, small ones stay",
        lambda z, p: -_softplus(-z), modules=("torch.nn.LogSigmoid",),
        functions=(Form(F_ + "logsigmoid"),), spec={}),
    Activation(
        "tanhshrink", "tanhshrink", r"$\mathrm{tanhshrink}(x) = x - \tanh(x)$",
        "tanhshrink flattens the plane near the axes and keeps the far parts",
        lambda z, p: z - np.tanh(z), modules=("torch.nn.Tanhshrink",),
        functions=(Form(F_ + "tanhshrink"),), spec={}),
    Activation(
        "softshrink", "softshrink", r"$\mathrm{softshrink}(x) = x \mp \lambda$ beyond $\pm\lambda$",
        "softshrink sets coordinates within ±λ to 0 and pulls the rest in by λ",
        lambda z, p: np.where(z > p["lambd"], z - p["lambd"],
                              np.where(z < -p["lambd"], z + p["lambd"], 0.0)),
        piecewise_linear=True, params={"lambd": 0.5}, modules=("torch.nn.Softshrink",),
        functions=(Form(F_ + "softshrink", ("lambd",)),), spec={}),
    Activation(
        "hardshrink", "hardshrink", r"$\mathrm{hardshrink}(x) = x$ if $|x| > \lambda$, else 0",
        "hardshrink sets coordinates within ±λ to 0 and leaves the rest: the plane tears",
        lambda z, p: np.where(np.abs(z) > p["lambd"], z, 0.0), piecewise_linear=True,
        params={"lambd": 0.5}, modules=("torch.nn.Hardshrink",),
        functions=(Form("torch.hardshrink", ("lambd",)),
                   Form(F_ + "hardshrink", ("lambd",))),
        methods=(Form("hardshrink", ("lambd",)),), spec={}),
    Activation(
        "threshold", "threshold", r"$y = x$ if $x > t$, else $v$",
        "threshold replaces every coordinate at or below t by v: the plane tears there",
        lambda z, p: np.where(z > p["threshold"], z, float(p["value"])),
        piecewise_linear=True, params={"threshold": 0.0, "value": 0.0},
        modules=("torch.nn.Threshold",),
        functions=(Form("torch.threshold", ("threshold", "value")),
                   Form(F_ + "threshold", ("threshold", "value", "inplace")))),
    Activation(   # nn.Identity is skipped by the trace (no stage): it moves nothing
        "identity", "identity", r"$x$", "identity: nothing moves",
        lambda z, p: z, piecewise_linear=True, modules=("torch.nn.Identity",), spec={}),
    Activation(
        "softmax", "softmax", r"$\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$",
        "softmax turns the outputs into probabilities that sum to 1",
        lambda z, p: _softmax(z), modules=("torch.nn.Softmax",), spec={"dim": -1},
        **_over_classes("softmax")),
    Activation(
        "log_softmax", "log-softmax", r"$\log\,\mathrm{softmax}(x)_i = x_i - \log\sum_j e^{x_j}$",
        "log-softmax turns the outputs into log-probabilities: the largest is closest to 0",
        lambda z, p: _log_softmax(z), modules=("torch.nn.LogSoftmax",),
        **_over_classes("log_softmax")),
    Activation(
        "softmin", "softmin", r"$\mathrm{softmin}(x)_i = e^{-x_i} / \sum_j e^{-x_j}$",
        "softmin turns the outputs into probabilities, the smallest the most likely",
        lambda z, p: _softmax(-z), params={"dim": -1}, modules=("torch.nn.Softmin",),
        functions=(Form(F_ + "softmin", ("dim", "_stacklevel", "dtype")),),
        head=True, over_classes=True),
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _TABLE}
"""name → :class:`Activation`, in the order the scenes show them."""

SPEC_ACTIVATIONS: tuple[str, ...] = tuple(sorted(a.name for a in _TABLE
                                                 if a.spec is not None and not a.over_classes))
"""The names a spec ("2-8-5" + activation) accepts for hidden layers."""

SPEC_HEADS: tuple[str, ...] = ("sigmoid", "softmax")
"""Output heads a spec accepts (training knows their losses)."""


def activation(name: str) -> Activation:
    """The table entry ``name``; an unknown name is a one-line error listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise SpecError(f"unknown activation {name!r}; choose one of: "
                        f"{', '.join(sorted(ACTIVATIONS))}") from None


def label(kind: str) -> str:
    """The display label of a stage kind: "ReLU" for "relu"; other kinds are shown as they are."""
    a = ACTIVATIONS.get(kind)
    return a.label if a is not None else kind


def check_params(a: Activation, params: Mapping[str, Any]) -> None:
    """Raises a one-line :class:`SpecError` if ``params`` are outside what the trace computes."""
    if a.over_classes:
        _softmax_dim(params)
