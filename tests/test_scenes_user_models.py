"""Every network scene told about a network built OUTSIDE spacefold: own nn.Module classes and
plain nn.Sequentials whose state dicts were saved with ``torch.save``. Each renders through
``sf.render`` to ``.npz`` and a small ``.png``; the npz's last stage must be ``model(x)`` on
the data given, so a scene that quietly used the zoo's network fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import spacefold as sf
from spacefold.errors import SpacefoldError
from spacefold.scenes import build_scene


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def fit(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int = 150,
        lr: float = 0.03, seed: int = 0) -> nn.Module:
    """The user's own training loop: Adam on cross-entropy, full batch."""
    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
    return model.eval()


class Bottle(nn.Module):
    """2 → 12 (ReLU) → 2 (tanh) → 3: a 2-unit stage whose tail is one Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.inp, self.mid, self.out = nn.Linear(2, 12), nn.Linear(12, 2), nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.mid(torch.relu(self.inp(x)))))


class Deep(nn.Module):
    """2 → 10 (ReLU) → 2 (ReLU) → 6 (tanh) → 3: after the 2-unit stage, not affine."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 2), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class Wave(nn.Module):
    """sin of a 2-unit layer first: exactly periodic."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(2, 2), nn.Linear(2, 16), nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.relu(self.b(torch.sin(self.a(x)))))


class Residual(nn.Module):
    """h = x + W₂·ReLU(W₁·x): a skip connection around a block, then ReLU and a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(2, 8), nn.Linear(8, 2), nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.relu(x + self.b(torch.relu(self.a(x)))))


@pytest.fixture(scope="module")
def gauss() -> sf.Dataset:
    return sf.dataset("gauss", classes=3, n=240, seed=1)


@pytest.fixture(scope="module")
def nets(gauss: sf.Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    x, y = gauss.x, gauss.y
    torch.manual_seed(0)
    out: dict[str, Any] = {"bottle": fit(Bottle(), x, y), "deep": fit(Deep(), x, y),
                           "wave": fit(Wave(), x, y), "residual": fit(Residual(), x, y)}
    # a plain Sequential saved as a state dict, loaded back by its architecture
    folder = tmp_path_factory.mktemp("weights")
    cloud = sf.dataset("cloud", n=300)
    torch.manual_seed(3)
    fold = fit(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), cloud.x, cloud.y,
               steps=300, lr=0.05)
    torch.save(fold.state_dict(), folder / "fold.pth")
    out["fold_path"] = folder / "fold.pth"
    out["fold"] = sf.load_model(folder / "fold.pth", arch="2-3-2", activation="relu")
    out["cloud"] = cloud
    torch.manual_seed(6)
    out["two"] = fit(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Sigmoid()),
                     cloud.x, cloud.y, steps=300, lr=0.05)
    torch.manual_seed(4)
    wide = fit(nn.Sequential(nn.Linear(2, 24), nn.Tanh(), nn.Linear(24, 3)), x, y)
    torch.save(wide.state_dict(), folder / "wide.pt")
    out["wide"] = sf.load_model(folder / "wide.pt", arch="2-24-3", activation="tanh")
    digits = sf.dataset("digits", n=400, seed=0)
    torch.manual_seed(5)
    dig = fit(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2), nn.Linear(2, 10)),
              digits.x, digits.y, steps=200, lr=0.01)
    out["digits"], out["digits_data"] = dig, digits
    return out


def torch_out(model: Any, x: np.ndarray) -> np.ndarray:
    if isinstance(model, sf.Network):
        model = model.to_torch()
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32)).numpy()


# (scene, model key, data key or None, options)
CASES = [
    ("spiral", "bottle", "gauss", {}),
    ("bottleneck", "bottle", "gauss", {}),
    ("bottleneck", "deep", "gauss", {}),
    ("bottleneck", "residual", "gauss", {}),
    ("spiral", "residual", "gauss", {}),
    ("extrapolation", "bottle", "gauss", {}),
    ("surfaces-argmax", "bottle", "gauss", {}),
    ("surfaces-softmax", "deep", "gauss", {}),
    ("fold-232", "fold", "cloud", {}),
    ("fold-222", "two", "cloud", {}),
    ("wide-layer", "wide", "gauss", {}),
    ("digits", "digits", "digits_data", {}),
]


def _args(nets: dict[str, Any], gauss: sf.Dataset, model: str, data: str) -> tuple[Any, Any]:
    d = gauss if data == "gauss" else nets[data]
    return nets[model], d


