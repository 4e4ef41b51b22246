"""``training``: a network learning, as a movie, epoch by epoch.

By default a 2-100-2-5 ReLU network learns the 5-class spiral: its weights are copied at 40
epochs while it trains (log-spaced: early training, where everything moves, gets most of
them). With ``recording=`` (an ``sf.Recorder`` of the user's own training loop, or the file it
saved) the movie is of *that* training: the user's network, data, epochs and loss.

Each copy is traced like any other network; the movie interpolates between neighbouring
copies: the grid of the input plane bends, the decision regions there update, and the points
carried into the network's 2-unit stage (when it has one) move under that stage's regions.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import palette, theme
from spacefold.errors import SpacefoldError
from spacefold.model.recorder import Recorder
from spacefold.render.frame import Extent, Frame, Image, Line, Plot, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.digits import over_background
from spacefold.scenes.planes import last_linear, panel_view, segments_line
from spacefold.scenes.registry import scene
from spacefold.scenes.story import lerp_extent, regions_image, stage_view
from spacefold.trace import GridSpec, Trace, trace
from spacefold.trace.analysis import boundary_segments, raster
from spacefold.trace.analysis import cross_entropy as cross_entropy
from spacefold.trace.geometry import auto_extent

ARCH = "2-100-2-5"
LEFT: Rect = (0.035, 0.315, 0.44, 0.555)
RIGHT: Rect = (0.525, 0.315, 0.44, 0.555)
ALONE: Rect = (0.28, 0.315, 0.44, 0.555)   # the input plane when there is no 2-unit stage
LOSS: Rect = (0.085, 0.105, 0.83, 0.12)
PLANE: Extent = (-1.5, 1.5, -1.5, 1.5)
GRID = GridSpec(extent=PLANE, lines=11, verts=80, regions=0)
INPUT_ROWS = 140          # raster rows of the input plane's regions (precomputed)
REGION_ROWS = 120         # raster rows of the 2-unit plane's regions (every frame)
SNAPSHOTS_SHOWN = 40      # a recording with more is shown at this many, log-spaced


@dataclass
class Snapshots:
    """Every snapshot's trace and the numbers the movie interpolates, precomputed."""

    epochs: np.ndarray          # (S,) epoch of each snapshot (0 = initial weights)
    traces: list[Trace]
    kb: int | None              # stage index of the 2-unit plane shown on the right, if any
    exact: bool                 # the tail after kb is one Linear: its boundaries are lines
    loss: np.ndarray            # (S,) the loss of each snapshot (shown in the numbers)
    accuracy: np.ndarray        # (S,) measured on each snapshot's trace
    curve_epochs: np.ndarray    # (E,) epochs of the loss curve
    curve_loss: np.ndarray      # (E,) the loss there
    loss_name: str = "loss"     # "loss" (recorded) or "cross-entropy" (computed)

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
    from spacefold.scenes.zoo import spiral_snapshots

    _, data, snaps, hist = spiral_snapshots(ARCH, "relu", seed)
    traces = [trace(net, data, grid=GRID, meta={"arch": ARCH, "dataset": "spiral (5 classes)",
                                                  "epoch": epoch})
              for epoch, net in snaps]
    kb = last_linear(traces[0])[0]
    y = data.y
    loss = np.array([cross_entropy(t.output, y) for t in traces])
    acc = np.array([t.accuracy() for t in traces], dtype=np.float64)
    # history.loss[e] is measured on the weights after e epochs (before epoch e+1's step);
    # the final weights' numbers come from the last snapshot's trace.
    epoch_loss = np.append(np.asarray(hist.loss, dtype=np.float64), loss[-1])
    return Snapshots(np.array([e for e, _ in snaps]), traces, kb, True, loss, acc,
                     np.arange(len(epoch_loss), dtype=np.float64), epoch_loss)


