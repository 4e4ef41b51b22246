"""``surfaces-argmax`` and ``surfaces-softmax`` (MISSION.md scene 9): a network's class scores
over one of its 2-D stages h (default: the zoo's 2-100-2-5 spiral network, its bottleneck).

When the rest of the network after h is affine (one Linear), each class's score
``y_k = w_k·h + b_k`` is a plane over h, drawn from the weights as flat pieces cut along the
exact lines where it meets the others (:mod:`spacefold.trace.planes`), with the segments
where two planes are equal and highest drawn on them (argmax: the highest plane wins), or
after softmax a smooth probability surface in [0, 1] (an adaptive mesh); the top view
shows the highest surface in the colour of its class, cut exactly along the decision
boundaries. When the rest is deeper, the surfaces are computed by carrying samples of h
through it, and the titles say so. The height functions and meshes are in
:mod:`.score_surfaces`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.colors import CLASS_COLORS
from spacefold.render.frame import Camera, Frame, Label3D, Line3D, Mesh, Rect, Space3D
from spacefold.render.gl3d import colors4, surface, vertex_normals
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import (
    SceneError,
    arch_of,
    data_label,
    heading,
    layer_inputs,
    pick_stage,
    subject,
)
from spacefold.scenes.registry import scene
from spacefold.scenes.score_surfaces import (
    Tail,
    TopPieces,
    h_box,
    plane_grid,
    steep_mesh,
    wall_mesh,
)
from spacefold.scenes.space3d import SIDE, TOP, lerp_camera, orbit
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import Trace, trace
from spacefold.trace.analysis import AffineTail, affine_tail
from spacefold.trace.planes import (
    boundaries,
    lattice,
    plane_pieces,
    regions,
    triangulate,
)

BOTTLENECK = "2-100-2-5"
RES = 60            # samples per side of each class's surface (the reference workload)
RES_TOP = 80        # samples per side of the top surface that gives the regions
LATTICE = 24        # exact planes: pieces per side (small enough for the per-triangle sort)
LINE_LIFT = 6       # boundary segments this many eps above the planes (no z-fighting)
PLANE_ALPHA = 0.42
REGION_DIM = 0.5
RECT: Rect = (0.03, 0.08, 0.94, 0.82)


class Surfaces:
    """Frames of the surfaces story; all geometry sampled once from the last layer."""

    def __init__(self, tr: Trace, mode: str, kb: int, color_by: str = "class") -> None:
        self.tr, self.mode = tr, mode
        self.kb = kb
        self.h = tr.stages[kb].values.astype(np.float64)            # (N, 2) the plane h
        tail = affine_tail(tr, kb)
        self.layer = Tail(tr, kb, h_box(self.h), mode, tail)
        self.k = tr.stages[-1].dim
        self.h1, self.h2 = plane_grid(self.layer.box, RES)
        self.z = self.layer.heights(self.h1, self.h2)                # (RES, RES, K)
        self.steep: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if mode == "softmax":    # walls rise 0 → 1 within a grid cell: refine where steep
            pts, tris = (wall_mesh(tail, self.layer.box) if tail is not None else
                         steep_mesh(self.layer, self.layer.box))
            self.steep = (pts, tris, self.layer.heights(pts[:, 0], pts[:, 1]))
        # exact argmax planes: flat pieces cut along their intersections (a few hundred
        # triangles, not K·2·59² samples), the regions as polygons, the boundaries as segments
        self.pieces: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.top_exact: TopPieces | None = None
        self.edges: list[tuple[int, int, np.ndarray]] = []
        if mode == "argmax" and tail is not None:
            self.pieces = plane_pieces(tail.W, tail.b, self.layer.box, LATTICE)
            self.edges = boundaries(tail.W, tail.b, self.layer.box)
        if tail is not None:
            self.top_exact = self._top_pieces(tail)
        else:
            self.t1, self.t2 = plane_grid(self.layer.box, RES_TOP)
            zt = self.layer.heights(self.t1, self.t2)                # (RES_TOP, RES_TOP, K)
            self.top_z, self.top_cls = zt.max(axis=-1), zt.argmax(axis=-1)
        if mode == "softmax":
            zlo, zhi = 0.0, 1.0
        else:
            zlo, zhi = float(self.z.min()), float(self.z.max())
        span = zhi - zlo
        self.floor = zlo - 0.1 * span
        x0, x1, y0, y1 = self.layer.box
        self.box3 = (x0, x1, y0, y1, self.floor, zhi + 0.02 * span)
        self.eps = 1e-3 * span
        self.labels_ = tr.labels
        self.colors = tr.colors(color_by)
        hx, hy = x1 - x0, y1 - y0
        self.stretch = (hx / max(hx, hy), hy / max(hx, hy), 0.75)
        # each surface is labelled where its class wins by the widest margin
        others = np.stack([np.delete(self.z, k, axis=-1).max(axis=-1) for k in range(self.k)],
                          -1)
        margin = (self.z - others).reshape(-1, self.k)
        self.label_at = [np.unravel_index(int(margin[:, k].argmax()), self.z.shape[:2])
                         for k in range(self.k)]
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._shapes: tuple[float, list[Mesh]] | None = None
        self._normals: dict[int, np.ndarray] = {}
        self._top_v: tuple[float, np.ndarray] | None = None
        self.point_h = self.layer.heights(self.h[:, 0], self.h[:, 1]).max(axis=-1)  # (N,)

    def _top_pieces(self, tail: AffineTail) -> TopPieces:
        """The highest surface of an exact tail in pieces that each lie in one decision
        region: the regions' polygons cut by the lattice (argmax: flat on the highest plane),
        or the wall mesh cut along the boundaries too (softmax)."""
        box = self.layer.box
        if self.mode == "argmax":
            polys = [r for r in regions(tail.W, tail.b, box) if len(r)]
            pts, tris = triangulate(lattice(polys, box, LATTICE), box)
        else:
            pts, tris = wall_mesh(tail, box, cut=True)
        cls = tail.logits(pts[tris].mean(axis=1)).argmax(axis=1)      # (T,) at each centroid
        z = self.layer.heights(pts[:, 0], pts[:, 1]).max(axis=-1)
        return TopPieces(pts, z, [(int(k), tris[cls == k]) for k in np.unique(cls)])

    def _planes(self, rise: float, alpha: float) -> list[Mesh]:
        """The K class surfaces; the same objects for the same state, so the renderer
        uploads them once for a whole orbit (and a fade changes only their colours)."""
        key = ("planes", rise, alpha)
        if key not in self._cache:
            out = []
            for k, m in enumerate(self._plane_shapes(rise)):
                col = np.array([*CLASS_COLORS[k % len(CLASS_COLORS)], alpha])
                out.append(Mesh(m.vertices, m.triangles, colors4(col, len(m.vertices)),
                                m.shade, m.normals))
            self._cache = {key: out}
        return self._cache[key]

    def _plane_shapes(self, rise: float) -> list[Mesh]:
        """The K surfaces' vertices, triangles and normals at ``rise`` (white)."""
        if self._shapes is not None and self._shapes[0] == rise:
            return self._shapes[1]
        out = []
        white = np.ones(4)
        for k in range(self.k):
            if self.pieces is not None:      # exact: z = w_k·h + b_k at every vertex
                verts, tris = self.pieces[k]
                v = verts.copy()
                v[:, 2] = self.floor + rise * (v[:, 2] - self.floor)
                w = self.layer.affine.W[k] if self.layer.affine is not None else (0, 0)
                nrm = np.broadcast_to([-rise * w[0], -rise * w[1], 1.0], v.shape)
                out.append(Mesh(v, tris, white, True, np.array(nrm)))
            elif self.steep is not None:
                pts, tris, zs = self.steep
                zk = self.floor + rise * (zs[:, k] - self.floor)
                verts = np.concatenate([pts, zk[:, None]], axis=1)
                # rising scales heights about the floor: each face normal's x and y scale
                # by `rise`, z stays, so the risen mesh's normals are the full one's so
                # scaled (the renderer normalises them)
                out.append(Mesh(verts, tris, white, True,
                                self._steep_normals(k) * [rise, rise, 1.0]))
            else:
                zk = self.floor + rise * (self.z[..., k] - self.floor)
                out.append(surface(self.h1, self.h2, zk, white))
        self._shapes = (rise, out)
        return out

    def _steep_normals(self, k: int) -> np.ndarray:
        """(P, 3) unit normals of class k's softmax mesh at full height."""
        if k not in self._normals:
            assert self.steep is not None
            pts, tris, zs = self.steep
            self._normals[k] = vertex_normals(np.concatenate([pts, zs[:, k:k + 1]], axis=1),
                                              tris)
        return self._normals[k]

    def _top(self, flatten: float, alpha: float) -> list[Mesh]:
        """The highest surface, class-coloured (what the top view shows), a hair above the
        highest plane so the two never swap places in the depth sort. An exact tail's is one
        flat-coloured mesh per decision region, on one shared set of points, so the colour
        changes exactly on the boundaries and the renderer sees them as seams; a computed
        tail's is sampled on a grid (vertex colours: the sampled decision)."""
        if self.top_exact is not None:
            top = self.top_exact
            if self._top_v is None or self._top_v[0] != flatten:   # kept through a fade
                zh = (1 - flatten) * (top.z + 3 * self.eps) + flatten * (self.floor - self.eps)
                self._top_v = (flatten, np.concatenate([top.points, zh[:, None]], axis=1))
            v = self._top_v[1]
            return [Mesh(v, tris, colors4(np.array([*CLASS_COLORS[k % len(CLASS_COLORS)]
                                                      * REGION_DIM, alpha]), len(v)), False)
                    for k, tris in top.regions]
        top_h = (1 - flatten) * (self.top_z + 3 * self.eps) + flatten * (self.floor - self.eps)
        rgb = CLASS_COLORS[self.top_cls % len(CLASS_COLORS)] * REGION_DIM
        col = np.concatenate([rgb, np.full(rgb.shape[:-1] + (1,), alpha)], -1)
        return [surface(self.t1, self.t2, top_h, col, shade=False)]

    def floor_grid(self, n: int = 9) -> np.ndarray:
        x0, x1, y0, y1 = self.layer.box
        lines = []
        for t in np.linspace(0, 1, n):
            x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            lines.append([[x, y0, self.floor], [x, y1, self.floor]])
            lines.append([[x0, y, self.floor], [x1, y, self.floor]])
        return np.array(lines, dtype=np.float64)

    def panel(self, cam: Camera, rise: float, plane_alpha: float, top_alpha: float,
              flatten: float, climb: float) -> Space3D:
        """``rise``: 0 = planes flat on the floor, 1 = true heights; ``top_alpha``: the
        highest surface (class-coloured, what the top view shows); ``flatten``: that surface
        lowered onto the floor; ``climb``: points lifted from the floor onto it."""
        meshes = []
        if plane_alpha > 0:
            meshes += self._planes(rise, plane_alpha)
        if top_alpha > 0:
            meshes += self._top(flatten, top_alpha)
        pz_top = (1 - flatten) * self.point_h + flatten * self.floor
        pz = self.floor + climb * (pz_top - self.floor) + self.eps
        pts = np.concatenate([self.h, pz[:, None]], axis=1)
        name = "score y_k" if self.mode == "argmax" else "probability p_k"
        x0, x1, y0, y1, z0, z1 = self.box3
        # the axis names just outside the floor, at the middle of its far edges (never inside
        # the surfaces), and for probabilities a z axis with its 0 and 1 at a floor corner
        ox, oy = 0.06 * (x1 - x0), 0.06 * (y1 - y0)
        labels = [Label3D(((x0 + x1) / 2, y0 - oy, self.floor), "h₁", 12, "#c8c8d0",
                          "center", "top"),
                  Label3D((x1 + ox, (y0 + y1) / 2, self.floor), "h₂", 12, "#c8c8d0",
                          "left", "center")]
        lines: list[Line3D] = []
        # where two planes are equal and highest: the exact boundary segments, lifted; gone
        # before the top surface is half there (a line writes depth: a faint one would cut
        # the top surface)
        a = min(1.0, plane_alpha / PLANE_ALPHA) * (1.0 - top_alpha)
        if self.edges and a > 0.5 and rise > 0:
            for _, _, seg in self.edges:
                xyz = seg.copy()
                xyz[:, 2] = self.floor + rise * (xyz[:, 2] - self.floor) + LINE_LIFT * self.eps
                lines.append(Line3D(xyz, (0.92, 0.92, 0.96, 0.85 * a), 1.6))
        if self.mode == "softmax":
            zx, zy = x0 - ox, y0 - oy
            lines.append(Line3D(np.array([[zx, zy, 0.0], [zx, zy, 1.0]]), (0.8, 0.8, 0.85, 0.7),
                                1.2))
            for v in (0.0, 1.0):
                tick = np.array([[zx, zy, v], [zx + 0.5 * ox, zy, v]])
                lines.append(Line3D(tick, (0.8, 0.8, 0.85, 0.7), 1.2))
                labels.append(Label3D((zx - 0.2 * ox, zy, v), f"{v:.0f}", 11, "#c8c8d0",
                                      "right", "center"))
        if plane_alpha > 0.2 and rise > 0.5:
            sym = "y" if self.mode == "argmax" else "p"
            for k, (i, j) in enumerate(self.label_at):
                # a little above its own surface where it wins widest: read on top of it
                zk = self.floor + rise * (self.z[i, j, k] - self.floor) + 0.04 * (z1 - z0)
                labels.append(Label3D((float(self.h1[i, j]), float(self.h2[i, j]), float(zk)),
                                      f"{sym}{_sub(k)}", 13,
                                      tuple(CLASS_COLORS[k % len(CLASS_COLORS)]), "center",
                                      "bottom"))
        if self.mode == "softmax":
            title = f"softmax: {self.k} probability surfaces p_k(h), summing to 1"
        elif self.layer.exact:
            title = "the scores as planes: y_k = w_k·h + b_k"
        else:
            title = "the scores y_k(h), computed through the rest of the network"
        return Space3D(box=self.box3, camera=cam, points=pts, colors=self.colors,
                       classes=self.labels_,
                       grid=self.floor_grid(), grid_alpha=0.35, meshes=meshes, labels=labels,
                       lines=lines,
                       title=title, subtitle=f"over the 2-D stage h · z: {name}",
                       point_size=3.0, axes=False, stretch=self.stretch)


