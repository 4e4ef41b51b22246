"""``argmax-softmax`` (MISSION.md scene 6): 25 seeded random scores as bars; argmax keeps only
the largest (one-hot), softmax turns them into probabilities that sum to 1, and a falling
temperature sharpens softmax towards argmax while it stays smooth. Every bar is computed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import NEGATIVE, POSITIVE, class_colors, color_of
from spacefold.errors import SpacefoldError
from spacefold.render.frame import Bars, Frame, Rect, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.basics import DIM, GOLD, ease, subscript
from spacefold.scenes.registry import scene

BARS_RECT: Rect = (0.06, 0.16, 0.90, 0.60)
SM_HEADING = "argmax and softmax:  from scores to a decision"
SM_CAPTION = ("argmax keeps only the largest score (a one-hot vector), but nudging any score "
              "almost never changes it, so its gradient is zero and training learns nothing; "
              "softmax gives smooth probabilities that sum to 1, and its gradient tells every "
              "score which way to move.")
TOP = 1.2            # headroom above the tallest bar (1.0), for the marker
SOFT_T_END = 0.3     # the temperature the sharpening segment ends at


def scores(n: int = 25, seed: int = 170) -> np.ndarray:
    """(n,) seeded standard-normal scores (seed 170: the largest is at index 3, as in the
    video this scene retells)."""
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def softmax(s: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(n,) probabilities ``exp(s_i / T) / Σ_j exp(s_j / T)`` (shifted by the max for safety)."""
    z = np.asarray(s, dtype=np.float64) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def one_hot(s: np.ndarray) -> np.ndarray:
    out = np.zeros(len(s))
    out[int(np.argmax(s))] = 1.0
    return out


@dataclass(frozen=True)
class _BarState:
    """One state of the bars and how it is labelled."""

    values: np.ndarray           # (K,) heights as drawn
    colors: np.ndarray           # (K, 3)
    ylim: tuple[float, float]
    title: str
    subtitle: str
    formula: str                 # big, top left
    readout: str                 # big, top right: the computed fact (argmax, Σ p)
    top_tick: str                # what a bar of height 1 means
    readout_color: Any = "#e8e8ee"


