"""cli/intake.py: ``--data`` and a checkpoint's recipe become a scene's data; generator
options do not apply to a file; a scene refuses the options its function does not take."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from spacefold.cli.flags import SceneFlags
from spacefold.cli.intake import load_data, refuse_untaken, scene_inputs
from spacefold.errors import RenderError, SpacefoldError
from spacefold.model.recipe import data_recipe
from spacefold.scenes import SCENES


def test_command_line_options_override_the_checkpoints_recipe() -> None:
    d = sf.dataset("spiral", classes=3, n=90, noise=0.1, seed=4)
    recipe = data_recipe(d, "spiral")
    same = load_data("spiral", base=recipe)
    np.testing.assert_array_equal(same.x, d.x)
    more = load_data("spiral", n=120, base=recipe)
    assert len(more) == 120 and more.classes == 3
    other = load_data("gauss", base=recipe)  # another dataset: the recipe does not apply
    assert other.name == "gauss" and len(other) == 1000 and other.classes == 3
    with pytest.raises(SpacefoldError, match="unknown dataset 'nope'"):
        load_data("nope")


def test_file_data_takes_no_generator_options(tmp_path: Path) -> None:
    p = tmp_path / "ok.csv"
    p.write_text("0,0,0\n1,1,1\n0,1,1\n")
    assert len(load_data(str(p))) == 3
    with pytest.raises(SpacefoldError, match="--classes"):
        load_data(str(p), classes=4)


def test_a_scene_refuses_what_its_function_does_not_take(tmp_path: Path) -> None:
    entry = SCENES["fold-222"]
    with pytest.raises(RenderError, match="scene 'fold-222' takes no --recording"):
        refuse_untaken(entry, {"recording": "--recording"})
    refuse_untaken(SCENES["spiral"], {"model": "--model", "data": "--data"})
    code = tmp_path / "net.py"
    code.write_text("from torch import nn\n"
                    "def make():\n    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), "
                    "nn.Linear(4, 2))\n")
    opts = scene_inputs(SCENES["spiral"], SceneFlags(model_code=[f"{code}:make"], data="moons",
                                                     n=50, seed=3), color_by="position")
    assert set(opts) == {"model", "data", "color_by"} and len(opts["data"]) == 50
    # data is for the user's network: the scene's own network was trained on its own
    with pytest.raises(SpacefoldError, match="--data is data for your network: give --model"):
        scene_inputs(SCENES["spiral"], SceneFlags(data="moons"))
    with pytest.raises(SpacefoldError, match="--n needs --data NAME"):
        scene_inputs(SCENES["spiral"], SceneFlags(n=50))
