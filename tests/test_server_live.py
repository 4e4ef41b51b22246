"""server/live.py: a live update carries the trace's own numbers, and its loss and accuracy
are cross-entropy and accuracy as torch computes them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

import spacefold as sf
from spacefold.export import payload, unpack
from spacefold.model.live import snapshot
from spacefold.server import live
from spacefold.server.live import LIVE_GRID, LIVE_REGION_RES, live_message


def test_an_update_is_the_trace_with_torchs_loss_and_accuracy() -> None:
    d = sf.dataset("spiral", classes=3, n=90, seed=2)
    net = sf.build("2-8-3", seed=1)
    n_train = 60
    msg = live_message(net, d, n_train, True, "t", 0.01, "k", 7, 0.5, "paused")
    assert msg["type"] == "update" and msg["epoch"] == 7 and msg["job"] == "k"
    with torch.no_grad():
        z = net(torch.from_numpy(d.x))
    y = torch.from_numpy(d.y)
    for name, sel in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        want = torch.nn.functional.cross_entropy(z[sel], y[sel]).item()
        assert abs(msg[f"{name}_loss"] - want) < 1e-5
        assert msg[f"{name}_acc"] == (z[sel].argmax(1) == y[sel]).double().mean().item()
    t = sf.trace(net, d, grid=LIVE_GRID)
    assert msg["trace"] == payload(t, title="t", region_res=LIVE_REGION_RES,
                                   groups=(n_train, 0, 30), linear_regions=True)   # at rest
    packed = live_message(net, d, n_train, True, "t", 0.01, "k", 7, 0.5, "paused",
                          as_bytes=True)
    assert set(packed) == {"type", "job", "epoch", "bin"}
    assert unpack(packed["bin"])["train_acc"] == msg["train_acc"]


def test_tracing_too_few_points_is_a_message_not_a_crash() -> None:
    """A guard behind the bound: the trace of 3 points fails inside PCA (IndexError);
    the live update says so instead of killing the publisher."""
    data = sf.dataset("xor", n=3, seed=0)
    net = snapshot(sf.build("2-8-8-2", seed=0), sf.ArchSpec.parse("2-8-8-2", "relu"))
    msg = live_message(net, data, 3, False, "t", 0.01, "k", 0, 0.5, "paused")
    assert msg["type"] in ("update", "error")
    if msg["type"] == "error":
        assert "3 points" in msg["message"]


def test_a_network_that_is_not_finite_is_an_error_message() -> None:
    d = sf.dataset("moons", n=40)
    net = sf.build("2-4-2", seed=0)
    with torch.no_grad():
        net[0].weight.fill_(float("inf"))
    msg = live_message(net, d, 40, False, "t", 0.5, "k", 12, float("nan"), "training")
    assert msg["type"] == "error" and "epoch 12" in msg["message"] and "0.5" in msg["message"]


def test_live_colours_are_the_traces_and_computed_once_per_dataset(
        color_calls: Counter[str]) -> None:
    """Updates of one session reuse their data's colours (through the trace's ColorCache):
    the payload's colours are those of a plain trace, computed on the first update only."""
    live.COLORS.clear()
    d = sf.dataset("spiral", classes=3, n=90, seed=4)
    for epoch in range(3):
        net = sf.build("2-8-3", seed=epoch)
        msg = live_message(net, d, 60, True, "t", 0.01, "k", epoch, 0.5, "training")
        want = payload(sf.trace(net, d, grid=LIVE_GRID), title="t", region_res=LIVE_REGION_RES,
                       groups=(60, 0, 30))
        assert msg["trace"]["colors"] == want["colors"]
    # each update's check traced once more without the cache: 3 of each plus the first update
    assert color_calls == {"class": 4, "position": 4}
    other = sf.dataset("moons", n=50, seed=0)
    live_message(sf.build("2-8-2"), other, 50, False, "t", 0.01, "k", 0, 0.5, "training")
    assert color_calls == {"class": 5, "position": 5}


def test_the_server_sets_no_attributes_on_objects_it_does_not_own() -> None:
    """No monkeypatching in server/: objects from other layers are used as they are."""
    server = Path(live.__file__).parent
    found = [f"{p.name}:{i}" for p in sorted(server.glob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), start=1)
             if "setattr(" in line or "__dict__[" in line]
    assert found == []
