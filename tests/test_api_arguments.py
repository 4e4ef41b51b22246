"""The Python API's arguments: a wrong type or value, an option the output format does not
use, or data a network cannot tell apart is one line (a SpacefoldError), never a traceback
from deep inside nor a silent default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import spacefold as sf
from spacefold.errors import SpacefoldError


@pytest.fixture(scope="module")
def small_trace() -> sf.Trace:
    return sf.trace(sf.build("2-2-2"), sf.dataset("cloud", n=50).x)


@pytest.mark.parametrize("path, kw, why", [
    ("x.png", {"fps": 10}, "fps does nothing for a .png"),
    ("x.png", {"fade": 0}, "fade does nothing for a .png"),
    ("x.npz", {"size": (64, 36)}, "size does nothing for a .npz"),
    ("x.gif", {"still": "poster"}, "still does nothing for a .gif"),
    ("x.png", {"size": "640x360"}, "two whole numbers of pixels"),
    ("x.png", {"size": (64, 36, 3)}, "two whole numbers of pixels"),
    ("x.png", {"size": (64.7, 36)}, "two whole numbers of pixels"),
    ("x.gif", {"fps": True}, "must be a number"),
    ("x.gif", {"fps": 60}, "a GIF shows at most 50 frames a second"),
    ("x.png", {"bogus": 1}, "takes no bogus"),
])
def test_render_refuses_what_it_would_not_use(small_trace: sf.Trace, tmp_path: Path, path: str,
                                             kw: dict[str, Any], why: str) -> None:
    with pytest.raises(SpacefoldError, match=why):
        sf.render(small_trace, tmp_path / path, **kw)
    assert not (tmp_path / path).exists()


def test_render_wants_a_path(small_trace: sf.Trace) -> None:
    with pytest.raises(SpacefoldError, match="path must be a file name"):
        sf.render(small_trace, None)  # type: ignore[arg-type]


def test_a_gif_lasts_as_long_as_its_frames(small_trace: sf.Trace, tmp_path: Path) -> None:
    p = sf.render(small_trace, tmp_path / "x.gif", size=(64, 36), fps=30, duration=2.0)
    im, total = Image.open(p), 0
    try:
        while True:
            total += im.info["duration"]
            im.seek(im.tell() + 1)
    except EOFError:
        pass
    frames = sf.scenes.api.to_timeline(small_trace).paced(None, 2.0).n_frames(30)
    assert abs(total - 1000 * frames / 30) <= 10      # hundredths, rounded once, not per frame


def test_train_takes_a_name_or_an_x_y_pair_and_checks_its_arguments() -> None:
    x, y = torch.rand(40, 2), torch.arange(40) % 2
    assert sf.train(sf.build("2-3-2"), (x, y), epochs=2).epochs == 2
    assert sf.train(sf.build("2-3-2"), "moons", epochs=np.int64(2)).epochs == 2
    for kw, why in (({"epochs": "5"}, "epochs '5'"), ({"epochs": True}, "epochs True"),
                    ({"seed": -1}, "seed -1"), ({"weight_decay": float("nan")}, "weight_decay"),
                    ({"target_accuracy": 2}, "target_accuracy 2")):
        with pytest.raises(SpacefoldError, match=why):
            sf.train(sf.build("2-3-2"), "moons", **kw)
    with pytest.raises(SpacefoldError, match="model must be a torch nn.Module"):
        sf.train(None, "moons")  # type: ignore[arg-type]


def test_build_checks_its_arguments() -> None:
    for kw, why in (({"arch": [2, 3, 2]}, "a string of widths"),
                    ({"arch": "2-3-2", "activation": None}, "activation must be a name"),
                    ({"arch": "2-3-2", "seed": "x"}, "seed 'x'")):
        with pytest.raises(SpacefoldError, match=why):
            sf.build(**kw)
    assert isinstance(sf.build("2-3-2", seed=np.int64(3)), torch.nn.Module)


@pytest.mark.parametrize("labels, why", [
    (np.arange(10) * 0.5, "whole numbers"),
    (np.arange(10) - 1, "whole numbers, not negative"),
    (["a"] * 10, "a numeric array"),
    (np.zeros((10, 2)), "one per point"),
    (np.arange(10), "label 9 is beyond the network's 5 classes"),
])
def test_trace_labels_are_class_numbers_the_network_tells_apart(labels: Any, why: str) -> None:
    with pytest.raises(SpacefoldError, match=why):
        sf.trace(sf.build("2-3-5"), np.random.default_rng(0).random((10, 2)), labels=labels)


def test_a_recorder_refuses_labels_beyond_the_networks_outputs() -> None:
    x = np.random.default_rng(0).random((10, 2))
    with pytest.raises(SpacefoldError, match="tells 5 classes apart but data 'data' has "
                                             "label 11"):
        sf.Recorder(sf.build("2-3-5"), data=(x, np.arange(10) + 2))


def test_okabe_ito_refuses_more_classes_than_colours(tmp_path: Path) -> None:
    d = sf.dataset("gauss", classes=12, n=240)
    m = sf.build("2-16-12")
    sf.train(m, d, epochs=5)
    with pytest.raises(SpacefoldError, match="draws 12 classes; palette okabe-ito has 8"):
        sf.render("spiral", tmp_path / "s.png", model=m, data=d, size=(160, 90),
                  palette="okabe-ito")
    assert sf.render("spiral", tmp_path / "s.png", model=m, data=d, size=(160, 90)).exists()
    assert len(sf.colors.CLASS_COLORS) >= 20       # the default palette: one colour a class
