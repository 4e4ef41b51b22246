"""server/exports.py: an export is refused before it starts when its work is over the bound,
trains the config to a page otherwise, and a cancel ends it with no page."""

from __future__ import annotations

import time

import pytest

import spacefold.limits as limits
from spacefold.errors import DataError
from spacefold.server.config import Config
from spacefold.server.exports import Export


def test_work_over_the_bound_is_refused_before_training() -> None:
    cfg = Config(dataset="spiral", n=5000, arch="2-256-256-5", epochs=100_000, test=0.0)
    weights = 3 * 256 + 257 * 256 + 257 * 5
    assert weights * 5000 * 100_000 > limits.EXPORT_WORK
    with pytest.raises(DataError, match=f"{weights:,} weights on 5,000 points"):
        Export(cfg)


def test_an_export_trains_to_a_page_and_a_cancel_ends_it() -> None:
    ex = Export(Config(dataset="xor", n=40, arch="2-4-2", epochs=5))
    ex.start()
    assert ex.done.wait(120)
    assert ex.error is None and ex.page is not None
    assert ex.page.lstrip().lower().startswith("<!doctype html") and "xor · 2-4-2" in ex.page
    stopped = Export(Config(dataset="xor", n=40, arch="2-4-2", epochs=20_000))
    stopped.cancel()                     # before its first mini-batch
    stopped.start()
    assert stopped.done.wait(120)
    assert stopped.page is None and stopped.error == "cancelled"
    deadline = time.monotonic() + 30     # done is set just before its thread returns
    while stopped.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not stopped.alive
