"""trace/planes.py: the argmax surfaces of an affine tail are exact planes (issue 14, speed): a
few flat pieces per plane on ``y_k = w_k·h + b_k``, cut along the exact intersection lines,
and the boundary segments where two planes are equal and highest."""

from __future__ import annotations

import numpy as np

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