@pytest.mark.parametrize(("name", "model", "data", "opts"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_scene_tells_about_the_given_network(name: str, model: str, data: str,
                                             opts: dict[str, Any], nets: dict[str, Any],
                                             gauss: sf.Dataset, tmp_path: Path) -> None:
    m, d = _args(nets, gauss, model, data)
    npz = sf.render(name, tmp_path / f"{name}.npz", model=m, data=d, **opts)
    with np.load(npz) as z:
        last = len(z["names"]) - 1
        got = z[f"stage{last}_values"]
    want = torch_out(m, d.x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))
    png = sf.render(name, tmp_path / f"{name}.png", model=m, data=d, size=(160, 90),
                    still="poster", **opts)
    assert Image.open(png).size == (160, 90)
    tl = build_scene(name, model=m, data=d, **opts)
    tr = tl.meta["trace"]
    np.testing.assert_allclose(tr.output, want, rtol=1e-4,
                               atol=1e-4 * max(1.0, np.abs(want).max()))
    heading = tl.poster().heading
    arch = "-".join(str(w) for w in [d.dim] + [op.d_out for op in tr.ops
                                               if op.kind == "linear"])
    assert arch in heading, heading                 # the user's architecture, not the zoo's
    assert "100" not in arch and "2-100" not in heading


def test_bottleneck_draws_exact_lines_for_an_affine_tail_and_contours_otherwise(
        nets: dict[str, Any], gauss: sf.Dataset) -> None:
    exact = build_scene("bottleneck", model=nets["bottle"], data=gauss)
    assert exact.meta["affine_tail"] is not None and exact.meta["boundaries"]
    assert "from the weights" in exact.segments[-1].frame(1.0).caption
    computed = build_scene("bottleneck", model=nets["deep"], data=gauss)
    assert computed.meta["affine_tail"] is None and len(computed.meta["contours"]) > 0
    cap = computed.segments[-1].frame(1.0).caption
    assert "not affine" in cap and "contours" in cap


def test_surfaces_are_planes_only_for_a_one_linear_tail(nets: dict[str, Any],
                                                        gauss: sf.Dataset) -> None:
    exact = build_scene("surfaces-argmax", model=nets["bottle"], data=gauss)
    computed = build_scene("surfaces-argmax", model=nets["deep"], data=gauss)
    assert exact.meta["exact"] and not computed.meta["exact"]
    s = computed.meta["surfaces"]
    h = np.stack([s.h1.ravel(), s.h2.ravel()], 1)
    head = nets["deep"].head
    with torch.no_grad():
        want = head(torch.as_tensor(h, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(s.z.reshape(-1, 3), want, atol=1e-4)


def test_fold_creases_come_from_the_given_weights(nets: dict[str, Any]) -> None:
    tl = build_scene("fold-232", model=nets["fold"], data=nets["cloud"])
    f = tl.meta["fold"]
    w = nets["fold"].params["0.weight"]
    np.testing.assert_allclose(f.w, w, atol=1e-7)
    for line in f.creases:
        z = line @ f.w.T + f.b
        assert np.abs(z).min(axis=1).max() < 1e-9


def test_a_path_is_loaded_by_the_one_loader(tmp_path: Path, gauss: sf.Dataset) -> None:
    torch.manual_seed(0)
    model = sf.build("2-6-2-3", "relu", seed=0)
    path = sf.save(model, tmp_path / "m.safetensors")
    tl = build_scene("bottleneck", model=str(path), data=gauss)
    np.testing.assert_allclose(tl.meta["trace"].output, torch_out(model, gauss.x), atol=1e-5)
    torch.save(model.state_dict(), tmp_path / "m.pth")      # no spec in the file: one line
    with pytest.raises(SpacefoldError, match="has no spacefold spec") as e:
        build_scene("bottleneck", model=tmp_path / "m.pth", data=gauss)
    assert "\n" not in str(e.value)


def test_extrapolation_takes_two_models_and_draws_the_cell_only_if_periodic(
        nets: dict[str, Any], gauss: sf.Dataset) -> None:
    tl = build_scene("extrapolation", model=[nets["bottle"], nets["wave"]], data=gauss)
    assert len(tl.poster().panels) == 2
    relu, wave = tl.meta["periods"]
    assert relu is None and wave is not None
    np.testing.assert_allclose(tl.meta["trace"].output, torch_out(nets["bottle"], gauss.x),
                               atol=1e-5)
    assert len(build_scene("extrapolation", model=nets["bottle"], data=gauss)
               .poster().panels) == 1


def test_stage_picks_the_plane(nets: dict[str, Any], gauss: sf.Dataset) -> None:
    tl = build_scene("bottleneck", model=nets["deep"], data=gauss, stage=4)
    assert tl.meta["bottleneck_stage"] == 4


@pytest.mark.parametrize(("name", "widths", "message"), [
    ("bottleneck", (64, 64, 3), "bottleneck needs a 2-unit hidden stage; model 2-64-64-3 has "
                                "stages of width 64, 64, 3"),
    ("surfaces-argmax", (64, 3), "surfaces-argmax needs a 2-unit hidden stage"),
    ("fold-232", (8, 4, 3), "fold-232 needs a 3-unit hidden stage"),   # 3 outputs: gauss
    ("wide-layer", (2, 3), "wide-layer needs a hidden stage wider than 3 units"),
    ("fold-222", (3, 3), "fold-222 needs a network whose every layer is 2 units wide (2-2-2); "
                         "model 2-3-3 has a 3-D stage"),
])
def test_a_model_that_cannot_tell_the_story_gets_one_line(name: str, widths: tuple[int, ...],
                                                          message: str,
                                                          gauss: sf.Dataset) -> None:
    layers: list[nn.Module] = []
    d = 2
    for w in widths:
        layers += [nn.Linear(d, w), nn.ReLU()]
        d = w
    model = nn.Sequential(*layers[:-1])
    with pytest.raises(SpacefoldError) as e:
        build_scene(name, model=model, data=gauss)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_fold_after_a_wider_layer_draws_computed_creases(gauss: sf.Dataset) -> None:
    """2-8-3-3: the 3-unit layer reads 8-D, so the creases are the zero lines of its units
    over the input plane, computed; each crease vertex carried there is ~0 in some unit."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU(),
                          nn.Linear(3, 3)).eval()
    tl = build_scene("fold-232", model=model, data=gauss)
    f = tl.meta["fold"]
    assert not f.exact and f.creases and not f.pieces
    pre = model[:3]
    span = float(np.ptp(np.concatenate(f.creases), axis=0).max())
    for line in f.creases:
        with torch.no_grad():
            z = pre(torch.as_tensor(line, dtype=torch.float32)).numpy()
        assert np.abs(z).min(axis=1).max() < 0.05 * span       # on a zero line, to a pixel
    assert "computed" in tl.meta["caption"]
    digits = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU(),
                           nn.Linear(3, 10))
    with pytest.raises(SpacefoldError, match="reads 8-D and the input is 64-D"):
        build_scene("fold-232", model=digits, data=sf.dataset("digits", n=100))


def test_bad_stage_and_bad_data_are_one_line_errors(nets: dict[str, Any],
                                                    gauss: sf.Dataset) -> None:
    with pytest.raises(SpacefoldError, match="stage 99 out of range"):
        build_scene("bottleneck", model=nets["bottle"], data=gauss, stage=99)
    with pytest.raises(SpacefoldError, match="stage 1 of model"):
        build_scene("bottleneck", model=nets["bottle"], data=gauss, stage=1)
    with pytest.raises(SpacefoldError, match="data= needs model="):
        build_scene("spiral", data=gauss)
    with pytest.raises(SpacefoldError, match="data must be"):
        build_scene("spiral", model=nets["bottle"], data=42)
    x, y = torch.as_tensor(gauss.x), torch.as_tensor(gauss.y)
    tl = build_scene("spiral", model=nets["bottle"], data=(x, y))     # tensors work too
    assert f"{len(gauss)} given points" in tl.poster().heading


def test_one_output_bottleneck_line_is_where_the_output_is_one_half() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2), nn.ReLU(), nn.Linear(2, 1),
                      nn.Sigmoid()).eval()
    with torch.no_grad():                     # a line through the plane the data reach
        m[4].weight.copy_(torch.tensor([[1.0, -1.0]]))
        m[4].bias.zero_()
    d = sf.dataset("moons", n=200)
    tl = build_scene("bottleneck", model=m, data=d)
    bounds = tl.meta["boundaries"]
    assert len(bounds) == 1
    head = m[4:]
    bd = bounds[0]
    n = bd.normal / np.linalg.norm(bd.normal)
    mid = (bd.start + bd.end) / 2
    with torch.no_grad():
        on = head(torch.as_tensor(mid[None], dtype=torch.float32)).item()
        plus = head(torch.as_tensor((mid + 1e-3 * n)[None], dtype=torch.float32)).item()
    assert on == pytest.approx(0.5, abs=1e-5)
    assert (plus > 0.5) == (bd.k == 1)
    assert "where the output is 0.5" in tl.segments[-1].frame(1.0).caption


def test_one_output_bottleneck_captions_name_one_output_and_one_layer() -> None:
    """One output is not "the largest of its 2 scores"; one last layer is "layer 3", not
    "layers 3–3" (a hard sigmoid after it: not affine)."""
    d = sf.dataset("moons", n=100)
    for head, want in ((nn.Sigmoid(), "layer 3 colours it by which side of 0.5 its one "
                                      "output falls"),
                       (nn.Hardsigmoid(), "layer 3 (not affine) colours it by the network's "
                                          "decision")):
        torch.manual_seed(0)
        m = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2), nn.ReLU(),
                          nn.Linear(2, 1), head).eval()
        tl = build_scene("bottleneck", model=m, data=d)
        caption = tl.segments[-2].frame(1.0).caption
        assert caption == f"the data in this plane; {want}" + (
            " at every point" if "not affine" in want else "")


class Branches(nn.Module):
    """Two parallel branches of the input, concatenated: not a column of layers."""

    def __init__(self) -> None:
        super().__init__()
        self.b1, self.b2, self.out = nn.Linear(2, 3), nn.Linear(2, 2), nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([torch.relu(self.b1(x)), torch.tanh(self.b2(x))], 1))


class SkipCat(nn.Module):
    """The input concatenated with a hidden layer: the output reads both."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.out = nn.Linear(2, 4), nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([x, torch.relu(self.a(x))], 1))


def test_a_branching_network_is_drawn_as_it_reads_its_inputs(tmp_path: Path) -> None:
    from spacefold.scenes.story import diagram_of
    from spacefold.trace.graph import is_chain

    data = sf.dataset("moons", n=200)
    torch.manual_seed(0)
    tr = sf.trace(Branches().eval(), data)
    assert not is_chain(tr) and tr.meta["arch"] == "2-3-2-2 (branching)"
    d = diagram_of(tr)
    assert d.weights[0] is not None and d.weights[1] is None      # b2 reads the input, not b1
    assert d.weights[2].shape == (2, 2)                             # out's columns from b2
    np.testing.assert_array_equal(d.weights[2], tr.ops[7].params["W"][:, 3:5])
    assert (0, 2, "branch") in d.links and (1, 2, "cat") in d.links
    sf.render("layers", tmp_path / "b.png", model=Branches().eval(), data=data, size=(320, 180))
    assert Image.open(tmp_path / "b.png").size[0] > 0

    tr = sf.trace(SkipCat().eval(), data)
    d = diagram_of(tr)
    out_w = [op for op in tr.ops if op.kind == "linear"][1].params["W"]
    np.testing.assert_array_equal(d.weights[1], out_w[:, 2:6])     # from a's 4 units
    assert (0, 1, "cat") in d.links
    chain = sf.trace(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), data)
    assert is_chain(chain) and chain.meta["arch"] == "2-4-2"
    assert diagram_of(chain).weights[1] is chain.ops[3].params["W"]    # the same array


def test_fold_232_captions_of_another_network_say_what_its_data_and_decisions_show() -> None:
    data = sf.dataset("gauss", classes=2, n=200, seed=1)
    torch.manual_seed(0)
    net = fit(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), data.x, data.y)
    tl = build_scene("fold-232", model=net, data=data)
    caps = [s.frame(1.0).caption for s in tl.segments]
    assert caps[0].startswith("the input plane: gauss") and "no straight line" not in caps[0]
    acc = sf.trace(net, data).accuracy()
    assert caps[-1].endswith(f"{acc:.0%} of the points lie on their class's side")


def test_fold_232_orbit_of_a_layer_without_activation_names_none() -> None:
    """A 3-unit layer with no activation after it (a residual block reads it): the orbit's
    caption read 'the lifted plane after , seen from all sides'."""
    class Res(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp, self.fc, self.out = nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.inp(x)
            return self.out(h + torch.relu(self.fc(h)))

    torch.manual_seed(0)
    tl = build_scene("fold-232", model=Res().eval(), data=sf.dataset("moons", n=100))
    orbit = next(s for s in tl.segments if s.name.startswith("orbit"))
    assert orbit.frame(0.5).caption == "the lifted plane, seen from all sides"


def test_a_scene_leaves_the_users_module_in_its_training_mode() -> None:
    """sf.render(scene, model=net) switched the user's net to eval mode for good (their next
    epochs ran without dropout); it is traced as in eval mode, with the trace's warning."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2),
                        nn.Linear(2, 3)).train()
    with pytest.warns(UserWarning, match="training mode; spacefold traces it as in eval mode"):
        tl = build_scene("bottleneck", model=net, data=sf.dataset("spiral", classes=3, n=60))
    assert net.training and all(m.training for m in net.modules())
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(tl.meta["trace"].stages[0].values)).numpy()
    np.testing.assert_allclose(tl.meta["trace"].output, out, atol=1e-5)
