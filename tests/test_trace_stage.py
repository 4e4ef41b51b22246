"""trace/stage.py: a stage's parents and the stage it moves from (its base), for a chain, a
residual sum and a concatenation; torch's forward is the oracle for what each stage reads."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import spacefold as sf
from spacefold.trace.stage import Regions, Stage


class Branches(nn.Module):
    """x → a = relu(fc1 x); b = tanh(fc2 a); out = fc3(cat(a, b)) + fc4(a)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2 = nn.Linear(2, 3), nn.Linear(3, 3)
        self.fc3, self.fc4 = nn.Linear(6, 2), nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.fc1(x))
        b = torch.tanh(self.fc2(a))
        return self.fc3(torch.cat([a, b], dim=1)) + self.fc4(a)


def test_parents_and_base_follow_the_graph() -> None:
    model = Branches().eval()
    x = np.random.default_rng(0).standard_normal((25, 2))
    t = sf.trace(model, x, grid=False)
    for s in t.stages:
        assert all(p < s.index for p in s.parents)              # topological order
        assert s.base == (max(s.parents) if s.parents else 0)
    assert t.stages[0].parents == () and t.stages[0].short == "input"
    cat = next(s for s in t.stages if s.kind == "concat")
    add = t.stages[-1]
    assert len(cat.parents) == 2 and len(add.parents) == 2
    # the concatenation reads relu(fc1 x) and tanh(fc2 ·): the values torch computes
    with torch.no_grad():
        a = torch.relu(model.fc1(torch.from_numpy(x).float()))
        b = torch.tanh(model.fc2(a))
        out = model(torch.from_numpy(x).float())
    got = [t.stages[p].values for p in cat.parents]
    np.testing.assert_allclose(got[0], a.numpy(), atol=1e-5)
    np.testing.assert_allclose(got[1], b.numpy(), atol=1e-5)
    np.testing.assert_allclose(cat.values, np.concatenate(got, axis=1), atol=1e-6)
    np.testing.assert_allclose(add.values, out.numpy(), atol=1e-5)


def test_a_stage_made_by_hand() -> None:
    s = Stage(4, "layer 2 · +b", "bias", 2, 3, np.zeros((1, 3), np.float32), parent=3)
    assert s.parents == (3,) and s.base == 3 and s.short == "+b"
    r = Regions((-1.0, 1.0, -1.0, 1.0), np.zeros((7, 7), np.int64), np.zeros((7, 7, 2)))
    assert r.res == 7
