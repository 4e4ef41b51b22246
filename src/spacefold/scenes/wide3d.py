"""``wide-layer``: a network's wide hidden layer, seen honestly in 3-D (default: the 100-unit
layer of the zoo's 2-100-5 spiral network).

First through PCA (3 components, each one's share of the variance on screen), then through a
Grand Tour: a smooth rotation through 3-D projections of the layer,
``F(t) = V · expm(t·A)[:, :3]`` with V the top principal directions and A a fixed
skew-symmetric matrix, so the tour starts exactly at the PCA view and every frame's
projection moves by at most ``‖A‖·dt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.render.frame import Frame, Label3D, Rect, Space3D, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import data_label, layer_inputs, net_label, pick_stage, subject
from spacefold.scenes.planes import spiral_default
from spacefold.scenes.registry import scene
from spacefold.scenes.space3d import SIDE, TOP, lerp_box, lerp_camera, orbit
from spacefold.scenes.story import through
from spacefold.trace import GridSpec, Trace, trace

ARCH = "2-100-5"
RECT: Rect = (0.03, 0.08, 0.94, 0.82)
TOUR_DIMS = 8          # the tour turns within the top-8 principal subspace
TOUR_SPEED = 0.5       # rad/s: the largest angular speed of the rotation
TOUR_SECONDS = 9.0


def skew(m: int, seed: int = 0, speed: float = TOUR_SPEED) -> np.ndarray:
    """A random (m, m) skew-symmetric matrix with spectral norm ``speed``."""
    g = np.random.default_rng(seed).normal(size=(m, m))
    a = (g - g.T) / 2
    return a * (speed / np.linalg.norm(a, 2))


def expm_skew(a: np.ndarray) -> np.ndarray:
    """exp(a) for skew-symmetric ``a``, exactly orthogonal (via the eigendecomposition of the
    Hermitian matrix i·a)."""
    lam, u = np.linalg.eigh(1j * a)                  # i·a = U diag(λ) U*
    return (u @ np.diag(np.exp(-1j * lam)) @ u.conj().T).real


@dataclass
class GrandTour:
    """Projections ``frame(t)`` (d, 3) of a wide layer with centre ``mean`` (d,)."""

    mean: np.ndarray
    basis: np.ndarray         # (d, m) orthonormal: the top-m principal directions
    a: np.ndarray             # (m, m) skew-symmetric
    total_var: float          # total variance of the layer (for "X% of variance shown")

    def frame(self, t: float) -> np.ndarray:
        return self.basis @ expm_skew(t * self.a)[:, :3]

    def project(self, z: np.ndarray, t: float) -> np.ndarray:
        return (z - self.mean) @ self.frame(t)

    def shown(self, z: np.ndarray, t: float) -> float:
        """Fraction of the layer's variance that projection t shows (of points z)."""
        p = self.project(z, t)
        return float((p ** 2).sum(axis=1).mean() / self.total_var)


def grand_tour(values: np.ndarray, first3: np.ndarray, m: int = TOUR_DIMS,
               seed: int = 0) -> GrandTour:
    """A tour of ``values`` (N, d) whose frame at t = 0 is ``first3`` (d, 3) (the PCA)."""
    z = values.astype(np.float64)
    mean = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    m = min(m, z.shape[1])
    basis = vt[:m].T.copy()
    basis[:, :3] = first3                           # same signs as the PCA view
    total = float(((z - mean) ** 2).sum(axis=1).mean())
    return GrandTour(mean, basis, skew(m, seed), total)


def _rms(p: np.ndarray) -> float:
    return float(np.sqrt((p ** 2).sum(axis=1).mean())) or 1.0


def _sphere_box(r: float) -> tuple[float, float, float, float, float, float]:
    return (-r, r, -r, r, -r, r)


@scene("wide-layer", "a network's wide hidden layer in 3-D (default: the 100-unit layer of "
       "2-100-5 on the spiral): a labelled PCA view (explained variance on screen), then a "
       "Grand Tour rotating through its projections", palette_by=("class",))
def wide_layer(model: Any = None, data: Any = None, *, stage: int | None = None,
               color_by: str = "class") -> Timeline:
    m, d, default = subject(model, data, "wide-layer", spiral_default(ARCH), "spiral")
    if default:
        grid: GridSpec | bool = GridSpec(extent=(-1.2, 1.2, -1.2, 1.2), lines=11, verts=60,
                                         regions=0)
    else:
        grid = GridSpec(lines=11, verts=60, regions=0) if d.dim == 2 else False
    tr = trace(m, d, grid=grid, meta={"dataset": data_label(d)})
    return timeline(tr, stage, color_by, data_label(d))


def wide_stage(tr: Trace, stage: int | None) -> int:
    """``stage`` (wider than 3), or the widest layer's output (after its activation)."""
    last = len(tr.stages) - 1
    ends = layer_inputs(tr)
    widest = max((tr.stages[k].dim for k in ends), default=0)
    return pick_stage(tr, stage, "wide-layer", lambda k: tr.stages[k].dim > 3 and k < last,
                      "a hidden stage wider than 3 units",
                      candidates=[k for k in ends if tr.stages[k].dim == widest], last=False)