def _loss_of(tr: Trace, labels: np.ndarray, head: str | None) -> float:
    """The cross-entropy of a snapshot: of its logits, or of its probabilities when the
    network ends in softmax / sigmoid."""
    out = tr.output.astype(np.float64)
    if head is None:
        if out.shape[1] == 1:   # one logit: P(class 1) = sigmoid(z)
            out = np.concatenate([np.zeros_like(out), out], axis=1)
        return cross_entropy(out, labels)
    p = np.concatenate([1 - out, out], axis=1) if out.shape[1] == 1 else out
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    return float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-7, None)).mean())


def pick(epochs: np.ndarray, count: int) -> list[int]:
    """Indices of ``count`` snapshots spaced evenly in log(1 + epoch), first and last kept."""
    if len(epochs) <= count:
        return list(range(len(epochs)))
    e = np.log1p(epochs.astype(np.float64) - epochs[0])
    targets = np.linspace(0.0, e[-1], count)
    idx = {int(np.argmin(np.abs(e - t))) for t in targets} | {0, len(epochs) - 1}
    return sorted(idx)


def from_recording(rec: Recorder, count: int = SNAPSHOTS_SHOWN) -> Snapshots:
    """The snapshots of a user's recording, traced on its data and the plane's grid."""
    data = rec.data
    if data is None:
        raise SpacefoldError("scene 'training': the recording has no data; make it with "
                             "sf.Recorder(model, data=...)")
    if len(rec) < 2:
        raise SpacefoldError(f"scene 'training': the recording has {len(rec)} snapshot; a "
                             f"movie needs at least 2 (call snapshot() every epoch or so)")
    if rec.spec.widths[0] != 2:
        raise SpacefoldError(f"scene 'training' shows the input plane; the recorded network "
                             f"{rec.spec.arch} takes {rec.spec.widths[0]}-D input")
    all_epochs = np.asarray(rec.epochs, dtype=np.int64)
    chosen = pick(all_epochs, count)
    grid = GridSpec(extent=auto_extent(data.x.astype(np.float64)), lines=11, verts=80,
                    regions=0)
    meta = {"arch": rec.spec.arch, "dataset": data.name}
    traces = [trace(rec.network(i), data, grid=grid, meta={**meta, "epoch": rec.epochs[i]})
              for i in chosen]
    acc = np.array([t.accuracy() for t in traces], dtype=np.float64)
    computed = np.array([_loss_of(t, data.y, rec.spec.head) for t in traces])
    recorded = [v for v in rec.loss]
    if all(v is not None for v in recorded):
        all_loss = np.array(recorded, dtype=np.float64)
        loss, curve_e, curve_l, name = all_loss[chosen], all_epochs, all_loss, "loss"
    else:
        loss, curve_e, curve_l, name = computed, all_epochs[chosen], computed, "cross-entropy"
    kb, exact = _plane_stage(traces[0])
    return Snapshots(all_epochs[chosen], traces, kb, exact, loss, acc,
                     curve_e.astype(np.float64), curve_l, name)


def _plane_stage(tr: Trace) -> tuple[int | None, bool]:
    """The 2-unit stage the right panel shows: the plane the last Linear reads when it is
    2-D (its boundaries are then exact lines), else the last 2-unit stage a Linear reads
    (its regions computed through the rest of the network), else None."""
    k_last = last_linear(tr)[0]
    if k_last > 0 and tr.stages[k_last].dim == 2:
        return k_last, True
    ks = [k for k in range(1, len(tr.stages) - 1)
          if tr.ops[k].kind == "linear" and tr.stages[k].dim == 2]
    return (ks[-1], False) if ks else (None, False)


def _grid(tr: Trace, k: int) -> np.ndarray:
    """(L, V, 2) the input plane's grid lines at stage k (the traces are made with a grid)."""
    g = tr.stages[k].grid
    assert g is not None
    return g.astype(np.float64)


@functools.lru_cache(maxsize=8)
def _palette(theme_name: str, colours: bytes) -> np.ndarray:
    """regions_image's colours in the look in use (theme and palette: the cache's key),
    made opaque over its background, as a lookup table: one gather per frame instead of
    float maths. (C,) RGBA packed in uint32."""
    n = len(colours) // (3 * 8)
    return np.ascontiguousarray(over_background(regions_image(
        np.arange(n)[None, :], (0, 1, 0, 1), alpha=0.42, dim=0.6)).rgba[0]).view(np.uint32)[:, 0]


