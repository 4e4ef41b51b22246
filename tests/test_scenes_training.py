"""scenes/training.py: which snapshots the movie shows (log-spaced, first and last kept), the
epoch between two of them, and the loss of each (torch's cross-entropy as the oracle); a
recording the movie cannot show is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.scenes.training import Snapshots, _loss_of, from_recording, pick


def test_snapshots_are_picked_evenly_in_log_one_plus_epoch() -> None:
    """Targets 0, ¼, ½, ¾, 1 of log(1000): nearest epochs 0, 5, 31, 177 and 999 (as computed
    by hand: expm1(k · log(1000) / 4) = 0, 4.6, 30.6, 176.8, 999)."""
    epochs = np.arange(1000)
    assert pick(epochs, 5) == [0, 5, 31, 177, 999]
    chosen = pick(epochs, 40)
    assert chosen[0] == 0 and chosen[-1] == 999 and len(chosen) <= 40
    assert sum(c < 100 for c in chosen) > len(chosen) / 2          # early training: most
    assert pick(np.arange(10, 30, 2), 40) == list(range(10))        # fewer: all of them
    # epochs that start late are spaced from their first one
    assert pick(epochs + 500, 5) == [0, 5, 31, 177, 999]


def test_the_epoch_between_snapshots_is_interpolated_in_log_space() -> None:
    snaps = Snapshots(np.array([0, 99, 999]), [], None, False, np.zeros(3), np.zeros(3),
                      np.zeros(3), np.zeros(3))
    assert snaps.epoch(0.0) == 0.0 and snaps.epoch(1.0) == pytest.approx(99.0)
    assert snaps.epoch(2.0) == pytest.approx(999.0)
    assert snaps.epoch(0.5) == pytest.approx(9.0)          # sqrt(1 · 100) - 1
    assert snaps.epoch(1.5) == pytest.approx(np.sqrt(100 * 1000) - 1)
    assert snaps.position(-3.0) == (0, 0.0) and snaps.position(7.0) == (1, 1.0)


@pytest.mark.parametrize(("arch", "head"), [("2-6-3", None), ("2-6-1", None),
                                            ("2-6-3", "softmax"), ("2-6-1", "sigmoid")])
def test_a_snapshots_loss_is_torchs_cross_entropy(arch: str, head: str | None) -> None:
    d = sf.dataset("moons", n=80, seed=1)
    model = sf.build(arch, "tanh", head=head, seed=2).eval()
    with torch.no_grad():
        out = model(torch.from_numpy(d.x).float()).double()
    y = torch.from_numpy(d.y)
    if head is None and out.shape[1] == 1:
        want = nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.double())
    elif head is None:
        want = nn.functional.cross_entropy(out, y)
    elif out.shape[1] == 1:
        want = nn.functional.binary_cross_entropy(out[:, 0], y.double())
    else:
        want = nn.functional.nll_loss(torch.log(out), y)
    got = _loss_of(sf.trace(model, d, grid=False), d.y, head)
    assert got == pytest.approx(want.item(), rel=1e-5)


def _recording(d: sf.Dataset | None, arch: str = "2-4-3", snaps: int = 3,
               loss: bool = True) -> sf.Recorder:
    model = sf.build(arch, "relu", seed=0)
    rec = sf.Recorder(model, data=d)
    for e in range(snaps):
        with torch.no_grad():
            model[0].weight.mul_(1.1)
        rec.snapshot(e * 10, loss=0.5 / (e + 1) if loss else None)
    return rec


def test_a_recording_is_shown_with_its_own_loss_or_torchs() -> None:
    d = sf.dataset("gauss", classes=3, n=60, seed=0)
    rec = _recording(d)
    s = from_recording(rec)
    assert s.loss_name == "loss" and list(s.epochs) == [0, 10, 20]
    np.testing.assert_allclose(s.loss, [0.5, 0.25, 0.5 / 3])
    lossless = _recording(d, loss=False)          # no loss recorded: computed
    s = from_recording(lossless)
    assert s.loss_name == "cross-entropy"
    for i in range(len(s.traces)):
        with torch.no_grad():
            z = lossless.network(i).to_torch().double()(torch.from_numpy(d.x).double())
        want = nn.functional.cross_entropy(z, torch.from_numpy(d.y)).item()
        assert s.loss[i] == pytest.approx(want, rel=1e-6)
        assert s.accuracy[i] == pytest.approx((z.argmax(1).numpy() == d.y).mean())


def test_a_recording_the_movie_cannot_show_is_one_line() -> None:
    d = sf.dataset("gauss", classes=3, n=60, seed=0)
    for rec, why in ((_recording(None), "has no data"),
                     (_recording(d, snaps=1), "has 1 snapshot; a movie needs at least 2"),
                     (_recording(sf.Dataset(np.zeros((6, 3), np.float32), np.arange(6) % 3,
                                            "cube", 3), arch="3-4-3"),
                      "takes 3-D input")):
        with pytest.raises(sf.SpacefoldError, match=why) as e:
            from_recording(rec)
        assert "\n" not in str(e.value)


def test_the_region_colours_follow_the_theme_and_palette() -> None:
    """The lookup table is made in the look in use (it was made once, dark, at import)."""
    from spacefold import colors
    from spacefold.scenes import training

    tables = {}
    for look in (("dark", "default"), ("light", "default"), ("light", "okabe-ito")):
        with colors.look(*look, "dots"):
            tables[look] = training._palette(
                colors.theme().name, np.ascontiguousarray(colors.palette()).tobytes())
    bright = tables[("light", "default")].view(np.uint8).reshape(-1, 4)[:, :3].mean()
    dark = tables[("dark", "default")].view(np.uint8).reshape(-1, 4)[:, :3].mean()
    assert bright > dark + 60
    assert len(tables[("light", "okabe-ito")]) == 8
