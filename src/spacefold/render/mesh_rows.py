"""The meshes of one pass of the 3-D renderer as uploaded: de-indexed vertex rows (each
triangle's corners carry their own boundary-edge flags, see :mod:`.shaders`), the shared
positions for the depth sort, and what a later frame of the same meshes can reuse.

A scene in motion (planes rising, a surface flattening) hands the renderer, frame after frame,
meshes with the same triangles but new vertices, normals and colours. Their rows are then
gathered again into the cached ones; the work that depends on the triangles alone (the
global index, each mesh's boundary edges, their end vertices) is kept. Seams (a boundary edge
of one mesh that another mesh of the pass also has, matched *by position*) are not topology:
planes that lie on one floor share their outline and separate as they rise, so the seams are
found again from the new positions, over the boundary edges only (a few hundred, not the
triangles). The edge flags are rebuilt only when the seams changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.render.frame import Mesh
from spacefold.render.meshes import colors4, vertex_normals
from spacefold.render.shaders import VERTEX

_BYTES = (np.uint8, VERTEX.itemsize)


def colour_rows(m: Mesh) -> np.ndarray:
    """(V, 4) uint8 vertex colours of ``m`` as uploaded; one colour for all (a broadcast
    row, as :func:`.colors4` makes of one RGBA) stays one broadcast row."""
    n = len(np.asarray(m.vertices).reshape(-1, 3))
    c = colors4(m.colors, n)
    if n > 1 and c.ndim == 2 and c.strides[0] == 0:
        return np.broadcast_to(np.rint(np.clip(c[:1], 0, 1) * 255).astype(np.uint8), c.shape)
    return np.rint(np.clip(c, 0, 1) * 255).astype(np.uint8)


def vertex_rows(m: Mesh, v: np.ndarray, t: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(V,) one row per shared vertex of ``m`` (its edge flags left unset). Only a shaded
    mesh's normals are read (MESH_VS: mode 1); the others' are left 0, not worked out."""
    mode = 2.0 if m.argmax is not None else 1.0 if m.shade else 0.0
    r = np.empty(len(v), dtype=VERTEX)
    r["pos"] = v
    r["color"] = colours
    if mode == 1.0:
        nrm = np.asarray(m.normals if m.normals is not None else vertex_normals(v, t),
                         dtype=np.float64)
        r["normal"][:, :3] = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True),
                                              1e-300)
    else:
        r["normal"][:, :3] = 0.0
    r["normal"][:, 3] = mode
    return r


