"""trace/geometry.py: the input plane — grid lines over the extent, the automatic extent and
the GridSpec's limits."""

from __future__ import annotations

import numpy as np
import pytest

import spacefold as sf
from spacefold.errors import TraceError
from trace_helpers import small_trace


def test_input_grid_covers_the_extent() -> None:
    ext = (-2.0, 2.0, -1.0, 3.0)
    t = sf.trace(sf.build("2-2"), np.zeros((3, 2)),
                 grid=sf.GridSpec(extent=ext, lines=3, verts=4, regions=0))
    g = t.stages[0].grid
    assert g is not None
    assert (g[..., 0].min(), g[..., 0].max()) == (-2, 2)
    assert (g[..., 1].min(), g[..., 1].max()) == (-1, 3)
    assert t.extent == ext and t.regions is None


def test_auto_extent_contains_every_point() -> None:
    _, data, t = small_trace()
    assert t.extent is not None
    x0, x1, y0, y1 = t.extent
    assert (data.x[:, 0] > x0).all() and (data.x[:, 0] < x1).all()
    assert (data.x[:, 1] > y0).all() and (data.x[:, 1] < y1).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"lines": 1}, "grid lines 1"), ({"verts": 1}, "grid vertices 1"),
    ({"regions": 1}, "region resolution 1"), ({"extent": (1.0, 0.0, 0.0, 1.0)}, "extent"),
    ({"extent": (0.0, float("nan"), 0.0, 1.0)}, "extent"),
])
def test_gridspec_rejects_bad_values(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(TraceError, match=match):
        sf.GridSpec(**kwargs)  # type: ignore[arg-type]
