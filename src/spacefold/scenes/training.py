"""``training``: a 2-100-2-5 network learning the spiral, as a movie, epoch by epoch.

The weights are copied at 33 epochs while the network trains (log-spaced: early training,
where everything moves, gets most of them). Each copy is traced like any other network; the
movie interpolates between neighbouring copies: the points carried into the 2-unit layer move,
the grid of the input plane bends, and both panels' decision regions update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import CLASS_COLORS
from spacefold.render.frame import Extent, Frame, Image, Line, Plot, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.digits import over_background, plane_raster, segments_line
from spacefold.scenes.registry import scene
from spacefold.scenes.spiral import boundary_segments, last_linear, panel_view
from spacefold.scenes.story import lerp_extent, regions_image, stage_view
from spacefold.trace import GridSpec, Trace, trace

ARCH = "2-100-2-5"
LEFT: Rect = (0.035, 0.315, 0.44, 0.555)
RIGHT: Rect = (0.525, 0.315, 0.44, 0.555)
LOSS: Rect = (0.085, 0.105, 0.83, 0.12)
PLANE: Extent = (-1.5, 1.5, -1.5, 1.5)
GRID = GridSpec(extent=PLANE, lines=11, verts=80, regions=0)
INPUT_ROWS = 140          # raster rows of the input plane's regions (precomputed)
REGION_ROWS = 120         # raster rows of the bottleneck plane's regions (every frame)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of (N, K) logits against (N,) labels (what training minimises)."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


@dataclass
class Snapshots:
    """Every snapshot's trace and the numbers the movie interpolates, precomputed."""

    epochs: np.ndarray          # (S,) epoch of each snapshot (0 = initial weights)
    traces: list[Trace]
    kb: int                     # stage index of the 2-D plane the last layer sees
    loss: np.ndarray            # (S,) cross-entropy of each snapshot on the data
    accuracy: np.ndarray        # (S,)
    epoch_loss: np.ndarray      # (E+1,) loss of the weights after e epochs, e = 0..E
    epoch_accuracy: np.ndarray  # (E+1,)

    def position(self, u: float) -> tuple[int, float]:
        """Snapshot index i and fraction f in [0, 1] of a time u in [0, S-1]."""
        u = min(max(u, 0.0), len(self.epochs) - 1.0)
        i = min(int(u), len(self.epochs) - 2)
        return i, u - i

    def epoch(self, u: float) -> float:
        """The epoch at time u, interpolated in log(1 + epoch) like the snapshot spacing."""
        i, f = self.position(u)
        a, b = np.log1p(self.epochs[i]), np.log1p(self.epochs[i + 1])
        return float(np.expm1((1 - f) * a + f * b))


def snapshots(seed: int = 0) -> Snapshots:
    """Train (cached in the zoo) and trace every snapshot on the spiral and the plane's grid."""
    from spacefold.model.spec import build
    from spacefold.scenes.zoo import spiral_snapshots

    _, data, snaps, hist = spiral_snapshots(ARCH, "relu", seed)
    model = build(ARCH, "relu", seed=seed)
    traces = []
    for epoch, state in snaps:
        model.load_state_dict(state)
        traces.append(trace(model.eval(), data, grid=GRID,
                            meta={"arch": ARCH, "dataset": "spiral (5 classes)",
                                  "epoch": epoch}))
    kb = last_linear(traces[0])[0]
    y = data.y
    loss = np.array([cross_entropy(t.output, y) for t in traces])
    acc = np.array([t.accuracy() for t in traces], dtype=np.float64)
    # history.loss[e] is measured on the weights after e epochs (before epoch e+1's step);
    # the final weights' numbers come from the last snapshot's trace.
    epoch_loss = np.append(np.asarray(hist.loss, dtype=np.float64), loss[-1])
    epoch_acc = np.append(np.asarray(hist.accuracy, dtype=np.float64), acc[-1])
    return Snapshots(np.array([e for e, _ in snaps]), traces, kb, loss, acc, epoch_loss,
                     epoch_acc)


def _grid(tr: Trace, k: int) -> np.ndarray:
    """(L, V, 2) the input plane's grid lines at stage k (the traces are made with a grid)."""
    g = tr.stages[k].grid
    assert g is not None
    return g.astype(np.float64)