def seams(pos: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(E,) bool: whether each boundary edge, its end vertices ``ends`` (2, E) indices into
    ``pos``, is had by another triangle too (at the same positions, to float32)."""
    e = np.concatenate([pos[ends[0]], pos[ends[1]]])
    e = np.ascontiguousarray(e.astype(np.float32) + np.float32(0.0))     # no -0
    _, ids = np.unique(e.view(np.dtype((np.void, 12))).ravel(), return_inverse=True)
    ids = ids.reshape(2, -1).astype(np.int64)        # (2, E) position ids of the ends
    keys = ids.min(0) * (int(ids.max()) + 1) + ids.max(0)
    _, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
    return np.asarray(cnt[inv] > 1)


def edge_flags(bnd: np.ndarray) -> np.ndarray:
    """(T, 3, 4) uint8 the corners' edge attribute: corner j's flag k is barycentric
    (j == k) on a boundary edge k, else a constant 1 (255)."""
    edge = np.ones((len(bnd), 3, 4), dtype=np.uint8)
    bary = np.eye(3, dtype=np.uint8)[None]           # (1, 3 corners, 3 edges)
    edge[..., :3] = np.where(bnd[:, None, :], bary, 1) * 255
    return edge


def same_topology(a: Mesh, b: Mesh) -> bool:
    """Whether ``b`` has ``a``'s triangles over as many vertices and is drawn in the same
    mode (so only its vertices, normals and colours can differ)."""
    if a.shade != b.shade or (a.argmax is None) != (b.argmax is None):
        return False
    if a.vertices is not b.vertices and (len(np.asarray(a.vertices).reshape(-1, 3))
                                         != len(np.asarray(b.vertices).reshape(-1, 3))):
        return False
    return a.triangles is b.triangles or bool(np.array_equal(a.triangles, b.triangles))


class Geometry:
    """The meshes of one pass as uploaded: de-indexed vertex rows on the GL side, the view
    depth data for sorting on the numpy side, and the boundary edges."""

    def __init__(self, meshes: list[Mesh], topo: np.ndarray, vbo: Any) -> None:
        """``topo`` (T, 3): each corner faces an edge of its mesh's boundary (one triangle
        only); the meshes' triangles must index their vertices (gathering checks)."""
        self.meshes = list(meshes)
        self.vbo = vbo
        self.local: list[np.ndarray] = []    # per mesh, its (T_m, 3) triangles
        self.colours: list[np.ndarray] = []  # per mesh, its (V_m, 4) uint8 colours
        verts, rows, tris, off = [], [], [], 0
        self.spans: list[tuple[int, int, int, int]] = []   # vertex and triangle ranges
        n_tris = 0
        for m in meshes:
            v = np.asarray(m.vertices, dtype=np.float64).reshape(-1, 3)
            t = np.asarray(m.triangles, dtype=np.int64).reshape(-1, 3)
            c = colour_rows(m)
            # (T, 3) de-indexed corners, gathered as raw rows: fancy indexing a structured
            # array copies field by field, ~4x slower than the same bytes as uint8 rows
            rows.append(vertex_rows(m, v, t, c).view(_BYTES)[t].view(VERTEX)[..., 0])
            verts.append(v)
            self.local.append(t)
            self.colours.append(c)
            tris.append(t + off)
            self.spans.append((off, off + len(v), n_tris, n_tris + len(t)))
            off += len(v)
            n_tris += len(t)
        self.pos = np.concatenate(verts)     # (V, 3) float64 shared vertices, for the sort
        self.tris = np.concatenate(tris)     # (T, 3) indices into pos
        self.n = len(self.tris)
        self.rows = np.concatenate(rows)     # (T, 3) VERTEX
        self.topo = topo
        ti, k = np.nonzero(topo)
        self.corners = (ti, k)                 # the corners facing a boundary edge
        self.ends = np.stack([self.tris[ti, (k + 1) % 3], self.tris[ti, (k + 2) % 3]])
        self.shared = self._shared()           # which of those edges are seams
        self.bnd = topo.copy()                 # (T, 3) corners facing the pass's boundary
        self.bnd[ti[self.shared], k[self.shared]] = False
        self.edge = edge_flags(self.bnd)
        self.rows["edge"] = self.edge

    def _shared(self) -> np.ndarray:
        """(E,) bool: the boundary edges another mesh of the pass has too (by position)."""
        if len(self.corners[0]) and len(self.meshes) > 1:
            return seams(self.pos, self.ends)
        return np.zeros(len(self.corners[0]), dtype=bool)

    def same(self, meshes: list[Mesh]) -> bool:
        return len(meshes) == len(self.meshes) and all(
            same_topology(a, b) for a, b in zip(self.meshes, meshes, strict=True))

    def update(self, meshes: list[Mesh]) -> bool:
        """Take ``meshes`` (:meth:`same` as these) as the pass's: the rows of the meshes
        whose vertices or normals changed are gathered again, those whose colours alone
        changed get their colours, and the seams are found again when positions moved.
        Whether the rows changed (to be written to the GL side)."""
        moved = changed = False
        raw = self.rows.view(np.uint8).reshape(self.n, 3, VERTEX.itemsize)
        for i, (a, b) in enumerate(zip(self.meshes, meshes, strict=True)):
            v0, v1, t0, t1 = self.spans[i]
            t = self.local[i]
            if a.colors is not b.colors:
                self.colours[i] = colour_rows(b)
            if a.vertices is not b.vertices or a.normals is not b.normals:
                v = np.asarray(b.vertices, dtype=np.float64).reshape(-1, 3)
                r = vertex_rows(b, v, t, self.colours[i])
                # the indices were checked by the full gather of this topology ("wrap" is
                # Python's indexing there, and unbuffered)
                np.take(r.view(_BYTES), t, axis=0, out=raw[t0:t1], mode="wrap")
                self.rows["edge"][t0:t1] = self.edge[t0:t1]   # (gathered over)
                self.pos[v0:v1] = v
                moved = changed = True
            elif a.colors is not b.colors:
                c = self.colours[i]
                self.rows["color"][t0:t1] = c[0] if c.strides[0] == 0 else c[t]
                changed = True
        self.meshes = list(meshes)
        if moved:
            shared = self._shared()
            flip = np.nonzero(shared != self.shared)[0]
            if len(flip):                      # seams came or went: those triangles' flags
                ti, k = self.corners[0][flip], self.corners[1][flip]
                self.bnd[ti, k] = ~shared[flip]
                self.shared = shared
                tri = np.unique(ti)
                self.edge[tri] = edge_flags(self.bnd[tri])
                self.rows["edge"][tri] = self.edge[tri]
        return changed
