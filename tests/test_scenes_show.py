"""scenes/show.py: every ``--show`` choice sets an option some scenes take, and the plane
stories take all of them."""

from __future__ import annotations

from spacefold.scenes.registry import SCENES
from spacefold.scenes.show import SHOW, show_help


def test_every_choice_is_an_option_of_the_plane_stories() -> None:
    for name, (option, what) in SHOW.items():
        assert option.startswith("show_") and what and name in show_help()
        assert SCENES["layers"].takes(option) and SCENES["fold-222"].takes(option)
        assert not SCENES["affine"].takes(option)
    takers = {n for n in SCENES if SCENES[n].takes("show_linear_regions")}
    assert takers == {"layers", "fold-222", "spiral", "bottleneck", "extrapolation", "digits"}
