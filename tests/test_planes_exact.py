"""The argmax surfaces of an affine tail are exact planes (issue 14, speed): a few flat pieces
per plane on ``y_k = w_k·h + b_k``, cut along the exact intersection lines, and the boundary
segments where two planes are equal and highest."""

from __future__ import annotations

import numpy as np
import torch

import spacefold as sf
from spacefold.render.frame import Camera
from spacefold.scenes.surfaces3d import LATTICE, LINE_LIFT, RES, Surfaces, steep_mesh
from spacefold.trace.planes import boundaries, plane_pieces, regions

BOX = (-1.0, 2.0, -0.5, 1.5)


def _planes(k: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(k, 2)), rng.normal(size=k) * 0.5


def _area(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
            - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / 2


def test_pieces_lie_on_their_planes_and_cover_the_box() -> None:
    w, b = _planes()
    pieces = plane_pieces(w, b, BOX, grid=1)
    for k, (verts, tris) in enumerate(pieces):
        np.testing.assert_allclose(verts[:, 2], verts[:, :2] @ w[k] + b[k], atol=1e-12)
        ar = _area(verts, tris)
        assert (ar > 0).all()                                  # counter-clockwise, no slivers
        np.testing.assert_allclose(ar.sum(), 3.0 * 2.0, rtol=1e-9)
        assert len(tris) < 100                                 # not a 60×60 mesh
        # no piece of plane k is crossed by another plane: each triangle is on one side
        for j in range(len(w)):
            if j == k:
                continue
            s = verts[:, :2] @ (w[k] - w[j]) + (b[k] - b[j])
            st = s[tris]
            assert ((st >= -1e-9).all(axis=1) | (st <= 1e-9).all(axis=1)).all()


def test_two_planes_one_cut_each() -> None:
    w = np.array([[1.0, 0.0], [-1.0, 0.0]])
    b = np.array([0.0, 0.0])                                   # equal on x = 0
    pieces = plane_pieces(w, b, BOX, grid=1)
    for verts, tris in pieces:
        assert len(tris) == 4                                  # two rectangles, 2 triangles
        assert np.isclose(verts[:, 0], 0.0).sum() == 2
    (k, j, seg), = boundaries(w, b, BOX)
    assert (k, j) == (0, 1)
    np.testing.assert_allclose(np.sort(seg[:, 1]), [-0.5, 1.5])
    np.testing.assert_allclose(seg[:, [0, 2]], 0.0, atol=1e-12)


def test_boundaries_are_where_two_planes_are_equal_and_highest() -> None:
    w, b = _planes(6, seed=3)
    segs = boundaries(w, b, BOX)
    assert segs
    for k, j, seg in segs:
        t = np.linspace(0, 1, 11)[:, None]
        p = seg[0] * (1 - t) + seg[1] * t                      # along the segment
        y = p[:, :2] @ w.T + b
        np.testing.assert_allclose(y[:, k], y[:, j], atol=1e-9)
        np.testing.assert_allclose(y[:, k], p[:, 2], atol=1e-9)
        np.testing.assert_allclose(y.max(axis=1), y[:, k], atol=1e-9)
        x0, x1, y0, y1 = BOX
        assert (p[:, 0] >= x0 - 1e-9).all() and (p[:, 0] <= x1 + 1e-9).all()
        assert (p[:, 1] >= y0 - 1e-9).all() and (p[:, 1] <= y1 + 1e-9).all()
    # and every boundary of a fine argmax raster lies near one of the segments
    g = np.stack(np.meshgrid(np.linspace(BOX[0], BOX[1], 301),
                             np.linspace(BOX[2], BOX[3], 201)), -1)
    cls = (g @ w.T + b).argmax(-1)
    ii, jj = np.nonzero(cls[:, 1:] != cls[:, :-1])
    pairs = {tuple(sorted((int(cls[i, j_]), int(cls[i, j_ + 1]))))
             for i, j_ in zip(ii, jj, strict=True)}
    assert pairs <= {(k, j) for k, j, _ in segs}


def test_regions_match_argmax() -> None:
    w, b = _planes(5, seed=1)
    regs = regions(w, b, BOX)
    rng = np.random.default_rng(0)
    p = rng.uniform([BOX[0], BOX[2]], [BOX[1], BOX[3]], (2000, 2))
    cls = (p @ w.T + b).argmax(1)
    total = 0.0
    for k, poly in enumerate(regs):
        if len(poly) == 0:
            assert (cls != k).all()
            continue
        x, y = poly[:, 0], poly[:, 1]
        total += 0.5 * float(x @ np.roll(y, -1) - y @ np.roll(x, -1))
        inside = p[cls == k]
        for i in range(len(poly)):                             # inside the convex polygon
            e = poly[(i + 1) % len(poly)] - poly[i]
            cross = e[0] * (inside[:, 1] - poly[i, 1]) - e[1] * (inside[:, 0] - poly[i, 0])
            assert (cross >= -1e-9).all()
    np.testing.assert_allclose(total, 6.0, rtol=1e-9)


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
    top = s._top(0.0, 1.0)
    h = torch.as_tensor(top.vertices[:, :2], dtype=torch.float32)
    with torch.no_grad():
        ymax = last(h).numpy().max(axis=1)
    np.testing.assert_allclose(top.vertices[:, 2], ymax + 3 * s.eps, atol=1e-4)


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
