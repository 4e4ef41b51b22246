"""trace/npz.py: a trace's raw stage data as one .npz of plain arrays (no pickle), written
through a temp file: every stage's values and grid, names, kinds, sources, the stage graph's
parents, labels and regions, as the trace holds them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import RenderError


def test_to_npz_round_trips(tmp_path: Path) -> None:
    data = sf.dataset("spiral", classes=3, n=120, seed=0)
    t = sf.trace(sf.build("2-4-3", "tanh", seed=0), data)
    path = t.to_npz(tmp_path / "trace.npz")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["trace.npz"]
    with np.load(path, allow_pickle=False) as z:
        assert list(z["names"]) == [s.name for s in t.stages]
        assert list(z["kinds"]) == [s.kind for s in t.stages]
        for s in t.stages:
            np.testing.assert_array_equal(z[f"stage{s.index}_values"], s.values)
            assert s.grid is not None
            np.testing.assert_array_equal(z[f"stage{s.index}_grid"], s.grid)
        np.testing.assert_array_equal(z["labels"], data.y)
        assert t.regions is not None
        np.testing.assert_array_equal(z["regions_labels"], t.regions.labels)
        np.testing.assert_array_equal(z["regions_extent"], np.array(t.regions.extent))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.inp, self.fc, self.out = nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        return self.out(h + torch.relu(self.fc(h)))


def test_the_stage_graph_and_sources_are_saved(tmp_path: Path) -> None:
    """A residual sum reads two stages: its row of ``parents`` holds both, the others one
    and -1; no grid, labels or regions when the trace has none."""
    t = sf.trace(Residual().eval(), np.random.default_rng(0).standard_normal((30, 2)),
                 grid=False)
    with np.load(t.to_npz(tmp_path / "r.npz"), allow_pickle=False) as z:
        assert z["parents"].shape == (len(t.stages), 2)
        for s in t.stages:
            row = [p for p in z["parents"][s.index] if p >= 0]
            assert tuple(row) == s.parents
        assert list(z["sources"]) == [s.source for s in t.stages]
        assert "out" in set(z["sources"]) and "labels" not in z and "regions_labels" not in z
        assert not any(k.endswith("_grid") for k in z.files)


def test_to_npz_into_a_missing_folder_raises_and_writes_nothing(tmp_path: Path) -> None:
    t = sf.trace(sf.build("2-3-2"), np.zeros((4, 2)), grid=False)
    with pytest.raises(RenderError, match="does not exist"):
        t.to_npz(tmp_path / "nope" / "trace.npz")
    assert list(tmp_path.iterdir()) == []