def _sub(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))


def _default() -> tuple[Any, Any]:
    model, data, _ = spiral_net(BOTTLENECK)
    return model, data


def timeline(mode: str, model: Any = None, data: Any = None, stage: int | None = None,
             color_by: str = "class") -> Timeline:
    name = f"surfaces-{mode}"
    m, d, _default_used = subject(model, data, name, _default, "spiral")
    tr = trace(m, d, grid=False, meta={"dataset": data_label(d)})
    last = len(tr.stages) - 1
    if tr.stages[-1].dim < 2:
        raise SceneError(f"{name} needs at least 2 outputs (one surface per class); model "
                         f"{arch_of(tr)} has 1")
    kb = pick_stage(tr, stage, name, lambda k: tr.stages[k].dim == 2 and k < last,
                    "a 2-unit hidden stage (the plane under the surfaces)",
                    candidates=layer_inputs(tr))
    s = Surfaces(tr, mode, kb, color_by)
    acc = tr.accuracy()
    n_cls = s.k
    exact = s.layer.exact
    what = "scores" if mode == "argmax" else "softmax probabilities"
    heading_ = heading(tr, d, f"{what} over stage {kb}")
    side, top = Camera(SIDE.azimuth, SIDE.elevation, 4.0), Camera(TOP.azimuth, 90.0, 3.4)
    if exact:
        rise = ("each class's score is a plane over h: y_k = w_k·h + b_k, from the weights"
                if mode == "argmax" else
                f"softmax turns the {n_cls} score planes into smooth surfaces in [0, 1] that "
                f"sum to 1")
        flat = f"flattened: the {n_cls} decision regions of the plane h, straight boundaries"
    else:
        rise = ("each class's score over h, computed through the rest of the network (not "
                "one Linear, so not planes)" if mode == "argmax" else
                f"softmax of the {n_cls} computed scores: smooth surfaces in [0, 1] that sum "
                f"to 1")
        flat = f"flattened: the {n_cls} decision regions of the plane h"
    caps = {
        "plane": f"the plane h ({tr.stages[kb].name}): the data after the first "
                 f"{tr.stages[kb].layer} layer{'s' if tr.stages[kb].layer != 1 else ''}",
        "rise": rise,
        "orbit": "the surfaces intersect: where one is highest, that class wins",
        "top": "from the top, only the highest surface is seen: its colour is the decision",
        "regions": flat,
    }

    def fr(key: str, cam: Camera, **kw: float) -> Frame:
        return Frame([(RECT, s.panel(cam, **kw))], heading=heading_, caption=caps[key])

    end = orbit(side, 1.0)
    segs = [
        Segment("the plane h", 1.0, lambda a: fr("plane", side, rise=0.0,
                                                       plane_alpha=0.0, top_alpha=0.0,
                                                       flatten=0.0, climb=0.0)),
        Segment("planes rise", 2.5, lambda a: fr("rise", side, rise=smooth(a),
                                                  plane_alpha=PLANE_ALPHA * min(1.0, 3 * a),
                                                  top_alpha=0.0, flatten=0.0, climb=0.0)),
        Segment("orbit", 6.0, lambda a: fr("orbit", orbit(side, smooth(a)), rise=1.0,
                                           plane_alpha=PLANE_ALPHA, top_alpha=0.0,
                                           flatten=0.0, climb=0.0)),
        Segment("top view", 3.0, lambda a: fr("top", lerp_camera(end, _top_from(end, top),
                                                                smooth(a)),
                                              rise=1.0, plane_alpha=PLANE_ALPHA * (1 - a),
                                              top_alpha=smooth(a), flatten=0.0,
                                              climb=smooth(a))),
        Segment("regions", 2.0, lambda a: fr("regions", _top_from(end, top), rise=1.0,
                                             plane_alpha=0.0, top_alpha=1.0,
                                             flatten=smooth(a), climb=1.0)),
    ]
    return Timeline(name, segs, poster_segment=2,
                    meta={"trace": tr, "accuracy": acc, "surfaces": s, "plane_stage": kb,
                          "exact": exact, "caption": caps["rise"]})


def _top_from(cam: Camera, top: Camera) -> Camera:
    """The top view reached from ``cam`` by the shortest turn (azimuth equal to top's mod 360)."""
    az = top.azimuth + 360.0 * round((cam.azimuth - top.azimuth) / 360.0)
    return Camera(az, top.elevation, top.distance, top.target, top.fov)


@scene("surfaces-argmax", "a network's 2-unit stage h (default: 2-100-2-5 on the spiral) "
       "with the rest of the network's class scores as surfaces over it (exact planes when "
       "that rest is one Linear): side view, orbit, top view = the decision regions",
       palette_by=("class",))
def surfaces_argmax(model: Any = None, data: Any = None, *, stage: int | None = None,
                    color_by: str = "class") -> Timeline:
    return timeline("argmax", model, data, stage, color_by)


@scene("surfaces-softmax", "the same scores after softmax: probability surfaces in [0, 1] "
       "over the 2-unit stage, orbit, top view = the decision regions", palette_by=("class",))
def surfaces_softmax(model: Any = None, data: Any = None, *, stage: int | None = None,
                     color_by: str = "class") -> Timeline:
    return timeline("softmax", model, data, stage, color_by)
