"""What ``--show`` can add to a scene: one row per choice, the scene option it sets and what it
draws. The CLI's choices, its help and its refusals are generated from this table."""

from __future__ import annotations

# --show name → (the scene function's keyword option, what it draws)
SHOW: dict[str, tuple[str, str]] = {
    "math": ("show_math", "each stage writes its equation with the numbers (W·x with the "
                          "matrix up to 3x3, + b, the activation's formula)"),
    "linear-regions": ("show_linear_regions", "the edges of a piecewise-linear network's "
                                              "linear pieces, thin and faint, carried through "
                                              "every stage like the grid"),
}


def show_help() -> str:
    """``--show``'s help: every choice and what it draws."""
    return "; ".join(f"{name}: {what}" for name, (_, what) in SHOW.items()) + "."