class _SoftmaxScene:
    def __init__(self, n: int = 25, seed: int = 170, by_class: bool = False) -> None:
        self.s = scores(n, seed)
        self.k = int(np.argmax(self.s))
        self.scale = float(np.abs(self.s).max())
        self.labels = [str(i) for i in range(n)]
        pos, neg = np.array(color_of(POSITIVE)[:3]), np.array(color_of(NEGATIVE)[:3])
        self.win = np.tile(pos, (n, 1))
        self.win[self.k] = GOLD
        signs = np.where((self.s >= 0)[:, None], pos, neg)
        if by_class:                                      # each score in its class's colour
            self.win = signs = class_colors(np.arange(n))   # in the palette in use
        drawn = self.s / self.scale                       # tallest |bar| = 1
        self.raw = _BarState(
            drawn, signs,
            (min(float(drawn.min()), 0.0) - 0.1, TOP), "25 scores s (a network's raw outputs)",
            f"drawn ÷ max|s| = {self.scale:.2f}: scores can be negative",
            r"$s_i$,  $i = 0 \ldots 24$",
            f"largest: s{subscript(self.k)} = {self.s[self.k]:.2f}", f"{self.scale:.2f}")
        self.argmax = _BarState(one_hot(self.s), self.win, (-0.06, TOP), "argmax: one-hot",
                                "1 for the largest score, 0 for all others",
                                r"$\mathrm{onehot}(\mathrm{argmax}_i\ s_i)$", f"argmax = {self.k}",
                                "1", GOLD)
        self.p = softmax(self.s)
        self.soft = self.softened(1.0)

    def softened(self, T: float) -> _BarState:
        """softmax(s / T) exactly, labelled with its sum."""
        p = softmax(self.s, T)
        name = "softmax" if T == 1.0 else f"softmax(s / T),  T = {T:.2f}"
        formula = (r"$p_i = e^{s_i} / \sum_j e^{s_j}$" if T == 1.0 else
                   r"$p_i = e^{s_i/T} / \sum_j e^{s_j/T}$")
        return _BarState(p, self.win, (-0.06, TOP), f"{name}: probabilities",
                         "every p_i > 0, and they sum to 1", formula,
                         f"Σ p = {p.sum():.3f}    p{subscript(self.k)} = {p[self.k]:.3f}", "1")

    def bars(self, a: _BarState, b: _BarState, t: float) -> Bars:
        """The bars a → b at t (straight-line interpolation of heights, colours and scale);
        the labels switch half way."""
        vals = (1 - t) * a.values + t * b.values
        cols = np.clip((1 - t) * a.colors + t * b.colors, 0, 1)
        lo = (1 - t) * a.ylim[0] + t * b.ylim[0]
        hi = (1 - t) * a.ylim[1] + t * b.ylim[1]
        look = b if t >= 0.5 else a

        def yf(v: float) -> float:          # data value → panel fraction
            return (v - lo) / (hi - lo)

        n = len(vals)
        texts = [Text((0.0, 1.12), look.formula, 20, va="bottom"),
                 Text((1.0, 1.12), look.readout, 20, look.readout_color, ha="right",
                      va="bottom"),
                 Text((-0.008, yf(0.0)), "0", 11, DIM, ha="right", va="center"),
                 Text((-0.008, yf(1.0)), look.top_tick, 11, DIM, ha="right", va="center"),
                 Text(((self.k + 0.7) / (n + 0.4), yf(max(float(vals[self.k]), 0.0)) + 0.015),
                      "▼", 12, GOLD, ha="center", va="bottom")]
        return Bars(vals, cols, (lo, hi), texts=texts, title=look.title,
                    subtitle=look.subtitle, xlabels=self.labels)

    def move(self, a: _BarState, b: _BarState, caption: str,
             ease: Callable[[float], float] = ease) -> Callable[[float], Frame]:
        return lambda alpha: Frame([(BARS_RECT, self.bars(a, b, ease(alpha)))],
                                   heading=SM_HEADING, caption=caption)

    def sharpen(self, alpha: float) -> Frame:
        """softmax(s / T) with T falling from 1 to SOFT_T_END: the exact distribution at every
        frame (not an interpolation), approaching argmax while staying smooth."""
        T = float(SOFT_T_END ** ease(alpha, 0.8))
        state = self.softened(T)
        return Frame([(BARS_RECT, self.bars(state, state, 1.0))], heading=SM_HEADING,
                     caption="a lower temperature T sharpens softmax towards argmax, "
                             "yet it stays smooth: still a gradient for every score")



@scene("argmax-softmax", "25 random scores as bars; argmax keeps the largest (one-hot), "
       "softmax turns them into probabilities that sum to 1", colors=("class",),
       classes_by=(), palette_by=("class",), traced=False)
def argmax_softmax(color_by: str | None = None, seed: int = 170) -> Timeline:
    """MISSION.md scene 6: raw → argmax → softmax → sharper softmax → raw, all computed.

    ``color_by``: None (bars by sign, the winner in gold) or "class" (each score, one per
    class, in its class colour); the bars have no positions to colour by."""
    if color_by not in (None, "class"):
        raise SpacefoldError(f"scene 'argmax-softmax' colours its bars by class only (each "
                             f"bar is a class); color_by {color_by!r} is not offered")
    sc = _SoftmaxScene(seed=seed, by_class=color_by == "class")
    sharp = sc.softened(SOFT_T_END)
    segs = [Segment("raw scores", 1.5, sc.move(sc.raw, sc.raw, "the raw outputs of a network: "
                                               "25 scores, one per class")),
            Segment("argmax", 2.6, sc.move(sc.raw, sc.argmax,
                                           "argmax keeps only the largest; nudge any score a "
                                           "little and nothing changes: its gradient is 0")),
            Segment("softmax", 2.8, sc.move(sc.argmax, sc.soft,
                                            "softmax: every score keeps a say; nudge one and "
                                            "every probability moves: a gradient for training")),
            Segment("softmax, T → 0", 2.8, sc.sharpen),
            Segment("back to the scores", 1.6, sc.move(sharp, sc.raw, "back to the raw scores",
                                                       smooth), key=False)]
    return Timeline("argmax-softmax", segs,
                    meta={"caption": SM_CAPTION, "scores": sc.s, "argmax": sc.k,
                          "softmax": sc.p},
                    poster_segment=2)
