"""``surfaces-argmax`` and ``surfaces-softmax`` (MISSION.md scene 9): the trained 2-100-2-5
spiral network's last layer over its 2-D bottleneck plane h.

Each class's score ``y_k = w_k·h + b_k`` is a plane over h (argmax: the highest plane wins),
or, after softmax, a smooth probability surface in [0, 1]. Everything drawn is sampled from
the last layer's own weights: the planes' rows are ``W[k]``, ``b[k]``, the top view's colours
are ``argmax`` at every sample of the plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import CLASS_COLORS
from spacefold.render.frame import Camera, Frame, Label3D, Mesh, Rect, Space3D
from spacefold.render.gl3d import surface
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.registry import scene
from spacefold.scenes.space3d import SIDE, TOP, lerp_camera, orbit
from spacefold.scenes.zoo import spiral_net
from spacefold.trace import Trace, trace

BOTTLENECK = "2-100-2-5"
RES = 60            # samples per side of each class's surface (the reference workload)
RES_TOP = 80        # samples per side of the top surface that gives the regions
PLANE_ALPHA = 0.42
REGION_DIM = 0.5
RECT: Rect = (0.03, 0.08, 0.94, 0.82)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def plane_grid(box: tuple[float, float, float, float], res: int) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """(res, res) sample coordinates h1, h2 over ``box`` (row 0 = h2 min)."""
    x0, x1, y0, y1 = box
    return np.meshgrid(np.linspace(x0, x1, res), np.linspace(y0, y1, res))


@dataclass
class LastLayer:
    """The last Linear (``w`` (K, 2), ``b`` (K,)) over the bottleneck plane ``box``."""

    w: np.ndarray
    b: np.ndarray
    box: tuple[float, float, float, float]
    mode: str            # "argmax" (scores) or "softmax" (probabilities)

    def heights(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """(..., K): each class's score (or probability) at h = (h1, h2)."""
        z = np.stack([h1, h2], axis=-1) @ self.w.T + self.b
        return softmax(z) if self.mode == "softmax" else z


def last_layer_of(tr: Trace) -> tuple[int, np.ndarray, np.ndarray]:
    """(stage index of the bottleneck h, W (K, 2), b (K,)) of the trace's last Linear."""
    kl = max(i for i, o in enumerate(tr.ops) if o.kind == "linear")
    w = tr.ops[kl].params["W"]
    b = tr.ops[kl + 1].params["b"] if kl + 1 < len(tr.ops) and tr.ops[kl + 1].kind == "bias" \
        else np.zeros(w.shape[0])
    return kl, w, b


def _h_box(h: np.ndarray, margin: float = 0.12) -> tuple[float, float, float, float]:
    lo, hi = h.min(axis=0), h.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


