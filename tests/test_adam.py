"""spacefold's written-out Adam equals torch.optim.Adam step for step."""

from __future__ import annotations

import pytest
import torch

from spacefold.model.training import Adam


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_torch(weight_decay: float) -> None:
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    b = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    b.load_state_dict(a.state_dict())
    ours = Adam(a.parameters(), lr=0.03, weight_decay=weight_decay)
    ref = torch.optim.Adam(b.parameters(), lr=0.03, weight_decay=weight_decay)
    x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    for _ in range(25):
        for model, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