def _regions(tr: Trace, scores: np.ndarray, extent: Extent, ny: int, nx: int) -> Image:
    """The decisions of (ny·nx, K) output values → the region image (regions_image's
    colours); argmax, or the threshold of a one-output network."""
    table = _palette(theme().name, np.ascontiguousarray(palette(), dtype=np.float64).tobytes())
    labels = tr.predict(scores) % len(table)
    return Image(table[labels].view(np.uint8).reshape(ny, nx, 4), extent)


def _ticks(e_max: int, x_max: float) -> list[Text]:
    ticks = [e for e in (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000)
             if e <= e_max]
    out = [Text((float(np.log1p(e)) / x_max, -0.06), f"{e}", 10.0, ha="center")
           for e in ticks]
    out.append(Text((0.0, -0.06), "epoch (log)", 10.0, (1, 1, 1, 0.6)))
    return out


def _movie(sn: Snapshots, color_by: str, heading: str, captions: list[str],
           right_title: str) -> list[Segment]:
    """The segments: the initial weights, training in three parts (a third of the
    snapshots each), the trained network; ``captions`` has one for each of the five."""
    tr0, trs, kb = sn.traces[0], sn.traces, sn.kb
    n_snap = len(trs)
    colors = tr0.colors(color_by)
    x = tr0.stages[0].values.astype(np.float64)
    grid_in = tr0.stages[0].grid
    left_rect = LEFT if kb is not None else ALONE

    # Input plane: the network's scores on a raster, per snapshot (interpolated per frame).
    in_shown = panel_view(stage_view(x, margin=0.08), left_rect)
    in_cover = panel_view(stage_view(x, margin=0.08), left_rect, grow=1.02)
    in_nx = round(INPUT_ROWS * (in_cover[1] - in_cover[0]) / (in_cover[3] - in_cover[2]))
    samples = raster(in_cover, in_nx, INPUT_ROWS)
    in_logits = np.stack([t.carry(samples)[-1] for t in trs])        # (S, R, K)

    if kb is not None:   # the 2-unit plane h: the data and the grid there, and its views
        h = np.stack([t.stages[kb].values for t in trs]).astype(np.float64)  # (S, N, 2)
        hg = np.stack([_grid(t, kb) for t in trs])                            # (S, L, V, 2)
        h_views = [stage_view(h[i], margin=0.14) for i in range(n_snap)]
        lasts = [last_linear(t)[1:] for t in trs]                    # (W (K, 2), b (K,))

    e_max = int(sn.epochs[-1])
    x_max = max(float(np.log1p(e_max)), 1e-9)
    y_max = max(float(np.nanmax(sn.curve_loss)), 1e-9) * 1.08
    curve = np.stack([np.log1p(sn.curve_epochs), sn.curve_loss], axis=1)   # (E, 2)
    tick_texts = _ticks(e_max, x_max)

    def frame(u: float, caption: str) -> Frame:
        i, f = sn.position(u)
        epoch = sn.epoch(u)
        # left: the input plane, the data, and the network's regions there
        logits = (1 - f) * in_logits[i] + f * in_logits[i + 1]
        left = Space(view=in_shown, points=x, colors=colors, classes=tr0.labels, grid=grid_in,
                     grid_alpha=0.25,
                     regions=_regions(tr0, logits, in_cover, INPUT_ROWS, in_nx),
                     title="input plane: decision regions", subtitle="2-D", point_size=3.0)
        panels: list[tuple[Rect, Any]] = [(left_rect, left)]
        if kb is not None:
            # right: the data carried into the 2-unit stage, and the regions there
            view = lerp_extent(h_views[i], h_views[i + 1], f)
            shown = panel_view(view, RIGHT)
            cover = panel_view(view, RIGHT, grow=1.02)
            nx = round(REGION_ROWS * (cover[1] - cover[0]) / (cover[3] - cover[2]))
            plane = raster(cover, nx, REGION_ROWS)
            z = ((1 - f) * trs[i].carry(plane, start=kb)[-1]
                 + f * trs[i + 1].carry(plane, start=kb)[-1])                # (R, K)
            edges = []
            if sn.exact:   # the last layer's straight cuts
                w = (1 - f) * lasts[i][0] + f * lasts[i + 1][0]
                b = (1 - f) * lasts[i][1] + f * lasts[i + 1][1]
                cuts = [s for s in boundary_segments(w, b, shown) if s.length > 0]
                if cuts:
                    edges = [segments_line(np.array([s.start for s in cuts]),
                                           np.array([s.end for s in cuts]), (1, 1, 1, 0.75),
                                           1.6)]
            right = Space(view=view, points=(1 - f) * h[i] + f * h[i + 1], colors=colors,
                          classes=tr0.labels,
                          grid=(1 - f) * hg[i] + f * hg[i + 1], grid_alpha=0.3,
                          regions=_regions(tr0, z, cover, REGION_ROWS, nx), lines=edges,
                          title=right_title, subtitle="2-D", point_size=3.0)
            panels.append((RIGHT, right))
        # bottom: the loss curve so far, and the numbers of this epoch
        px = float(np.log1p(epoch))
        # The numbers are the nearest snapshot's: they change once per snapshot (text is
        # drawn from cached bitmaps; a new string every frame would cost ~15 ms).
        near = int(round(u))
        now = float(np.interp(epoch, sn.curve_epochs, sn.curve_loss))
        past = np.concatenate([curve[sn.curve_epochs <= epoch], [[px, now]]])
        plot = Plot(view=(0.0, x_max, 0.0, y_max),
                    lines=[Line(curve, (1, 1, 1, 0.18), 1.5), Line(past, "#ffd166", 2.2),
                           Line(np.array([[px, 0.0], [px, y_max]]), (1, 1, 1, 0.5), 1.2, "--")],
                    texts=tick_texts,
                    title=(f"epoch {sn.epochs[near]}   ·   {sn.loss_name} {sn.loss[near]:.3f}"
                           f"   ·   accuracy {100 * sn.accuracy[near]:.1f}%"))
        panels.append((LOSS, plot))
        return Frame(panels, heading=heading, caption=caption)

    cuts = [0, n_snap // 3, 2 * n_snap // 3, n_snap - 1]
    per_snapshot = 0.25                          # seconds per snapshot interval

    def run(u0: int, u1: int, caption: str) -> Segment:
        e0, e1 = int(sn.epochs[u0]), int(sn.epochs[u1])
        return Segment(f"epochs {e0}-{e1}", per_snapshot * max(u1 - u0, 1),
                       lambda a: frame(u0 + (u1 - u0) * a, caption))

    return [Segment("initial weights", 1.2, lambda a: frame(0.0, captions[0])),
            run(cuts[0], cuts[1], captions[1]),
            run(cuts[1], cuts[2], captions[2]),
            run(cuts[2], cuts[3], captions[3]),
            Segment("trained", 1.2, lambda a: frame(n_snap - 1.0, captions[4]), key=False)]


def _recording_captions(sn: Snapshots) -> list[str]:
    """What each segment shows, measured on the user's snapshots."""
    n = len(sn.epochs)
    cuts = [0, n // 3, 2 * n // 3, n - 1]

    def span(a: int, b: int) -> str:
        return (f"epochs {sn.epochs[a]}-{sn.epochs[b]}: {sn.loss_name} {sn.loss[a]:.3f} → "
                f"{sn.loss[b]:.3f}, accuracy {100 * sn.accuracy[a]:.1f}% → "
                f"{100 * sn.accuracy[b]:.1f}%")

    return [f"epoch {sn.epochs[0]}, the first snapshot: {100 * sn.accuracy[0]:.1f}% of the "
            f"points are classified correctly",
            span(cuts[0], cuts[1]), span(cuts[1], cuts[2]), span(cuts[2], cuts[3]),
            f"after {sn.epochs[-1]} epochs: {100 * sn.accuracy[-1]:.1f}% of the points are "
            f"classified correctly"]


@scene("training", "a network learning, epoch by epoch: the input plane's decision regions "
       "and its 2-unit stage evolving, with loss and accuracy; --recording FILE for your own "
       "training (sf.Recorder), else a 2-100-2-5 network on the spiral")
def training(*, recording: Recorder | str | os.PathLike[str] | None = None,
             color_by: str = "class", seed: int | None = None,
             snapshots_shown: int = SNAPSHOTS_SHOWN) -> Timeline:
    """The default zoo training (``seed`` seeds it), or the user's ``recording`` (an
    ``sf.Recorder`` or the file it saved), shown at ``snapshots_shown`` snapshots at most."""
    if recording is None:
        sn = snapshots(0 if seed is None else seed)
        heading = f"training a {ARCH} ReLU network on the 5-class spiral, epoch by epoch"
        captions = [
            "random initial weights: the 2-unit ReLU layer crushes the spiral into a thin "
            "fold; the regions mean nothing yet",
            "first epochs: the loss falls fast as the points spread out in the bottleneck "
            "plane",
            "the arms come apart into rays, and the last layer's straight cuts turn to "
            "separate them",
            "fine-tuning: the input-plane regions wrap around the spiral arms",
            f"after {int(sn.epochs[-1])} epochs: {100 * sn.accuracy[-1]:.1f}% of the points "
            f"are classified correctly"]
        segs = _movie(sn, color_by, heading, captions,
                      f"bottleneck plane h  ({sn.traces[0].stages[sn.kb or 0].name})")
        caption = (f"A {ARCH} ReLU network learning the 5-class spiral: {len(sn.epochs)} "
                   f"snapshots of its weights from random to trained ({int(sn.epochs[-1])} "
                   f"epochs), interpolated. Right: the data carried into the 2-unit layer, cut "
                   f"by the last layer's straight lines; left: the decision regions those cuts "
                   f"make in the input plane.")
        meta = {"trace": sn.traces[-1], "accuracy": float(sn.accuracy[-1]),
                "caption": caption, "snapshots": sn}
        return Timeline("training", segs, meta=meta, poster_segment=len(segs) - 1)

    if seed is not None:
        raise SpacefoldError("scene 'training': seed= seeds the default training; a recording "
                             "has its own")
    if not isinstance(snapshots_shown, int) or not 2 <= snapshots_shown <= 400:
        raise SpacefoldError(f"scene 'training': snapshots_shown={snapshots_shown!r} must be "
                             f"an integer in 2-400")
    rec = recording if isinstance(recording, Recorder) else Recorder.load(recording)
    sn = from_recording(rec, snapshots_shown)
    data = rec.data
    assert data is not None
    who = f"your {rec.module_name} " if rec.module_name not in ("", "Sequential") else ""
    heading = (f"training {who}{rec.describe()} ({data.classes} classes), epoch by epoch")
    if sn.kb is None:
        right_title = ""
        where = "it has no 2-unit stage, so the input plane is shown alone"
    else:
        st = sn.traces[0].stages[sn.kb]
        right_title = f"2-unit stage h  ({st.name})"
        where = ("right: the data carried into its 2-unit stage, cut by the last layer's "
                 "straight lines" if sn.exact else
                 "right: the data carried into its 2-unit stage, with the regions the rest "
                 "of the network computes there")
    segs = _movie(sn, color_by, heading, _recording_captions(sn), right_title)
    curve = "recorded loss" if sn.loss_name == "loss" else "cross-entropy of each snapshot"
    caption = (f"{rec.describe()}: {len(sn.epochs)} of the {len(rec)} recorded snapshots "
               f"(epochs {sn.epochs[0]}-{sn.epochs[-1]}), interpolated. Left: the decision "
               f"regions in the input plane; {where}. The curve is the {curve}.")
    meta = {"trace": sn.traces[-1], "accuracy": float(sn.accuracy[-1]), "caption": caption,
            "snapshots": sn, "recording": rec}
    return Timeline("training", segs, meta=meta, poster_segment=len(segs) - 1)
