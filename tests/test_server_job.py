"""server/job.py: a session's job trains in a thread, says where training diverged, never shows
an update older than the last one, and saves its weights with the recipe of its data."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from spacefold.export import payload, unpack
from spacefold.server import tracer
from spacefold.server.config import Config
from spacefold.server.job import Job
from spacefold.server.uploads import UPLOAD_PREFIX, add_upload
from spacefold.trace import GridSpec


def test_divergence_is_a_message_with_the_step_and_learning_rate() -> None:
    msgs: list[dict] = []
    job = Job(Config(dataset="moons", classes=2, n=100, arch="2-64-64-2", lr=1.0,
                     epochs=2000), msgs.append)
    job.net[0].weight.data.fill_(float("inf"))     # the first loss is NaN
    job.start()
    job.train()
    deadline = time.time() + 20
    while job.alive and time.time() < deadline:
        time.sleep(0.05)
    job.stop()
    errors = [m["message"] for m in msgs if m["type"] == "error"]
    assert errors and "learning rate" in errors[-1] and "step" in errors[-1], msgs[-3:]
    assert job.state == "diverged"


def test_a_live_update_older_than_the_one_shown_is_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tracing processes may finish out of order: the page never goes back in time.
    The reused colours are the trace's own."""
    monkeypatch.setattr(tracer, "LIVE_WORKER", False)        # traced here, same code path
    msgs: list[dict] = []
    job = Job(Config(dataset="moons", classes=2, n=60, arch="2-5-2", epochs=50),
              msgs.append)
    net = job.snapshot()
    job.publish(net, 9, 0.4, "training", remote=True, which=1)
    job.publish(net, 8, 0.5, "training", remote=True, which=0)      # came back late
    job.publish(net, 9, 0.4, "training", remote=True, which=0)
    assert [m["epoch"] for m in msgs] == [9, 9] and job.updates == 2
    t = sf.trace(net, job.data, grid=GridSpec(lines=17, verts=48, regions=0))
    assert unpack(msgs[-1]["bin"])["trace"]["colors"] == payload(t)["colors"]


def test_a_checkpoint_names_its_data_and_loads_as_the_shown_network(tmp_path: Path) -> None:
    job = Job(Config(dataset="xor", n=60, arch="2-4-2", seed=2, lr=0.05), lambda m: None)
    (tmp_path / "a.safetensors").write_bytes(job.checkpoint())
    net = sf.load_network(tmp_path / "a.safetensors")
    assert net.meta["data"] == {"name": "xor", "params": {"n": 60, "noise": 0.2, "seed": 2}}
    assert net.meta["train"]["source"] == "spacefold serve" and net.meta["train"]["lr"] == 0.05
    x = job.data.x
    np.testing.assert_allclose(sf.trace(net, x).output, sf.trace(job.snapshot(), x).output,
                               rtol=1e-6, atol=1e-6)
    key, _ = add_upload("".join(f"{i / 30},{i % 7 / 7},{i % 2}\n" for i in range(30)).encode())
    up = Job(Config(dataset=UPLOAD_PREFIX + key, arch="2-3-2"), lambda m: None)
    (tmp_path / "b.safetensors").write_bytes(up.checkpoint())
    assert sf.load_network(tmp_path / "b.safetensors").meta["data"] == \
        {"upload": UPLOAD_PREFIX + key}


def test_pause_shows_the_weights_it_stopped_at_with_their_linear_regions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Updates while training carry no linear regions (too costly per update); Pause makes
    the trainer offer the weights it stopped at as a paused update, which carries them."""
    monkeypatch.setattr(tracer, "LIVE_WORKER", False)        # traced here, same code path
    msgs: list[dict] = []
    job = Job(Config(dataset="moons", classes=2, n=100, arch="2-8-2", epochs=100_000),
              msgs.append)
    job.start()
    try:
        job.train()
        deadline = time.time() + 30
        while not any(m["type"] == "update" and m["epoch"] > 0 for m in list(msgs)) \
                and time.time() < deadline:
            time.sleep(0.02)
        job.pause()
        deadline = time.time() + 30
        paused: list[dict] = []
        while not paused and time.time() < deadline:
            time.sleep(0.05)
            paused = [u for u in (unpack(m["bin"]) for m in list(msgs) if m["type"] == "update")
                      if u["state"] == "paused"]
        assert paused, [m.get("state") for m in msgs]
        running = [u for u in (unpack(m["bin"]) for m in msgs if m["type"] == "update")
                   if u["state"] == "training"]
        assert running and all(u["trace"]["linear"].get("skipped") for u in running)
        last = paused[-1]
        assert last["epoch"] == job.epoch > 0                 # where training stopped
        assert last["trace"]["linear"]["pieces"] > 1
    finally:
        job.stop()
