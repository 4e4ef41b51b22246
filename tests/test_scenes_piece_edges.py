"""``--show linear-regions`` (issue 11): the faint edges drawn over a plane story are the trace's
exact pieces, each shared edge once, carried through the stages as the grid is (checked with
torch: an edge's image is the straight segment between its carried ends); a network that is not
piecewise linear is refused in one line, from Python and from the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.render.frame import Line, Space
from spacefold.scenes import build_scene
from spacefold.scenes.inputs import SceneError
from spacefold.scenes.piece_edges import EDGE_COLOR, PieceEdges, shared_edges
from spacefold.trace.pieces import polygon_area


def _small() -> tuple[nn.Sequential, sf.Dataset]:
    d = sf.dataset("moons", n=200, seed=0)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 6), nn.LeakyReLU(0.1),
                        nn.Linear(6, 2))
    sf.train(net, d, epochs=40, lr=0.05, seed=0)
    return net.eval(), d


def _edge_line(sp: Space) -> Line:
    line = sp.lines[0]
    assert line.color == EDGE_COLOR and line.xy.shape[0] % 3 == 0
    return line


def _segments(line: Line) -> np.ndarray:
    """The line's (S, 2, 2) segments (it is broken by a NaN row after each)."""
    assert np.isnan(line.xy[2::3]).all()
    return np.stack([line.xy[0::3], line.xy[1::3]], axis=1)


def _perimeter(poly: np.ndarray) -> float:
    return float(np.hypot(*(np.roll(poly, -1, axis=0) - poly).T).sum())


def test_the_overlay_is_the_pieces_edges_each_drawn_once() -> None:
    net, d = _small()
    tl = build_scene("layers", model=net, data=d, show_linear_regions=True)
    tr = tl.meta["trace"]
    pieces = tr.linear_regions(tr.extent)
    sp = tl.segments[0].frame(1.0).panels[0][1]
    assert isinstance(sp, Space)
    segs = _segments(_edge_line(sp))
    np.testing.assert_array_equal(segs, shared_edges(pieces, tr.extent))
    assert f"{len(pieces)} linear pieces" in " ".join(t.text for t in sp.texts)
    # each interior boundary once: the drawn length is half the pieces' perimeters less the box
    x0, x1, y0, y1 = tr.extent
    box = 2 * ((x1 - x0) + (y1 - y0))
    drawn = float(np.hypot(*(segs[:, 1] - segs[:, 0]).T).sum())
    assert drawn == pytest.approx((sum(_perimeter(p.polygon) for p in pieces) - box) / 2,
                                  rel=1e-9)
    assert sum(polygon_area(p.polygon) for p in pieces) == pytest.approx(
        (x1 - x0) * (y1 - y0), rel=1e-9)
    # every drawn edge lies on the boundary of a piece: its midpoint is a vertex-free point
    # where two patterns meet (the pattern just left and just right of it differ)
    mid = segs.mean(axis=1)
    normal = np.stack([-(segs[:, 1, 1] - segs[:, 0, 1]), segs[:, 1, 0] - segs[:, 0, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    eps = 1e-7 * (x1 - x0)
    with torch.no_grad():
        net64 = net.double()
        pre = [net64[0], net64[:3]]                  # the two layers' pre-activations
        sides = [[(m(torch.from_numpy(mid + s * eps * normal)) > 0).numpy() for m in pre]
                 for s in (1, -1)]
        net.float()
    flips = [(a != b).any(axis=1) for a, b in zip(sides[0], sides[1], strict=True)]
    assert (flips[0] | flips[1]).all()


def test_the_edges_are_carried_through_the_stages_as_torch_computes_them() -> None:
    net, d = _small()
    tl = build_scene("layers", model=net, data=d, show_linear_regions=True)
    tr = tl.meta["trace"]
    ends0 = _segments(_edge_line(tl.segments[0].frame(1.0).panels[0][1]))   # (S, 2, 2)
    names = [s.name for s in tr.stages]
    x = torch.from_numpy(ends0.reshape(-1, 2))
    mids = torch.from_numpy(ends0.mean(axis=1))
    with torch.no_grad():
        net64 = net.double()
        for k, upto in ((3, 2), (6, 4), (len(names) - 1, 5)):   # after ReLU, leaky, output
            want = net64[:upto](x).numpy()                      # stage k's values, by torch
            seg = next(s for s in tl.segments if s.name == names[k])
            sp = seg.frame(1.0).panels[0][1]
            got = _segments(_edge_line(sp))
            proj = tr.projection(k)
            np.testing.assert_allclose(got, proj(want).reshape(-1, 2, 2), atol=1e-9)
            # each edge's image is straight: its midpoint lands on the middle of the segment
            np.testing.assert_allclose(proj(net64[:upto](mids).numpy()), got.mean(axis=1),
                                       atol=1e-9)
            # half way into the stage: the trace's one rule, between its base and itself
            half = _segments(_edge_line(seg.frame(0.5).panels[0][1]))
            base = tr.stages[k].base
            from spacefold.render.timeline import smooth

            s = smooth(0.5)
            prev = PieceEdges(tr, tr.extent).display(base)
            np.testing.assert_allclose(half, (1 - s) * prev + s * got, atol=1e-9)
        net.float()


def test_a_tanh_network_is_refused_in_one_line() -> None:
    d = sf.dataset("moons", n=50, seed=0)
    net = sf.build("2-4-4-2", activation="relu,tanh", seed=0)
    with pytest.raises(SceneError, match="linear regions need piecewise-linear activations; "
                                         "layer 2 is tanh") as e:
        build_scene("layers", model=net, data=d, show_linear_regions=True)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["spiral", "bottleneck", "extrapolation", "fold-222"])
def test_the_plane_stories_draw_the_pieces(name: str) -> None:
    tl = build_scene(name, show_linear_regions=True)
    poster = tl.poster()
    sp = poster.panels[0][1]
    assert isinstance(sp, Space)
    assert any("linear piece" in t.text for t in sp.texts)
    assert len(_segments(_edge_line(sp))) > 0


def test_digits_draws_the_pieces_of_the_plane_it_shows() -> None:
    tl = build_scene("digits", show_linear_regions=True)
    sp = tl.poster().panels[0][1]
    assert isinstance(sp, Space)
    kb = tl.meta["bottleneck_stage"]
    # the default network is affine after its 2-unit plane: one piece, no edges
    assert any(f"1 linear piece of stage {kb}'s plane" in t.text for t in sp.texts)
    assert len(_segments(_edge_line(sp))) == 0


def test_the_cli_shows_linear_regions(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    relu = tmp_path / "relu.safetensors"
    sf.save(sf.build("2-6-2", activation="relu", seed=1), relu)
    out = tmp_path / "layers.png"
    code, _, err = run(capsys, "render", "layers", "--model", relu, "--data", "moons",
                       "--show", "linear-regions", "--size", "320x180", "-o", out)
    assert code == 0, err
    assert out.exists()
    tanh = tmp_path / "tanh.safetensors"
    sf.save(sf.build("2-6-2", activation="tanh", seed=1), tanh)
    bad = tmp_path / "bad.png"
    code, _, err = run(capsys, "render", "layers", "--model", tanh, "--data", "moons",
                       "--show", "linear-regions", "--size", "320x180", "-o", bad)
    assert_one_line_error(code, err, "layer 1 is tanh")
    assert not bad.exists()