class Surfaces:
    """Frames of the surfaces story; all geometry sampled once from the last layer."""

    def __init__(self, tr: Trace, mode: str) -> None:
        self.tr, self.mode = tr, mode
        kb, w, b = last_layer_of(tr)
        self.kb = kb
        self.h = tr.stages[kb].values.astype(np.float64)            # (N, 2) bottleneck
        self.layer = LastLayer(w, b, _h_box(self.h), mode)
        self.k = w.shape[0]
        self.h1, self.h2 = plane_grid(self.layer.box, RES)
        self.z = self.layer.heights(self.h1, self.h2)                # (RES, RES, K)
        self.t1, self.t2 = plane_grid(self.layer.box, RES_TOP)
        zt = self.layer.heights(self.t1, self.t2)                    # (RES_TOP, RES_TOP, K)
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
        self.colors = tr.colors("class")
        hx, hy = x1 - x0, y1 - y0
        self.stretch = (hx / max(hx, hy), hy / max(hx, hy), 0.75)
        # each surface is labelled where its class wins by the widest margin
        others = np.stack([np.delete(self.z, k, axis=-1).max(axis=-1) for k in range(self.k)],
                          -1)
        margin = (self.z - others).reshape(-1, self.k)
        self.label_at = [np.unravel_index(int(margin[:, k].argmax()), self.z.shape[:2])
                         for k in range(self.k)]
        self._cache: dict[tuple[Any, ...], Any] = {}
        self.point_h = self.layer.heights(self.h[:, 0], self.h[:, 1]).max(axis=-1)  # (N,)

    def _planes(self, rise: float, alpha: float) -> list[Mesh]:
        """The K class surfaces; the same objects for the same state, so the renderer
        uploads them once for a whole orbit."""
        key = ("planes", rise, alpha)
        if key not in self._cache:
            out = []
            for k in range(self.k):
                zk = self.floor + rise * (self.z[..., k] - self.floor)
                col = np.array([*CLASS_COLORS[k % len(CLASS_COLORS)], alpha])
                out.append(surface(self.h1, self.h2, zk, col))
            self._cache = {key: out}
        return self._cache[key]

    def _top(self, flatten: float, alpha: float) -> Mesh:
        """The highest surface, class-coloured (what the top view shows)."""
        # a hair above the highest plane, so the two never swap places in the depth sort
        top_h = (1 - flatten) * (self.top_z + 3 * self.eps) + flatten * (self.floor - self.eps)
        rgb = CLASS_COLORS[self.top_cls % len(CLASS_COLORS)] * REGION_DIM
        col = np.concatenate([rgb, np.full(rgb.shape[:-1] + (1,), alpha)], -1)
        m = surface(self.t1, self.t2, top_h, col, shade=False)
        # every pixel takes the colour of argmax of the last layer at its own h (the vertex
        # colours above are the same decision, sampled)
        m.argmax = (self.layer.w, self.layer.b,
                    CLASS_COLORS[np.arange(self.k) % len(CLASS_COLORS)] * REGION_DIM)
        return m

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
            meshes.append(self._top(flatten, top_alpha))
        pz_top = (1 - flatten) * self.point_h + flatten * self.floor
        pz = self.floor + climb * (pz_top - self.floor) + self.eps
        pts = np.concatenate([self.h, pz[:, None]], axis=1)
        name = "score y_k" if self.mode == "argmax" else "probability p_k"
        x0, x1, y0, y1, z0, z1 = self.box3
        labels = [Label3D((x1, y0, self.floor), "h₁", 12, "#c8c8d0", "left", "center"),
                  Label3D((x0, y1, self.floor), "h₂", 12, "#c8c8d0", "center", "bottom")]
        if plane_alpha > 0.2 and rise > 0.5:
            sym = "y" if self.mode == "argmax" else "p"
            for k, (i, j) in enumerate(self.label_at):
                zk = self.floor + rise * (self.z[i, j, k] - self.floor)
                labels.append(Label3D((float(self.h1[i, j]), float(self.h2[i, j]), float(zk)),
                                      f"{sym}{_sub(k)}", 13, tuple(CLASS_COLORS[k]), "center",
                                      "bottom"))
        title = ("the last layer as planes: y_k = w_k·h + b_k" if self.mode == "argmax"
                 else "softmax: 5 probability surfaces p_k(h), summing to 1")
        return Space3D(box=self.box3, camera=cam, points=pts, colors=self.colors,
                       grid=self.floor_grid(), grid_alpha=0.35, meshes=meshes, labels=labels,
                       title=title, subtitle=f"over the 2-D bottleneck h · z: {name}",
                       point_size=3.0, axes=False, stretch=self.stretch)


def _sub(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))


def timeline(mode: str) -> Timeline:
    model, data, _ = spiral_net(BOTTLENECK)
    tr = trace(model, data, grid=False, meta={"arch": BOTTLENECK, "dataset": "spiral"})
    s = Surfaces(tr, mode)
    acc = tr.accuracy()
    what = "logits (argmax)" if mode == "argmax" else "softmax probabilities"
    heading = (f"5-class spiral  ·  {BOTTLENECK} ReLU  ·  last layer's {what}  ·  "
               f"accuracy {100 * (acc or 0):.1f}%")
    side, top = Camera(SIDE.azimuth, SIDE.elevation, 4.0), Camera(TOP.azimuth, 90.0, 3.4)
    caps = {
        "plane": "the bottleneck plane h: the spiral's 5 arms after the first two layers",
        "rise": ("each class's score is a plane over h: y_k = w_k·h + b_k"
                 if mode == "argmax" else
                 "softmax turns the 5 planes into smooth surfaces in [0, 1] that sum to 1"),
        "orbit": "the surfaces intersect: where one is highest, that class wins",
        "top": "from the top, only the highest surface is seen: its colour is the decision",
        "regions": "flattened: the 5 decision regions of the last layer, straight boundaries",
    }

    def fr(key: str, cam: Camera, **kw: float) -> Frame:
        return Frame([(RECT, s.panel(cam, **kw))], heading=heading, caption=caps[key])

    end = orbit(side, 1.0)
    segs = [
        Segment("bottleneck plane", 1.0, lambda a: fr("plane", side, rise=0.0,
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
    return Timeline(f"surfaces-{mode}", segs, poster_segment=2,
                    meta={"trace": tr, "accuracy": acc, "surfaces": s,
                          "caption": caps["rise"]})


def _top_from(cam: Camera, top: Camera) -> Camera:
    """The top view reached from ``cam`` by the shortest turn (azimuth equal to top's mod 360)."""
    az = top.azimuth + 360.0 * round((cam.azimuth - top.azimuth) / 360.0)
    return Camera(az, top.elevation, top.distance, top.target, top.fov)


@scene("surfaces-argmax", "the 2-100-2-5 spiral net's last layer as 5 planes y_k = w_k·h + b_k "
       "over its 2-D bottleneck: side view, orbit, top view = the decision regions")
def surfaces_argmax(**_: Any) -> Timeline:
    return timeline("argmax")


@scene("surfaces-softmax", "the same last layer after softmax: 5 probability surfaces in "
       "[0, 1], orbit, top view = the decision regions")
def surfaces_softmax(**_: Any) -> Timeline:
    return timeline("softmax")
