"""``fold-232`` (MISSION.md scene 4): a network's 3-unit layer lifts its 2-D input plane into
3-D, ReLU folds it into the positive octant, and the next layers flatten it back, where the
classes separate. The default network is a 2-3-2 ReLU net on the cloud wedge; any network
whose 3-unit layer reads a 2-D stage tells the same story.

The folded "paper" is computed from that layer's weights (:mod:`.folding`): the input square
splits into convex pieces by the sign pattern of ``W·u + b`` (which of the three coordinates
are positive); on each piece ReLU is linear (it zeroes the negative coordinates), so each
piece lands flat on the plane itself, on a coordinate plane, on an axis or at the origin. The
creases are the lines ``W_i·u + b_i = 0``. Pieces and creases are carried through the network
like points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset
from spacefold.render.frame import (
    Camera,
    Extent,
    Frame,
    Label3D,
    Line3D,
    Mesh,
    Rect,
    Space3D,
)
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.folding import PAPER, computed_creases, creases, fold_pieces
from spacefold.scenes.inputs import (
    SceneError,
    arch_of,
    data_label,
    heading,
    net_label,
    pick_stage,
    subject,
)
from spacefold.scenes.registry import scene
from spacefold.scenes.space3d import (
    SIDE,
    TOP,
    axis_labels,
    box_of,
    lerp_box,
    lerp_camera,
    orbit,
)
from spacefold.scenes.story import DIAGRAM_RECT, NARRATION, SPACE_RECT, diagram_of
from spacefold.scenes.zoo import fold_232_net
from spacefold.trace import GridSpec, Trace, trace
from spacefold.trace.analysis import between
from spacefold.trace.geometry import auto_extent
from spacefold.trace.ops import PRETTY

# -- the scene ---------------------------------------------------------------------------------

PIECE_ALPHA = 0.30
CAPTIONS = {
    "input": "the input plane: two classes no straight line can separate",
    "lift": "W·x with a 3×2 matrix lifts the plane into 3-D: a tilted plane through the origin",
    "bias": "+b shifts the tilted plane off the origin",
    "relu": "ReLU folds the paper into the positive octant: each piece lands on the plane, "
            "a coordinate plane, an axis or the origin",
    "orbit": "the creases (the bold lines) are where one coordinate of W·x+b crosses 0 — "
             "computed from the weights",
    "flatten": "layer 2's 2×3 matrix smashes the folded paper flat, back into 2-D",
    "line": "one straight line separates the classes: output 1 = output 2",
}


FOLDING = ("relu", "leaky_relu")        # activations that fold the paper into flat pieces


class Fold3D:
    """Frames of the fold story; everything is carried through the trace's ops.

    ``plane`` is the 2-D stage the 3-unit layer reads (the paper), ``lin`` the index of that
    layer's ``W·x`` op, ``k_relu`` the stage after its activation (or after its +b when it has
    none). The pieces and creases come from that layer's W (3, 2) and b (3,) and lie in the
    plane's coordinates, square ``paper``.
    """

    def __init__(self, tr: Trace, colors: np.ndarray, plane: int = 0, lin: int = 0,
                 paper: Extent = PAPER) -> None:
        self.tr, self.colors, self.plane, self.paper = tr, colors, plane, paper
        ops = tr.ops
        w = np.asarray(ops[lin].params["W"], dtype=np.float64)
        k = lin + 1                                     # the stage after W·x
        if k < len(ops) and ops[k].kind == "bias":
            b = np.asarray(ops[k].params["b"], dtype=np.float64)
            k += 1
        else:
            b = np.zeros(w.shape[0])
        self.k_lift = lin + 1
        self.activation = ops[k].kind if k < len(ops) and ops[k].kind not in (
            "linear", "bias") else None
        self.k_relu = k + 1 if self.activation is not None else k
        self.w, self.b = w, b
        self.folds = self.activation in FOLDING
        # the exact pieces and creases when the layer reads the plane itself; otherwise (a
        # wider stage between) the creases are the computed zero lines of the layer's
        # W·h + b over the input plane, and no flat pieces are drawn
        self.exact = plane == lin                  # the layer reads the paper itself
        pre = lin + 2 if lin + 1 < len(ops) and ops[lin + 1].kind == "bias" else lin + 1
        self.pieces = fold_pieces(w, b, paper) if self.folds and self.exact else []
        if not self.folds:
            self.creases = []
        elif self.exact:
            self.creases = creases(w, b, paper)
        else:
            self.creases = computed_creases(tr, pre, paper)
        # every stage's positions of the pieces' vertices and of the creases (from the plane)
        self.piece_stages = [tr.carry(p.polygon, start=plane) for p in self.pieces]
        self.crease_stages = [tr.carry(c, start=plane) for c in self.creases]
        self.tint = {p.positive: piece_tint(p.positive) for p in self.pieces}
        self.boxes = []
        for k in range(len(tr.stages)):
            pts = [_pad3(tr.display(k, 3))]
            grid = tr.display_grid(k, 3)          # the paper's grid stays in view too
            if grid is not None:
                pts.append(_pad3(grid.reshape(-1, grid.shape[-1])))
            if k >= plane:
                pts += [_pad3(ps[k - plane]) for ps in self.piece_stages]
                if tr.stages[k].dim <= 3:
                    pts += [_pad3(cs[k - plane]) for cs in self.crease_stages]
            self.boxes.append(box_of(np.concatenate(pts), margin=0.08))

    def positions(self, k: int, alpha: float) -> tuple[np.ndarray, np.ndarray | None]:
        p, g = self.tr.display_at(k, alpha, dims=3) if k else (
            self.tr.display(0, 3), self.tr.display_grid(0, 3))
        return p, g

    def carried(self, stages: list[np.ndarray], k: int, alpha: float) -> np.ndarray:
        """Carried points (from the plane on) at stage k, between k-1 and k at ``alpha``
        (the rule of ``Trace.at``); at the plane itself, its own positions."""
        i = k - self.plane
        if i <= 0:
            return _pad3(stages[0])
        base = max(self.tr.stages[k].base - self.plane, 0)     # k-1 in a chain
        return _pad3(between(stages[base], stages[i], alpha))

    def panel(self, k: int, alpha: float, camera: Any, box: Any, piece_alpha: float,
              crease_alpha: float, caption_key: str) -> Space3D:
        tr = self.tr
        stage = tr.stages[k]
        s = smooth(alpha) if k else 0.0
        pts, grid = self.positions(k, s)
        meshes = []
        shown = k >= self.plane and tr.stages[k].dim <= 3 and (
            k == 0 or tr.stages[k - 1].dim <= 3)       # raw coordinates are the display
        if piece_alpha > 0 and shown:
            for piece, stages in zip(self.pieces, self.piece_stages, strict=True):
                v = self.carried(stages, k, s)
                n = len(v)
                tris = np.stack([np.zeros(n - 2, int), np.arange(1, n - 1), np.arange(2, n)], 1)
                # pieces that landed on a coordinate plane stand out more than the plane piece
                a = piece_alpha * (0.7 if all(piece.positive) else 1.3)
                col = np.tile([*self.tint[piece.positive], min(a, 1.0)], (n, 1))
                meshes.append(Mesh(v, tris, col, shade=False))
        if crease_alpha > 0 and stage.dim == 3 and self.folds:
            meshes += octant_walls(box, 0.07 * crease_alpha)
        lines = []
        if crease_alpha > 0 and shown:
            for stages in self.crease_stages:
                lines.append(Line3D(self.carried(stages, k, s), (1, 1, 1, crease_alpha), 2.5))
        flat = stage.dim == 2 and (k == 0 or tr.stages[k - 1].dim == 2)
        proj = tr.projection(k, 3)
        dims = proj.label or f"{stage.dim}-D"
        if k and tr.stages[k - 1].dim != stage.dim:
            dims = f"{tr.stages[k - 1].dim}-D → {stage.dim}-D" + (f" · {proj.label}"
                                                                 if proj.label else "")
        return Space3D(box=box, camera=camera, points=pts, colors=self.colors,
                       classes=self.tr.labels, grid=grid,
                       grid_alpha=0.45, meshes=meshes, lines=lines,
                       labels=axis_labels(box, flat=flat), title=stage.name, subtitle=dims,
                       point_size=3.5)


def octant_walls(box: Any, alpha: float) -> list[Mesh]:
    """The positive octant's three walls (x = 0, y = 0, z = 0) inside ``box``, as faint
    quads: where ReLU's folded pieces must land."""
    hi = [max(box[1], 0.0), max(box[3], 0.0), max(box[5], 0.0)]
    out = []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        v = np.zeros((4, 3))
        v[1, j] = hi[j]
        v[2, j], v[2, k] = hi[j], hi[k]
        v[3, k] = hi[k]
        out.append(Mesh(v, np.array([[0, 1, 2], [0, 2, 3]]),
                        np.tile([0.8, 0.85, 1.0, alpha], (4, 1)), shade=False))
    return out


