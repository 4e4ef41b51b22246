"""The softmax surfaces follow their walls (issue 11): the mesh is refined where a surface is
steep, conforming (one Delaunay triangulation), and no edge jumps as far as the 60×60 grid's."""

from __future__ import annotations

import numpy as np
import torch

import spacefold as sf
from spacefold.scenes.surfaces3d import RES, Surfaces, plane_grid, steep_mesh


def test_steep_mesh_is_finer_on_the_walls() -> None:
    torch.manual_seed(0)
    d = sf.dataset("spiral", classes=3, n=300, seed=0)
    net = sf.build("2-16-2-3", activation="relu", seed=0)
    sf.train(net, d, epochs=150, lr=0.05, seed=0)
    tr = sf.trace(net, d, grid=False)
    kb = next(k for k, s in enumerate(tr.stages) if s.dim == 2 and k > 0 and
              tr.stages[k].kind == "relu")
    surf = Surfaces(tr, "softmax", kb)
    assert surf.steep is not None
    pts, tris, z = surf.steep
    np.testing.assert_allclose(z, surf.layer.heights(pts[:, 0], pts[:, 1]))
    # counter-clockwise, non-degenerate triangles covering the box exactly
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    area = ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    assert (area > 0).all()
    x0, x1, y0, y1 = surf.layer.box
    np.testing.assert_allclose(area.sum() / 2, (x1 - x0) * (y1 - y0), rtol=1e-9)

    def worst(p: np.ndarray, t: np.ndarray, zz: np.ndarray) -> float:
        edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
        return float(np.abs(zz[edges[:, 0]] - zz[edges[:, 1]]).max())

    g1, g2 = plane_grid(surf.layer.box, RES)
    p_uni = np.stack([g1.ravel(), g2.ravel()], 1)
    _, t_uni = steep_mesh(surf.layer, surf.layer.box, base=RES, tol=2.0)   # no refinement
    z_uni = surf.layer.heights(p_uni[:, 0], p_uni[:, 1])
    assert worst(pts, tris, z) < worst(p_uni, t_uni, z_uni)