# regions_image's colours, made opaque over the background, as a lookup table: one gather
# per frame instead of float maths
_PALETTE = np.ascontiguousarray(over_background(regions_image(
    np.arange(len(CLASS_COLORS))[None, :], (0, 1, 0, 1), alpha=0.42, dim=0.6)).rgba[0]
).view(np.uint32)[:, 0]                                         # (C,) RGBA packed in uint32


def _regions(logits: np.ndarray, extent: Extent, ny: int, nx: int) -> Image:
    """argmax of (ny·nx, K) scores → the region image (same colours as regions_image)."""
    labels = logits.argmax(axis=1) % len(_PALETTE)
    return Image(_PALETTE[labels].view(np.uint8).reshape(ny, nx, 4), extent)


@scene("training", "a 2-100-2-5 network learning the spiral, epoch by epoch: the bottleneck "
       "plane and the input plane's decision regions evolving, with loss and accuracy")
def training(color_by: str = "class", seed: int = 0, **opts: Any) -> Timeline:
    sn = snapshots(seed)
    tr0, trs, kb = sn.traces[0], sn.traces, sn.kb
    n_snap = len(trs)
    colors = tr0.colors(color_by)
    x = tr0.stages[0].values.astype(np.float64)
    grid_in = tr0.stages[0].grid

    # Input plane: the network's scores on a raster, per snapshot (interpolated per frame).
    in_shown = panel_view(stage_view(x, margin=0.08), LEFT)
    in_cover = panel_view(stage_view(x, margin=0.08), LEFT, grow=1.02)
    in_nx = round(INPUT_ROWS * (in_cover[1] - in_cover[0]) / (in_cover[3] - in_cover[2]))
    samples = plane_raster(in_cover, in_nx, INPUT_ROWS)
    in_logits = np.stack([t.carry(samples)[-1] for t in trs])        # (S, R, K)

    # The bottleneck plane h: the data and the grid there, per snapshot, and its views.
    h = np.stack([t.stages[kb].values for t in trs]).astype(np.float64)  # (S, N, 2)
    hg = np.stack([_grid(t, kb) for t in trs])                            # (S, L, V, 2)
    h_views = [stage_view(h[i], margin=0.14) for i in range(n_snap)]
    lasts = [last_linear(t)[1:] for t in trs]                            # (W (K, 2), b (K,))

    e_max = int(sn.epochs[-1])
    x_max = float(np.log1p(e_max))
    y_max = float(sn.epoch_loss.max()) * 1.08
    ex = np.log1p(np.arange(e_max + 1))
    curve = np.stack([ex, sn.epoch_loss], axis=1)                        # (E+1, 2)
    ticks = [e for e in (1, 3, 10, 30, 100, 300, 1000, 3000) if e <= e_max]
    tick_texts = [Text((float(np.log1p(e)) / x_max, -0.06), f"{e}", 10.0, ha="center")
                  for e in ticks]
    tick_texts.append(Text((0.0, -0.06), "epoch (log)", 10.0, (1, 1, 1, 0.6)))
    heading = f"training a {ARCH} ReLU network on the 5-class spiral, epoch by epoch"

    def frame(u: float, caption: str) -> Frame:
        i, f = sn.position(u)
        epoch = sn.epoch(u)
        # left: the input plane, the data, and the network's regions there
        logits = (1 - f) * in_logits[i] + f * in_logits[i + 1]
        left = Space(view=in_shown, points=x, colors=colors, grid=grid_in, grid_alpha=0.25,
                     regions=_regions(logits, in_cover, INPUT_ROWS, in_nx),
                     title="input plane: decision regions", subtitle="2-D", point_size=3.0)
        # right: the data carried into the 2-unit layer; the last layer's regions and edges
        view = lerp_extent(h_views[i], h_views[i + 1], f)
        shown = panel_view(view, RIGHT)
        cover = panel_view(view, RIGHT, grow=1.02)
        nx = round(REGION_ROWS * (cover[1] - cover[0]) / (cover[3] - cover[2]))
        plane = plane_raster(cover, nx, REGION_ROWS)
        z = ((1 - f) * trs[i].carry(plane, start=kb)[-1]
             + f * trs[i + 1].carry(plane, start=kb)[-1])                # (R, K)
        w = (1 - f) * lasts[i][0] + f * lasts[i + 1][0]
        b = (1 - f) * lasts[i][1] + f * lasts[i + 1][1]
        cuts = [s for s in boundary_segments(w, b, shown) if s.length > 0]
        edges = [segments_line(np.array([s.start for s in cuts]),
                               np.array([s.end for s in cuts]), (1, 1, 1, 0.75), 1.6)
                 ] if cuts else []
        right = Space(view=view, points=(1 - f) * h[i] + f * h[i + 1], colors=colors,
                      grid=(1 - f) * hg[i] + f * hg[i + 1], grid_alpha=0.3,
                      regions=_regions(z, cover, REGION_ROWS, nx), lines=edges,
                      title=f"bottleneck plane h  ({tr0.stages[kb].name})", subtitle="2-D",
                      point_size=3.0)
        # bottom: the loss curve so far, and the numbers of this epoch
        px = float(np.log1p(epoch))
        # The numbers are the nearest snapshot's, measured on its trace: they change 33 times
        # (text is drawn from cached bitmaps; a new string every frame would cost ~15 ms).
        near = int(round(u))
        now = float(np.interp(epoch, np.arange(e_max + 1), sn.epoch_loss))
        past = np.concatenate([curve[:int(epoch) + 1], [[px, now]]])
        plot = Plot(view=(0.0, x_max, 0.0, y_max), lines=[
            Line(curve, (1, 1, 1, 0.18), 1.5),
            Line(past, "#ffd166", 2.2),
            Line(np.array([[px, 0.0], [px, y_max]]), (1, 1, 1, 0.5), 1.2, "--")],
            texts=tick_texts,
            title=(f"epoch {sn.epochs[near]}   ·   loss {sn.loss[near]:.3f}   ·   "
                   f"accuracy {100 * sn.accuracy[near]:.1f}%"))
        return Frame([(LEFT, left), (RIGHT, right), (LOSS, plot)], heading=heading,
                     caption=caption)

    # Segments: the initial weights, training in three parts (a third of the snapshots
    # each), the trained network.
    cuts = [0, n_snap // 3, 2 * n_snap // 3, n_snap - 1]
    per_snapshot = 0.25                          # seconds per snapshot interval

    def run(u0: int, u1: int, caption: str) -> Segment:
        e0, e1 = int(sn.epochs[u0]), int(sn.epochs[u1])
        return Segment(f"epochs {e0}-{e1}", per_snapshot * (u1 - u0),
                       lambda a: frame(u0 + (u1 - u0) * a, caption))

    segs = [Segment("initial weights", 1.2, lambda a: frame(0.0, (
        "random initial weights: the 2-unit ReLU layer crushes the spiral into a thin fold; "
        "the regions mean nothing yet"))),
        run(cuts[0], cuts[1], "first epochs: the loss falls fast as the points spread out "
            "in the bottleneck plane"),
        run(cuts[1], cuts[2], "the arms come apart into rays, and the last layer's straight "
            "cuts turn to separate them"),
        run(cuts[2], cuts[3], "fine-tuning: the input-plane regions wrap around the spiral "
            "arms"),
        Segment("trained", 1.2, lambda a: frame(n_snap - 1.0, (
            f"after {e_max} epochs: {100 * sn.accuracy[-1]:.1f}% of the points are classified "
            f"correctly")), key=False)]
    caption = (f"A {ARCH} ReLU network learning the 5-class spiral: {n_snap} snapshots of "
               f"its weights from random to trained ({e_max} epochs), interpolated. Right: "
               f"the data carried into the 2-unit layer, cut by the last layer's straight "
               f"lines; left: the decision regions those cuts make in the input plane.")
    meta = {"trace": trs[-1], "accuracy": float(sn.accuracy[-1]), "caption": caption,
            "snapshots": sn}
    return Timeline("training", segs, meta=meta, poster_segment=len(segs) - 1)
