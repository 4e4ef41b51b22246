"""server/tracer.py: the tracing processes make the same update as this process would, and a
worker that died is started again while the session goes on."""

from __future__ import annotations

import json

from spacefold.export import unpack
from spacefold.server import tracer
from spacefold.server.config import Config
from spacefold.server.job import Job
from spacefold.server.live import live_message


def test_live_updates_traced_in_the_worker_process_equal_the_local_ones() -> None:
    """The tracing process (python -m spacefold.server.tracer) sends the same update as
    tracing in this process would, serialised; a dead worker falls back to a thread."""
    msgs: list[dict] = []
    job = Job(Config(dataset="moons", classes=2, n=60, arch="2-5-2", epochs=50),
              msgs.append)
    net = job.snapshot()
    args = (net, job.data, len(job.train_data), True, "t", 0.01, job.key, 3, 0.5, "training",
            False)
    proc = tracer.Tracer()
    try:
        remote = proc.call(*args, as_bytes=True)
        assert proc.proc.pid != 0 and remote["type"] == "update"
        local = live_message(*args)
        assert unpack(remote["bin"]) == json.loads(json.dumps(local))
        assert "units" not in local["trace"]["layers"][0]          # unit_maps=False
    finally:
        proc.close()
    assert proc.proc.returncode == 0
    # a worker that died mid-session (or was killed for a stopped job): it is started
    # again, and the update is still made and shown
    pool = tracer.worker()
    assert pool is not None
    restarts = pool.restarts
    pool.proc.kill()
    pool.proc.wait(10)
    try:
        job.publish(net, 7, 0.4, "training", remote=True)
        assert msgs[-1]["type"] == "update" and msgs[-1]["epoch"] == 7
        assert unpack(msgs[-1]["bin"])["trace"]["n"] == 60
        assert tracer.worker() is pool and pool.restarts == restarts + 1
        assert pool.proc.poll() is None
    finally:
        tracer.LIVE_WORKER = True
