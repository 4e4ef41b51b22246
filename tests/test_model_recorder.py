"""``sf.Recorder``: the user's own training loop (their optimiser, not ``sf.train``) recorded
as weight snapshots, saved and loaded bit-exactly, and rendered as the ``training`` movie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from cli_helpers import assert_one_line_error, run
from spacefold.errors import SpacefoldError, SpecError


class Bottlenecked(nn.Module):
    """Not an nn.Sequential, not from sf.build: named layers, a functional tanh."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(2, 24)
        self.squeeze = nn.Linear(24, 2)
        self.out = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.squeeze(torch.tanh(self.inp(x)))))


def _train(model: nn.Module, data: sf.Dataset, epochs: int, rec: sf.Recorder | None,
           every: int = 1) -> None:
    """A plain PyTorch loop with torch's own SGD with momentum."""
    torch.manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    x, y = torch.as_tensor(data.x), torch.as_tensor(data.y)
    for epoch in range(epochs):
        loss = nn.functional.cross_entropy(model(x), y)
        if rec is not None and epoch % every == 0:
            rec.snapshot(epoch, loss=float(loss.detach()), lr=0.3)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.fixture(scope="module")
def recorded() -> tuple[Bottlenecked, sf.Recorder]:
    torch.manual_seed(1)
    model = Bottlenecked()
    data = sf.dataset("gauss", classes=3, n=300, seed=0)
    rec = sf.Recorder(model, data=data)
    _train(model, data, 120, rec)
    return model, rec


def test_the_layout_is_read_from_the_module_and_checked_against_it(
        recorded: tuple[Bottlenecked, sf.Recorder]) -> None:
    model, rec = recorded
    assert rec.spec.arch == "2-24-2-3" and rec.spec.activations == ("tanh", "relu")
    assert rec.module_keys["0.weight"] == "inp.weight" and rec.module_keys["4.bias"] == "out.bias"
    x = torch.randn(50, 2)
    for i in (0, 60, -1):     # each snapshot, put back into the user's class, is the trace
        snap = Bottlenecked()
        snap.load_state_dict(rec.state_dict(i))
        with torch.no_grad():
            want = snap.eval()(x).numpy()
        got = sf.trace(rec.network(i), x.numpy()).stages[-1].values
        np.testing.assert_allclose(got, want, atol=1e-5)
    # snapshots are copies, taken as the weights moved
    w = rec.weights("0.weight")
    assert not np.array_equal(w[0], w[-1]) and not np.array_equal(w[-1], model.inp.weight
                                                                   .detach().numpy())


