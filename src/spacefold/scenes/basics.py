"""What the building-block scenes (``affine``, ``activations``, ``argmax-softmax``) share: their
colours, their easing and how they write a number on screen."""

from __future__ import annotations

from collections.abc import Callable

from spacefold.colors import CLASS_COLORS
from spacefold.render.frame import Frame
from spacefold.render.timeline import smooth

GOLD = tuple(float(c) for c in CLASS_COLORS[0])
TEAL = tuple(float(c) for c in CLASS_COLORS[6])
GREEN = tuple(float(c) for c in CLASS_COLORS[3])
RED = tuple(float(c) for c in CLASS_COLORS[2])
DIM = (1.0, 1.0, 1.0, 0.35)
MONO = "monospace"


def ease(alpha: float, move: float = 0.7) -> float:
    """Move (smoothly) during the first ``move`` of a segment, then hold on the target."""
    return smooth(alpha / move)


def hold(frame: Frame) -> Callable[[float], Frame]:
    return lambda _a: frame


def fmt(v: float, width: int = 5) -> str:
    """A number for the screen: two decimals, a true minus sign, no "-0.00"."""
    v = 0.0 if abs(v) < 5e-3 else float(v)
    return f"{v:{width}.2f}".replace("-", "−")




def subscript(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
