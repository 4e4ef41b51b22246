"""spacefold.model.live: a snapshot of a network in training is a torch-free copy with the
same numbers, and the app's training keeps torch on one thread."""

from __future__ import annotations

import numpy as np
import torch

import spacefold as sf
from spacefold.model.live import one_thread, snapshot


def test_a_snapshot_is_a_copy_with_the_same_outputs() -> None:
    net = sf.build("2-6-6-3", ["relu", "tanh"], seed=5)
    spec = sf.ArchSpec.parse("2-6-6-3", "relu,tanh")
    snap = snapshot(net, spec)
    x = np.random.default_rng(1).standard_normal((30, 2)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
        net[0].weight.mul_(2.0)                      # training goes on: the snapshot stays
    t = sf.trace(snap, x)
    np.testing.assert_allclose(t.output, want, rtol=1e-5, atol=1e-6)
    assert all(isinstance(v, np.ndarray) for v in snap.params.values())


def test_one_thread_sets_torchs_pool() -> None:
    before = torch.get_num_threads()
    try:
        one_thread()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
