"""Meshes for the 3-D renderer in numpy: height fields as triangle meshes, vertex normals,
boundary edges (for the analytic edge antialiasing) and per-vertex colours."""

from __future__ import annotations

import numpy as np

from spacefold.render.frame import Mesh


def boundary_edges(triangles: np.ndarray, n_vertices: int) -> np.ndarray:
    """(T, 3) bool: whether the edge facing each corner of ``triangles`` (T, 3) belongs to
    that triangle alone (the mesh's boundary)."""
    t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    a, b = t[:, [1, 2, 0]], t[:, [2, 0, 1]]              # corner k faces edge (k+1, k+2)
    key = np.minimum(a, b) * max(int(n_vertices), 1) + np.maximum(a, b)
    _, inv, cnt = np.unique(key.ravel(), return_inverse=True, return_counts=True)
    return (cnt[inv] == 1).reshape(-1, 3)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of (..., 3) arrays without its axis juggling (most of its time on the
    small meshes a 3-D scene re-uploads each frame)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def vertex_normals(v: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(V, 3) unit normals: the area-weighted sum of the faces around each vertex."""
    fn = _cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])       # (T, 3)
    n = np.stack([np.bincount(t.ravel(), np.repeat(fn[:, j], 3), minlength=len(v))
                  for j in range(3)], 1)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)


def colors4(colors: np.ndarray | None, n: int) -> np.ndarray:
    if colors is None:
        return np.ones((n, 4))
    c = np.asarray(colors, dtype=np.float64)
    if c.ndim == 1:
        c = np.broadcast_to(c, (n, len(c)))
    if c.shape[1] == 3:
        c = np.concatenate([c, np.ones((len(c), 1))], 1)
    return c


def surface(x: np.ndarray, y: np.ndarray, z: np.ndarray, colors: np.ndarray,
            shade: bool = True) -> Mesh:
    """A height field as a mesh: ``x``, ``y``, ``z`` (R, C) sample grids, ``colors`` (R, C, 4)
    or one RGBA for all."""
    r, c = z.shape
    verts = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    i = np.arange(r * c).reshape(r, c)
    a, b, d, e = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    tris = np.concatenate([np.stack([a, b, e], 1), np.stack([a, e, d], 1)])
    col = np.asarray(colors, dtype=np.float64)
    col = np.array(np.broadcast_to(col, (r, c, col.shape[-1])).reshape(-1, col.shape[-1]))
    # normals from the grid's tangents (cheaper than summing face normals)
    p = np.stack([x, y, z], axis=-1).astype(np.float64)
    du = np.gradient(p, axis=1)
    dv = np.gradient(p, axis=0)
    nrm = _cross(du, dv).reshape(-1, 3)
    return Mesh(verts, tris, colors4(col, len(verts)), shade, nrm)