def timeline(tr: Trace, stage_k: int | None = None, color_by: str = "class",
             data_name: str = "") -> Timeline:
    kr = wide_stage(tr, stage_k)
    stage = tr.stages[kr]
    proj = tr.projection(kr, 3)
    assert proj.components is not None and proj.explained is not None
    colors = tr.colors(color_by)
    # display: each end in units of its own spread (said on screen)
    p0, g0 = tr.display(0, 3), tr.display_grid(0, 3)
    s0 = _rms(p0)
    p1, g1 = tr.display(kr, 3), tr.display_grid(kr, 3)
    s1 = _rms(p1)
    q0, q1 = p0 / s0, p1 / s1
    gq0 = g0 / s0 if g0 is not None else None
    gq1 = g1 / s1 if g1 is not None else None

    def lifted(s: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Input → the wide stage through every stage between (``Trace.display_at``), each
        end in units of its own spread (the unit moves with the points)."""
        pts, grid = through(tr, 0, kr, s, dims=3)
        unit = 1.0 / ((1 - s) / s0 + s / s1)
        return pts / unit, None if grid is None else grid / unit
    tour = grand_tour(stage.values, proj.components)
    zs = stage.values.astype(np.float64)
    zg = stage.grid.astype(np.float64) if stage.grid is not None else None
    r1 = float(np.linalg.norm(zs - tour.mean, axis=1).max()) / s1
    box0, box1 = _sphere_box(float(np.abs(q0).max()) * 1.05), _sphere_box(r1 * 0.8)
    ev = proj.explained
    pcs = [f"PC{i + 1} {100 * float(ev[i]):.0f}%" for i in range(3)]
    pca_text = (f"{' · '.join(pcs)}  →  {100 * float(ev.sum()):.0f}% of the variance of "
                f"{stage.dim}-D shown")
    acc = tr.accuracy()
    bits = [data_name, net_label(tr), f"the {stage.dim}-unit stage {kr}",
            "" if acc is None else f"accuracy {100 * acc:.1f}%"]
    heading = "  ·  ".join(b for b in bits if b)
    d0 = tr.stages[0].dim
    n_dims = tour.basis.shape[1]

    def panel(pts: np.ndarray, grid: np.ndarray | None, box: Any, cam: Any, title: str,
              sub: str, texts: list[Text], labels: list[Label3D]) -> Space3D:
        return Space3D(box=box, camera=cam, points=pts, colors=colors, classes=tr.labels, grid=grid,
                       grid_alpha=0.35, title=title, subtitle=sub, texts=texts,
                       labels=labels, point_size=3.0)

    def pc_labels(box: Any) -> list[Label3D]:
        r = box[1]
        return [Label3D((r, 0.0, 0.0), pcs[0], 12, "#c8c8d0", "left", "center"),
                Label3D((0.0, r, 0.0), pcs[1], 12, "#c8c8d0", "left", "bottom"),
                Label3D((0.0, 0.0, r), pcs[2], 12, "#c8c8d0", "center", "bottom")]

    def f_input(a: float) -> Frame:
        sp = panel(q0, gq0, box0, TOP, "input", tr.projection(0, 3).label or f"{d0}-D", [],
                   [])
        return Frame([(RECT, sp)], heading=heading,
                     caption="the input plane: the data, the grid is the space itself"
                     if d0 == 2 else f"the input: {d0}-D, shown through PCA")

    def f_lift(a: float) -> Frame:
        s = smooth(a)
        pts, grid = lifted(s)
        sp = panel(pts, grid, lerp_box(box0, box1, s), lerp_camera(TOP, SIDE, s),
                   f"input → {stage.name}", f"{d0}-D → {stage.dim}-D · {proj.label}",
                   [Text((0.0, 0.96), pca_text, 13)], pc_labels(box1) if a >= 1 else [])
        return Frame([(RECT, sp)], heading=heading,
                     caption=f"the {stage.dim}-D layer can't be drawn: its 3 principal "
                             f"components can, with the share of the variance they keep")

    def f_orbit(a: float) -> Frame:
        sp = panel(q1, gq1, box1, orbit(SIDE, smooth(a)), f"{stage.name} · PCA",
                   proj.label, [Text((0.0, 0.96), pca_text, 13)], pc_labels(box1))
        return Frame([(RECT, sp)], heading=heading,
                     caption="PCA: the 3 directions of largest spread (each axis labelled "
                             "with its share of the variance)")

    def f_tour(a: float) -> Frame:
        t = a * TOUR_SECONDS
        pts = tour.project(zs, t) / s1
        grid = None if zg is None else tour.project(zg, t) / s1
        shown = tour.shown(zs, t)
        sp = panel(pts, grid, box1, SIDE, f"{stage.name} · Grand Tour",
                   f"a rotating 3-D projection of the top-{n_dims} principal subspace",
                   [Text((0.0, 0.96), f"this projection shows {100 * shown:.0f}% of the "
                                      f"variance of {stage.dim}-D", 13)], [])
        return Frame([(RECT, sp)], heading=heading,
                     caption=f"Grand Tour: the view turns smoothly through other projections "
                             f"of the {stage.dim}-D layer: structure PCA hides comes and goes")

    segs = [Segment("input", 1.0, f_input),
            Segment("input → PCA of the layer", 3.0, f_lift),
            Segment("PCA orbit", 5.0, f_orbit),
            Segment("Grand Tour", TOUR_SECONDS, f_tour)]
    return Timeline("wide-layer", segs, poster_segment=1,
                    meta={"trace": tr, "accuracy": acc, "tour": tour, "projection": proj,
                          "stage": kr, "scale": s1, "caption": pca_text})