class FunctionalLeaky(nn.Module):
    """A slope no module holds: F.leaky_relu(x, 0.3) in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(2, 6), nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(nn.functional.leaky_relu(self.a(x), 0.3))


@pytest.mark.parametrize("make, texts", [
    (lambda: nn.Sequential(nn.Linear(2, 6), nn.LeakyReLU(0.2), nn.Linear(6, 6),
                           nn.ELU(alpha=0.5), nn.Linear(6, 3)), ("leaky_relu:0.2", "elu:0.5")),
    (lambda: nn.Sequential(nn.Linear(2, 6), nn.LeakyReLU(), nn.Linear(6, 3)),
     ("leaky_relu:0.01",)),
    (FunctionalLeaky, ("leaky_relu:0.3",)),
], ids=["modules", "torch-default", "functional"])
def test_the_activation_parameters_are_read_from_the_module(make: type[nn.Module],
                                                            texts: tuple[str, ...],
                                                            tmp_path: Path) -> None:
    torch.manual_seed(2)
    model = make()
    rec = sf.Recorder(model, data=sf.dataset("gauss", classes=3, n=60))
    assert rec.spec.activation_texts == texts
    assert f"({', '.join(texts)})" in rec.describe()
    rec.snapshot(0)
    back = sf.Recorder.load(rec.save(tmp_path / "r.safetensors"))
    assert back.spec == rec.spec
    x = torch.randn(80, 2) * 4
    with torch.no_grad():
        want = model.eval()(x).numpy()
    np.testing.assert_allclose(sf.trace(back.network(0), x.numpy()).stages[-1].values, want,
                               atol=1e-5)


def test_save_load_round_trip_is_bit_exact(recorded: tuple[Bottlenecked, sf.Recorder],
                                           tmp_path: Path) -> None:
    _, rec = recorded
    path = rec.save(tmp_path / "run.safetensors")
    back = sf.Recorder.load(path)
    assert len(back) == len(rec) == 120
    assert back.spec == rec.spec and back.epochs == rec.epochs
    assert back.loss == rec.loss and back.metrics == rec.metrics
    assert back.module_keys == rec.module_keys and back.module_name == "Bottlenecked"
    for k in ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"):
        a, b = rec.weights(k), back.weights(k)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert rec.data is not None and back.data is not None
    assert back.data.x.tobytes() == rec.data.x.tobytes()
    assert back.data.y.tobytes() == rec.data.y.tobytes()
    assert back.data.name == "gauss" and back.data.classes == 3
    # saved again, the file is the same bytes
    again = back.save(tmp_path / "again.safetensors")
    assert again.read_bytes() == path.read_bytes()
    with pytest.raises(SpecError, match="loaded from a file"):
        back.snapshot(500)


def test_the_users_training_renders_as_a_valid_mp4(recorded: tuple[Bottlenecked, sf.Recorder],
                                                   tmp_path: Path) -> None:
    import av

    _, rec = recorded
    tl = sf.SCENES["training"].build(recording=rec)
    assert "Bottlenecked 2-24-2-3" in tl.segments[0].frame(0.0).heading
    assert "gauss" in tl.segments[0].frame(0.0).heading
    sn = tl.meta["snapshots"]
    assert sn.epochs[0] == 0 and sn.epochs[-1] == 119 and len(sn.epochs) <= 40
    # the numbers shown are the user's recorded loss at those epochs
    np.testing.assert_array_equal(sn.loss, np.array(rec.loss)[sn.epochs])
    mp4 = sf.render("training", tmp_path / "t.mp4", recording=rec, size=(192, 108), fps=4)
    with av.open(str(mp4)) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        assert (s.codec_context.width, s.codec_context.height) == (192, 108)
    assert frames == tl.n_frames(4)
    # from the saved file too; the .npz is the trained snapshot's trace
    path = rec.save(tmp_path / "run.safetensors")
    npz = sf.render("training", tmp_path / "t.npz", recording=str(path))
    with np.load(npz) as z:
        out = z[f"stage{len(z['names']) - 1}_values"]
    snap = Bottlenecked()
    snap.load_state_dict(rec.state_dict(-1))
    assert rec.data is not None
    with torch.no_grad():
        want = snap.eval()(torch.as_tensor(rec.data.x)).numpy()
    np.testing.assert_allclose(out, want, atol=1e-5)


def test_a_thousand_snapshots_take_a_few_megabytes() -> None:
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 2), nn.Linear(2, 5))
    rec = sf.Recorder(model, data=sf.dataset("spiral", classes=5))
    for e in range(1000):
        with torch.no_grad():
            model[0].weight.add_(0.001)
        rec.snapshot(e)
    assert len(rec) == 1000
    assert rec.nbytes < 5_000_000          # 517 floats a snapshot, stacks grown by doubling
    assert rec.weights("0.weight")[999, 0, 0] != rec.weights("0.weight")[0, 0, 0]


def test_recorder_refuses_what_it_cannot_record() -> None:
    class Doubled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(2, 4), nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(2 * nn.functional.gelu(self.a(x)))

    with pytest.raises(SpecError, match="no activation a spec can name"):
        sf.Recorder(Doubled())
    gelu = nn.Sequential(nn.Linear(2, 4), nn.GELU(), nn.Linear(4, 3), nn.ELU(), nn.Linear(3, 2))
    assert sf.Recorder(gelu).spec.activations == ("gelu", "elu")   # not celu(1), the same
    with pytest.raises(SpacefoldError, match="nn.Module"):
        sf.Recorder("model.pt")
    rec = sf.Recorder(nn.Sequential(nn.Linear(2, 2)), data=(np.zeros((4, 2)), [0, 1, 0, 1]))
    rec.snapshot(3)
    with pytest.raises(SpecError, match="must come after"):
        rec.snapshot(3)
    with pytest.raises(SpecError, match="must be a number"):
        rec.snapshot(4, loss="low")  # type: ignore[arg-type]
    with pytest.raises(SpacefoldError, match="3-D"):
        sf.Recorder(nn.Sequential(nn.Linear(2, 2)), data=(np.zeros((4, 3)), [0, 1, 0, 1]))


@pytest.mark.parametrize("middle", [nn.BatchNorm1d(4), nn.PReLU()])
def test_weights_outside_the_linear_layers_are_refused(middle: nn.Module) -> None:
    """A snapshot copies only the Linear layers. A fresh BatchNorm in eval mode is the
    identity, so the recorder read it as none and the movie of the trained network left out
    its trained statistics and γ, β (its output off by ~10 on the spiral)."""
    net = nn.Sequential(nn.Linear(2, 4), middle, nn.ReLU(), nn.Linear(4, 3))
    with pytest.raises(SpecError, match=r"Recorder: Sequential has weights outside its Linear "
                                        r"layers \(1\.weight[,)]"):
        sf.Recorder(net)


def test_cli_train_records_and_makes_the_movie(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    import av

    ck, rec, movie = (tmp_path / n for n in ("m.safetensors", "r.safetensors", "t.mp4"))
    code, out, err = run(capsys, "train", "--data", "gauss", "--classes", 3, "--n", 120,
                         "--arch", "2-8-2-3", "--epochs", 60, "--snapshots", 12, "-o", ck,
                         "--record", rec, "--movie", movie)
    assert code == 0, err
    assert f"wrote {rec}" in out and f"wrote {movie}" in out
    back = sf.Recorder.load(rec)
    assert back.epochs[0] == 0 and 2 <= len(back) <= 13 and back.spec.arch == "2-8-2-3"
    with av.open(str(movie)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) > 10
    # and the recording renders again through `render training --recording`
    code, _, err = run(capsys, "render", "training", "--recording", rec, "-o",
                       tmp_path / "t.png", "--size", "160x90")
    assert code == 0, err


@pytest.mark.parametrize("argv, names", [
    (["--movie", "t.gif"], ["'.gif'", ".mp4"]),
    (["--record", "r.pt"], ["'.pt'", ".safetensors"]),
    (["--movie", "m.safetensors"], ["--movie"]),
    (["--snapshots", "5"], ["--snapshots"]),
])
def test_cli_train_movie_misuse(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                names: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "--data", "xor", "--arch", "2-3-2", "-o",
                       "m.safetensors", *argv)
    assert_one_line_error(code, err, *names)
    assert list(tmp_path.iterdir()) == []


def test_cli_recording_misuse(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "render", "training", "--recording", tmp_path / "no.safetensors",
                       "-o", tmp_path / "t.png")
    assert_one_line_error(code, err, "no.safetensors")
    sf.save(sf.build("2-3-2"), tmp_path / "ck.safetensors")
    code, _, err = run(capsys, "render", "training", "--recording", tmp_path / "ck.safetensors",
                       "-o", tmp_path / "t.png")
    assert_one_line_error(code, err, "not a spacefold recording")
    code, _, err = run(capsys, "render", "fold-222", "--recording", tmp_path / "ck.safetensors",
                       "-o", tmp_path / "t.png")
    assert_one_line_error(code, err, "'fold-222'", "--recording", "training")


def test_the_description_names_a_final_sigmoid() -> None:
    net = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1), nn.Sigmoid())
    assert sf.Recorder(net, data="moons").describe() == "2-5-1 (relu, then sigmoid) on moons"