PLANE_TINTS = ((0.55, 0.8, 1.0), (1.0, 0.72, 0.42), (0.62, 1.0, 0.62))


def piece_tint(pos: tuple[bool, bool, bool]) -> tuple[float, float, float]:
    """The paper's own colour where it stays a plane; one colour per coordinate plane
    (by the coordinate ReLU zeroed) elsewhere."""
    if all(pos):
        return (0.95, 0.95, 1.0)
    if sum(pos) == 2:
        return PLANE_TINTS[pos.index(False)]
    return (1.0, 1.0, 1.0)


def _pad3(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if z.shape[-1] >= 3:
        return z[..., :3]
    out = np.zeros(z.shape[:-1] + (3,))
    out[..., :z.shape[-1]] = z
    return out


def _default_net() -> tuple[Any, Dataset]:
    model, data, _ = fold_232_net()
    return model, data


def _three_unit_stage(tr: Trace, stage: int | None) -> int:
    """The stage the fold centres on: ``stage`` (3-D), or the first 3-unit layer's output."""
    last = len(tr.stages) - 1

    def fits(k: int) -> bool:
        return tr.stages[k].dim == 3 and 0 < k < last

    ends = [k for k in range(1, last) if tr.ops[k].kind == "linear"]   # a layer's output
    return pick_stage(tr, stage, "fold-232", fits, "a 3-unit hidden stage",
                      candidates=ends, last=False)


@scene("fold-232", "a network's 3-unit layer in 3-D (default: a 2-3-2 ReLU net on the cloud "
       "wedge): it lifts its 2-D input plane into 3-D, ReLU folds it into the positive octant "
       "along creases from its weights (orbit), the next layers flatten it",
       palette_by=("class",))
def fold_232(model: Any = None, data: Any = None, *, stage: int | None = None,
             color_by: str = "class") -> Timeline:
    m, d, default = subject(model, data, "fold-232", _default_net, "cloud")
    probe = trace(m, d, grid=False)
    k3 = _three_unit_stage(probe, stage)
    layer = probe.stages[k3].layer
    lin = next(i for i, o in enumerate(probe.ops) if o.kind == "linear" and o.layer == layer)
    plane = lin                                  # the stage the 3-unit layer reads
    if probe.stages[plane].dim != 2:
        if probe.stages[0].dim != 2:
            raise SceneError(f"fold-232 needs its 3-unit layer to read a 2-D plane, or a 2-D "
                             f"input; in model {arch_of(probe)} layer {layer} reads "
                             f"{probe.stages[plane].dim}-D and the input is "
                             f"{probe.stages[0].dim}-D")
        plane = 0                                # the paper is the input plane, bent before
    if default:
        paper = PAPER
    else:
        paper = auto_extent(probe.stages[plane].values.astype(np.float64), margin=0.1)
    grid = GridSpec(extent=paper, lines=13, verts=120, regions=0) if plane == 0 \
        else GridSpec(lines=13, verts=120, regions=0)
    tr = trace(m, d, grid=grid if d.dim == 2 else False, meta={"dataset": data_label(d)})
    acc = tr.accuracy()
    f = Fold3D(tr, tr.colors(color_by), plane, lin, paper)
    kr = f.k_relu
    last = len(tr.stages) - 1
    heading_ = heading(tr, d, f"the 3-unit layer {layer}")
    side = Camera(SIDE.azimuth, SIDE.elevation, 3.7)
    orbit_end = orbit(side, 1.0)
    folds = f.folds
    act = PRETTY.get(f.activation or "", f.activation or "")

    def caption(key: str, k: int) -> str:
        # the default network's story is told in CAPTIONS; another network's input and
        # final line get what its own data and decisions show
        if not default and key == "input":
            return f"the input plane: {data_label(d)}; every point is a data sample"
        if not default and key == "line":
            right = "" if acc is None else f"; {acc:.0%} of the points lie on their class's side"
            return f"the straight line output 1 = output 2 decides the class{right}"
        if folds and not f.exact and key in ("relu", "orbit"):
            return ("ReLU folds the bent sheet into the positive octant along the creases "
                    "(the bold lines): where a unit of this layer crosses 0" if key == "relu" else
                    "the creases: zero lines of the 3 units over the input plane, computed "
                    "(the layers before bend the sheet)")
        if not f.exact and key in ("lift", "bias"):
            return NARRATION.get(tr.stages[k].kind, "")
        if key in CAPTIONS and (folds or key in ("input", "lift", "bias")):
            if key == "flatten" and tr.stages[k].dim != 2:
                return NARRATION.get(tr.stages[k].kind, "")
            return CAPTIONS[key]
        if key == "relu":
            return f"{act}: each coordinate is bent on its own; no flat folds to draw"
        if key == "orbit":
            return f"the lifted plane{f' after {act}' if act else ''}, seen from all sides"
        return NARRATION.get(tr.stages[k].kind, "")

    def frame(k: int, alpha: float, cam: Any, box: Any, piece_a: float, crease_a: float,
              key: str) -> Frame:
        sp = f.panel(k, alpha, cam, box, piece_a, crease_a, key)
        st = tr.stages[k]
        rect: Rect = SPACE_RECT
        return Frame([(rect, sp), (DIAGRAM_RECT, diagram_of(tr, st.layer, st.kind))],
                     heading=heading_, caption=caption(key, k))

    def move(k: int, cam0: Any, cam1: Any, pa: tuple[float, float], ca: tuple[float, float],
             key: str) -> Any:
        def fr(a: float) -> Frame:
            s = smooth(a)
            box = lerp_box(f.boxes[k - 1], f.boxes[k], s) if k else f.boxes[0]
            return frame(k, a, lerp_camera(cam0, cam1, s), box,
                         pa[0] + (pa[1] - pa[0]) * s, ca[0] + (ca[1] - ca[0]) * s, key)
        return fr

    P = PIECE_ALPHA
    segs = [Segment("input", 1.0, move(0, TOP, TOP, (0.12, 0.12) if plane == 0 else (0, 0),
                                       (0, 0), "input"))]
    for k in range(1, lin + 1):                 # the layers before the 3-unit one, from above
        segs.append(Segment(tr.stages[k].name, 1.2, move(k, TOP, TOP, (0, 0), (0, 0),
                                                         "generic")))
    k = f.k_lift
    pa0 = 0.12 if folds else 0.0
    segs.append(Segment(tr.stages[k].name, 2.5, move(k, TOP, side, (pa0, 0.2 * folds), (0, 0),
                                                     "lift")))
    k += 1
    if k <= last and tr.stages[k].kind == "bias":
        segs.append(Segment(tr.stages[k].name, 1.5, move(k, side, side, (0.2 * folds,) * 2,
                                                         (0, 0), "bias")))
        k += 1
    if f.activation is not None:
        segs.append(Segment(tr.stages[kr].name, 3.0, move(kr, side, side, (0.2 * folds, P),
                                                          (0, 0.9), "relu")))

    def orbiting(a: float) -> Frame:
        return frame(kr, 1.0, orbit(side, smooth(a)), f.boxes[kr], P, 0.9, "orbit")

    segs.append(Segment("orbit: the folds" if folds else "orbit", 6.0, orbiting))
    poster = len(segs) - 1
    flat_cam = TOP
    if kr + 1 <= last:
        segs.append(Segment(tr.stages[kr + 1].name, 3.0,
                            move(kr + 1, orbit_end, flat_cam, (P, 0.0), (0.9, 0.0), "flatten")))
    for k in range(kr + 2, last + 1):
        segs.append(Segment(tr.stages[k].name, 1.5, move(k, flat_cam, flat_cam, (0, 0),
                                                        (0, 0), "generic")))

    def with_line(a: float) -> Frame:
        fr = frame(last, 1.0, flat_cam, f.boxes[last], 0.0, 0.0, "line")
        sp = fr.panels[0][1]
        assert isinstance(sp, Space3D)
        x0, x1, y0, y1 = sp.box[:4]
        lo, hi = max(x0, y0), min(x1, y1)
        end = lo + (hi - lo) * a
        sp.lines = sp.lines + [Line3D(np.array([[lo, lo, 0.0], [end, end, 0.0]]),
                                      "#ffffff", 3.0)]
        sp.labels = sp.labels + [Label3D((end, end, 0.0), "output 1 = output 2", 12,
                                         "#ffffff", "left", "top")] if a >= 1.0 else sp.labels
        return fr

    if tr.stages[last].dim == 2 and tr.ops[-1].kind in ("linear", "bias", "identity"):
        segs.append(Segment("separating line", 1.5, with_line))   # the line y₁ = y₂
    if folds and f.exact:
        how = f"folds it along {len(f.creases)} creases computed from its weights"
    elif folds:
        how = "folds it along creases computed as the zero lines of its 3 units"
    else:
        how = f"bends it with {act or 'no activation'}"
    lifted = "its 2-D input plane" if f.exact else "the input plane, bent by the layers before,"
    cap = (f"A {net_label(tr)} network on {data_label(d)}: layer {layer} lifts {lifted} into "
           f"3-D and {how}.")
    return Timeline("fold-232", segs, meta={"trace": tr, "accuracy": acc, "fold": f,
                                            "caption": cap, "stage": k3},
                    poster_segment=poster)
