"""The linear-regions scene (issue 11): its counts, cuts and boundary are the trace's exact
pieces; it takes the user's model (from Python and from the CLI) and refuses a tanh net."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from cli_helpers import run
from spacefold.render.frame import Space
from spacefold.scenes import build_scene, render
from spacefold.scenes.inputs import SceneError
from spacefold.trace.pieces import polygon_area


def _small() -> tuple[nn.Module, sf.Dataset]:
    torch.manual_seed(0)
    d = sf.dataset("moons", n=200, seed=0)
    net = sf.build("2-8-6-2", activation="relu", seed=0)
    sf.train(net, d, epochs=40, lr=0.05, seed=0)
    return net, d


def test_the_scene_tells_the_exact_pieces_layer_by_layer() -> None:
    net, d = _small()
    tl = build_scene("linear-regions", model=net, data=d)
    tr = tl.meta["trace"]
    assert [s.name for s in tl.segments] == ["the input plane", "layer 1 cuts", "layer 2 cuts",
                                             "decision boundary"]
    pieces = tr.linear_regions(tr.extent)
    assert len(tl.meta["pieces"]) == len(pieces)
    area = (tr.extent[1] - tr.extent[0]) * (tr.extent[3] - tr.extent[2])
    assert sum(polygon_area(p.polygon) for p in pieces) == pytest.approx(area, rel=1e-9)
    l1, l2 = tl.meta["layers"]
    assert len(l1.pieces) <= len(l2.pieces) == len(pieces)
    # layer 1's cuts are one straight segment per unit; layer 2's bend (several per unit)
    assert len(l1.cuts) == len(np.unique(l1.units)) <= 8
    assert len(l2.cuts) > len(np.unique(l2.units))
    np.testing.assert_allclose(tl.meta["boundaries"], tr.decision_boundaries(tr.extent))
    # the counts are on screen and in the captions
    f = tl.segments[2].frame(1.0)
    sp = f.panels[0][1]
    assert isinstance(sp, Space)
    text = " ".join(t.text for t in sp.texts)
    assert f"layer 1: {len(l1.pieces)} pieces" in text and f"layer 2: {len(l2.pieces)}" in text
    last = tl.segments[-1].frame(1.0)
    assert f"{len(tl.meta['boundaries'])} straight segments" in last.caption


def test_a_one_output_network_with_a_one_unit_layer_is_told_in_its_own_words() -> None:
    """One output has no "top two scores"; a 1-unit layer is not "its 1 units cut"."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 1), nn.ReLU(), nn.Linear(1, 1),
                        nn.Sigmoid()).eval()
    tl = build_scene("linear-regions", model=net, data=sf.dataset("moons", n=100, seed=0))
    caps = [s.frame(1.0).caption for s in tl.segments]
    assert caps[2].startswith("layer 2: its one unit cuts again every piece its line crosses,")
    n = len(tl.meta["boundaries"])
    assert caps[-1] == (f"inside every piece the output passes 0.5 along a straight line: the "
                        f"decision boundary is {n} straight segment{'s' * (n != 1)}")


def test_a_tanh_network_is_refused_in_one_line() -> None:
    d = sf.dataset("moons", n=50, seed=0)
    with pytest.raises(SceneError, match="layer 1 is tanh"):
        build_scene("linear-regions", model=sf.build("2-4-2", activation="tanh"), data=d)


def test_renders_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import av

    out = tmp_path / "pieces.mp4"
    code, _, err = run(capsys, "render", "linear-regions", "--size", "192x108", "--fps", "4",
                       "-o", out)
    assert code == 0, err
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) > 10


def test_default_scene_renders_a_poster(tmp_path: Path) -> None:
    png = render("linear-regions", tmp_path / "lr.png", size=(320, 180), still="poster")
    assert png.exists()
