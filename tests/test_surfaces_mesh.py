"""The softmax surfaces follow their walls (issue 11): the mesh is refined where a surface is
steep, conforming (one Delaunay triangulation), and no edge jumps as far as the 60×60 grid's."""

from __future__ import annotations

import numpy as np
import torch

import spacefold as sf
from spacefold.render.frame import Camera
from spacefold.scenes.score_surfaces import plane_grid, steep_mesh
from spacefold.scenes.surfaces3d import LATTICE, LINE_LIFT, RES, Surfaces


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


def _area(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
            - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / 2


def test_surfaces_scene_draws_exact_planes_from_the_weights() -> None:
    torch.manual_seed(0)
    d = sf.dataset("spiral", classes=3, n=300, seed=0)
    net = sf.build("2-16-2-3", activation="relu", seed=0)
    sf.train(net, d, epochs=60, lr=0.05, seed=0)
    tr = sf.trace(net, d, grid=False)
    kb = next(k for k, s in enumerate(tr.stages) if s.dim == 2 and k > 0
              and tr.stages[k].kind == "relu")
    s = Surfaces(tr, "argmax", kb)
    assert s.layer.affine is not None and s.pieces is not None
    last = net[-1]                                             # the Linear after the plane
    meshes = s._planes(1.0, 0.4)
    for k, m in enumerate(meshes):
        h = torch.as_tensor(m.vertices[:, :2], dtype=torch.float32)
        with torch.no_grad():
            want = last(h).numpy()[:, k]
        np.testing.assert_allclose(m.vertices[:, 2], want, atol=1e-4)
        g = LATTICE                                            # the lattice, + K-1 cuts
        assert len(m.triangles) <= 3 * (g * g + 2 * g * (s.k - 1)) < 2 * (RES - 1) ** 2
    panel = s.panel(Camera(-60.0, 25.0), rise=1.0, plane_alpha=0.42, top_alpha=0.0, flatten=0.0,
                    climb=0.0)
    assert len(panel.lines) == len(s.edges) > 0
    for ln in panel.lines:
        h = torch.as_tensor(ln.xyz[:, :2], dtype=torch.float32)
        with torch.no_grad():
            y = last(h).numpy()
        top2 = np.sort(y, axis=1)[:, -2:]
        np.testing.assert_allclose(top2[:, 0], top2[:, 1], atol=1e-4)
        np.testing.assert_allclose(ln.xyz[:, 2], top2[:, 1] + LINE_LIFT * s.eps, atol=1e-4)
    tops = s._top(0.0, 1.0)
    top = tops[0]
    h = torch.as_tensor(top.vertices[:, :2], dtype=torch.float32)
    with torch.no_grad():
        y = last(h).numpy()
    np.testing.assert_allclose(top.vertices[:, 2], y.max(axis=1) + 3 * s.eps, atol=1e-4)
    _one_region_each(tops, y)


def _one_region_each(tops: list, y: np.ndarray) -> None:
    """The top surface's pieces: one mesh per decision region, sharing one set of points,
    each triangle's three corners in its own region (its class highest there, up to ties on
    the boundary), together covering the plane once."""
    from spacefold.colors import CLASS_COLORS
    from spacefold.scenes.surfaces3d import REGION_DIM

    assert all(m.vertices is tops[0].vertices for m in tops)
    assert all(m.argmax is None for m in tops)             # plain colours: no per-pixel loop
    area = 0.0
    for m in tops:
        k = int(np.argmin(np.abs(CLASS_COLORS[:len(y[0])] * REGION_DIM
                                 - m.colors[0, :3]).sum(1)))
        assert np.allclose(m.colors[:, :3], m.colors[0, :3])
        corners = y[m.triangles]                             # (T, 3, K)
        assert (corners[..., k] >= corners.max(axis=-1) - 1e-5 * np.abs(y).max()).all()
        area += float(_area(m.vertices[:, :2], m.triangles).sum())
    v = tops[0].vertices
    box = (v[:, 0].max() - v[:, 0].min()) * (v[:, 1].max() - v[:, 1].min())
    np.testing.assert_allclose(area, box, rtol=1e-9)


def test_softmax_of_exact_planes_is_meshed_along_its_walls() -> None:
    """The walls follow the boundaries: lines parallel to them, a fraction of the triangles
    the square refinement (for computed tails) takes, and no edge jumps by much more than
    the 0.1 step in probability."""
    torch.manual_seed(0)
    d = sf.dataset("spiral", classes=3, n=300, seed=0)
    net = sf.build("2-16-2-3", activation="relu", seed=0)
    sf.train(net, d, epochs=150, lr=0.05, seed=0)
    tr = sf.trace(net, d, grid=False)
    kb = next(k for k, s in enumerate(tr.stages) if s.dim == 2 and k > 0
              and tr.stages[k].kind == "relu")
    surf = Surfaces(tr, "softmax", kb)
    assert surf.steep is not None and surf.layer.affine is not None
    pts, tris, z = surf.steep

    def worst(p: np.ndarray, t: np.ndarray, zz: np.ndarray) -> float:
        e = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
        return float(np.abs(zz[e[:, 0]] - zz[e[:, 1]]).max())

    qp, qt = steep_mesh(surf.layer, surf.layer.box)
    qz = surf.layer.heights(qp[:, 0], qp[:, 1])
    assert worst(pts, tris, z) < 0.25
    assert len(tris) < len(qt) / 3 and worst(pts, tris, z) < 1.5 * worst(qp, qt, qz)
    ar = _area(pts, tris)
    assert (ar > 0).all()
    x0, x1, y0, y1 = surf.layer.box
    np.testing.assert_allclose(ar.sum(), (x1 - x0) * (y1 - y0), rtol=1e-9)
    # the top surface: the same walls, cut along the boundaries into one mesh per region
    tops = surf._top(0.0, 1.0)
    aff = surf.layer.affine
    _one_region_each(tops, tops[0].vertices[:, :2] @ aff.W.T + aff.b)
    np.testing.assert_allclose(tops[0].vertices[:, 2] - 3 * surf.eps,
                               surf.layer.heights(tops[0].vertices[:, 0],
                                                  tops[0].vertices[:, 1]).max(axis=-1))
