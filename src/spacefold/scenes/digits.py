"""``digits`` (MISSION.md scene 10): real handwritten digits through a 2-unit bottleneck.

The 64-D images (8x8 pixels) are carried by a trained 64-128-64-2-10 network into a plane;
there the ten digits form clusters, the last layer's ten scores carve the plane into regions
whose edges are straight (computed from its weights), and a sample of held-out digits is drawn
as images at the places the network put them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import BACKGROUND, CLASS_COLORS, position_colors
from spacefold.render.frame import Extent, Frame, Image, Line, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.registry import scene
from spacefold.scenes.spiral import boundary_segments, last_linear, panel_view
from spacefold.scenes.story import lerp_extent, regions_image, stage_view
from spacefold.trace import Trace, trace

# One wide space panel. (No network diagram here: with 64- and 128-unit layers it costs more
# per frame than everything else, and the heading names the architecture.)
PANEL: Rect = (0.03, 0.085, 0.94, 0.8)
THUMBS_PER_CLASS = 4
THUMB_SIZE = 0.075        # thumbnail side, as a fraction of the shown panel's height
INPUT_THUMBS = 10         # one per class on the input view


# -- the numbers behind the pictures ------------------------------------------------------------

def plane_raster(extent: Extent, nx: int, ny: int) -> np.ndarray:
    """(ny·nx, 2) pixel centres of an nx×ny raster over ``extent``; row 0 is ymin."""
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / nx / 2, (y1 - y0) / ny / 2
    gx, gy = np.meshgrid(np.linspace(x0 + hx, x1 - hx, nx), np.linspace(y0 + hy, y1 - hy, ny))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def plane_regions(tr: Trace, k: int, extent: Extent, nx: int, ny: int) -> np.ndarray:
    """(ny, nx) class per pixel of stage ``k``'s plane: the rest of the network (stages
    k+1 … last) carried over a raster of ``extent``, then argmax."""
    out = tr.carry(plane_raster(extent, nx, ny), start=k)[-1]      # (ny·nx, classes)
    return tr.predict(out).reshape(ny, nx)


def segments_line(starts: np.ndarray, ends: np.ndarray, color: tuple[float, ...],
                  width: float) -> Line:
    """Straight segments (M, 2) → (M, 2) as one polyline broken by NaN rows: one artist to
    draw instead of M (each Matplotlib line costs ~0.5 ms per frame)."""
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    xy = np.full((3 * len(starts), 2), np.nan)
    xy[0::3], xy[1::3] = starts, ends
    return Line(xy, color, width)


def thumbnail_rgba(image: np.ndarray, color: np.ndarray, border: int = 1) -> np.ndarray:
    """A digit image (h, w) in [0, 1] (row 0 = top) → RGBA (h+2b, w+2b, 4) uint8 with row 0
    at the bottom (the frame's convention): white ink on near-black, framed in ``color``."""
    h, w = image.shape
    out = np.empty((h + 2 * border, w + 2 * border, 4), dtype=np.float64)
    out[..., :3] = color[:3]
    out[..., 3] = 1.0
    ink = np.clip(image[::-1], 0.0, 1.0)[..., None]                   # (h, w, 1), bottom up
    out[border:border + h, border:border + w, :3] = 0.07 + 0.93 * ink
    return (out * 255).round().astype(np.uint8)


def spread_sample(pos: np.ndarray, labels: np.ndarray, candidates: np.ndarray, per_class: int,
                  gap: float, seed: int = 0) -> np.ndarray:
    """Up to ``per_class`` indices of each class from ``candidates``, greedily chosen (in a
    seeded random order, classes taking turns) so no two are closer than ``gap`` in both x and
    y of ``pos`` (N, 2): thumbnails of side < gap never overlap."""
    rng = np.random.default_rng(seed)
    by_class = [rng.permutation(candidates[labels[candidates] == c])
                for c in range(int(labels.max()) + 1)]
    chosen: list[int] = []
    for rnd in range(per_class):
        for c, pool in enumerate(by_class):
            if sum(labels[i] == c for i in chosen) > rnd:
                continue
            for i in pool:
                if i in chosen:
                    continue
                if all(np.abs(pos[i] - pos[j]).max() >= gap for j in chosen):
                    chosen.append(int(i))
                    break
    return np.array(chosen, dtype=np.int64)


@dataclass
class Thumbs:
    """Digit images at data positions, each popping in (growing, fading) in turn."""

    rgba: list[np.ndarray]
    pos: np.ndarray           # (T, 2) centres in data units
    size: float               # side in data units

    def at(self, a: float, pos: np.ndarray | None = None, stagger: float = 0.6) -> list[Image]:
        """Thumbnails at progress ``a`` (0: none, 1: all full size), optionally moved."""
        pos = self.pos if pos is None else pos
        out = []
        n = len(self.rgba)
        for i, (img, (x, y)) in enumerate(zip(self.rgba, pos, strict=True)):
            start = stagger * i / max(n - 1, 1)
            e = smooth((a - start) / max(1.0 - stagger, 1e-6))
            if e <= 0.0:
                continue
            h = self.size * (0.35 + 0.65 * e) / 2
            rgba = img if e >= 1.0 else _faded(img, e)
            out.append(Image(rgba, (float(x - h), float(x + h), float(y - h), float(y + h))))
        return out


def _faded(rgba: np.ndarray, a: float) -> np.ndarray:
    out = rgba.copy()
    out[..., 3] = (out[..., 3] * a).astype(np.uint8)
    return out


def _faded_image(im: Image, a: float) -> Image:
    return Image(_faded(im.rgba, a), im.extent)


def over_background(im: Image, fade: float = 1.0) -> Image:
    """A translucent image (faded by ``fade``) composited over the frame's background colour
    into an opaque one: the same pixels where nothing is under it (regions are drawn first),
    and Agg stamps opaque pixels about twice as fast as it blends translucent ones."""
    bg = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
    a = im.rgba[..., 3:].astype(np.float64) / 255.0 * fade              # (H, W, 1)
    out = np.empty_like(im.rgba)
    out[..., :3] = np.round(bg + (im.rgba[..., :3] - bg) * a).astype(np.uint8)
    out[..., 3] = 255
    return Image(out, im.extent)


# -- the scene ------------------------------------------------------------------------------------

@dataclass
class _Step:
    """One move of the story: from stage ``src`` to ``dst`` of the trace (display coords)."""

    name: str
    src: int
    dst: int
    seconds: float
    title: str
    caption: str


@scene("digits", "real handwritten digits 0-9 (8x8, or MNIST with --mnist DIR) through a "
       "64-128-64-2-10 network: the 2-unit bottleneck plane, its regions and digit images")
def digits(color_by: str = "class", mnist: str | None = None, seed: int = 0,
           **opts: Any) -> Timeline:
    from spacefold.scenes.zoo import digits_net

    model, train_set, test_set, _ = digits_net(mnist=str(mnist) if mnist else None, seed=seed)
    x = np.concatenate([train_set.x, test_set.x])
    y = np.concatenate([train_set.y, test_set.y])
    images = np.concatenate([train_set.images, test_set.images])      # (N, h, w)
    held_out = np.arange(len(train_set), len(x))                        # rows of the test set
    h_px, w_px = images.shape[1:]
    source = f"MNIST digits {h_px}×{w_px}" if mnist else f"handwritten {h_px}×{w_px} digits"
    tr = trace(model, x, labels=y, grid=False, meta={"dataset": "mnist" if mnist else "digits"})
    arch = tr.meta["arch"]                           # "64-128-64-2-10"
    pred = tr.predict()
    train_acc = float((pred[:len(train_set)] == y[:len(train_set)]).mean())
    test_acc = float((pred[held_out] == y[held_out]).mean())

    kb, w_last, b_last = last_linear(tr)             # stage kb: the plane the last layer sees
    assert tr.stages[kb].dim == 2, "the digits network has a 2-unit bottleneck"
    acts = [s.index for s in tr.stages[1:kb] if s.kind not in ("linear", "bias")]
    path = [0] + acts + [kb]                         # input, each hidden layer's output, plane
    disp = {k: tr.display(k) for k in path}          # (N, 2) display coordinates
    views = {k: stage_view(disp[k], margin=0.10) for k in path}
    colors = (position_colors(disp[0]) if color_by == "position" else tr.colors(color_by))

    # The bottleneck plane: regions of the last layer over what the panel shows, and the
    # straight pieces of boundary where its top two scores tie (from its weights).
    shown = panel_view(views[kb], PANEL)
    cover = panel_view(views[kb], PANEL, grow=1.04)
    ny = 240
    nx = round(ny * (cover[1] - cover[0]) / (cover[3] - cover[2]))
    region_labels = plane_regions(tr, kb, cover, nx, ny)
    translucent = regions_image(region_labels, cover, alpha=0.38, dim=0.5)
    regions = over_background(translucent)
    bounds = [s for s in boundary_segments(w_last, b_last, shown) if s.length > 1e-9]
    starts = np.array([s.start for s in bounds]).reshape(-1, 2)       # (M, 2)
    ends = np.array([s.end for s in bounds]).reshape(-1, 2)

    # Digit images: held-out digits spread over the plane; one per class on the input view.
    side = THUMB_SIZE * (shown[3] - shown[2])
    border = 1 if h_px <= 8 else 2
    pick = spread_sample(disp[kb], y, held_out, THUMBS_PER_CLASS, side * 1.08, seed)
    thumbs = Thumbs([thumbnail_rgba(images[i], CLASS_COLORS[y[i]], border) for i in pick],
                    disp[kb][pick], side)
    in_shown = panel_view(views[0], PANEL)
    in_side = THUMB_SIZE * (in_shown[3] - in_shown[2])
    pick0 = spread_sample(disp[0], y, held_out, 1, in_side * 1.08, seed + 1)[:INPUT_THUMBS]
    thumbs0 = Thumbs([thumbnail_rgba(images[i], CLASS_COLORS[y[i]], border) for i in pick0],
                     disp[0][pick0], in_side)

    d0 = tr.stages[0].dim
    legend = [Text((0.012 + 0.032 * c, 0.985), str(c), 15.0, tuple(CLASS_COLORS[c]))
              for c in range(10)]
    acc_text = Text((0.012, 0.02), f"held-out accuracy {100 * test_acc:.1f}%  "
                    f"({len(held_out)} digits never seen in training)", 13.0, va="bottom")
    heading = f"{source}  ·  {arch} ReLU  ·  held-out accuracy {100 * test_acc:.1f}%"
    hidden = [f"layer {tr.stages[k].layer} · {tr.stages[k].short}  ({tr.stages[k].dim}-D)"
              for k in acts]
    steps = [_Step(f"layer {tr.stages[k].layer}", path[i], k, 1.8, hidden[i],
                   f"layer {tr.stages[k].layer} (W·x + b, then ReLU) carries every digit "
                   f"into {tr.stages[k].dim}-D: the classes start to pull apart")
             for i, k in enumerate(acts)]
    steps.append(_Step("bottleneck", acts[-1] if acts else 0, kb, 2.2,
                       f"layer {tr.stages[kb].layer} · W·x + b: the 2-unit bottleneck",
                       f"layer {tr.stages[kb].layer} squeezes {tr.stages[acts[-1]].dim}-D "
                       f"into a plane: every digit becomes a point (h₁, h₂)"))

    def space(k_from: int, k_to: int, a: float) -> Space:
        s = smooth(a)
        pts = (1 - s) * disp[k_from] + s * disp[k_to]
        view = lerp_extent(views[k_from], views[k_to], s)
        p_to = tr.projection(k_to)
        if k_from == k_to:
            sub = p_to.label or f"{tr.stages[k_to].dim}-D: the true coordinates"
        else:
            sub = f"{tr.stages[k_from].dim}-D → {tr.stages[k_to].dim}-D" + (
                f" · {p_to.label}" if p_to.label else "")
        return Space(view=view, points=pts, colors=colors, texts=list(legend), subtitle=sub,
                     point_size=3.0, axes=True)

    def frame(sp: Space, caption: str) -> Frame:
        return Frame([(PANEL, sp)], heading=heading, caption=caption)

    def input_frame(a: float) -> Frame:
        sp = space(0, 0, 1.0)
        sp.title = f"input: each {h_px}×{w_px} image is a point in {d0}-D"
        sp.thumbnails = thumbs0.at(min(1.0, 1.6 * a), stagger=0.5)
        return frame(sp, f"{len(x)} handwritten digits; each {h_px}×{w_px} image "
                     f"is a point in {d0}-D space, shown through PCA")

    def step_frame(st: _Step, first: bool) -> Any:
        def at(a: float) -> Frame:
            sp = space(st.src, st.dst, a)
            sp.title = st.title
            if first:         # the input's thumbnails ride along, fading out
                s = smooth(a)
                fade = 1.0 - smooth(a / 0.4)
                if fade > 0:
                    pos = (1 - s) * disp[st.src][pick0] + s * disp[st.dst][pick0]
                    sp.thumbnails = [_faded_image(im, fade) for im in thumbs0.at(1.0, pos)]
            return frame(sp, st.caption)
        return at

    plane_title = f"the bottleneck plane  (layer {tr.stages[kb].layer} · +b, 2-D)"

    def plane(a_regions: float, a_lines: float, a_thumbs: float, caption: str) -> Frame:
        sp = space(kb, kb, 1.0)
        sp.title = plane_title
        if a_regions > 0:
            sp.regions = regions if a_regions >= 1 else over_background(translucent, a_regions)
        grow = smooth(a_lines)
        if grow > 0 and bounds:
            mid, half = (starts + ends) / 2, (ends - starts) / 2 * grow
            sp.lines.append(segments_line(mid - half, mid + half, (1, 1, 1, 0.8), 1.6))
        sp.thumbnails = thumbs.at(a_thumbs)
        if a_thumbs > 0:
            sp.texts.append(acc_text)
        return frame(sp, caption)

    segs = [Segment("input", 1.8, input_frame)]
    segs += [Segment(st.name, st.seconds, step_frame(st, i == 0)) for i, st in enumerate(steps)]
    segs.append(Segment("regions", 2.0, lambda a: plane(
        smooth(a), (a - 0.3) / 0.7, 0.0,
        f"the last layer scores 10 digits, wₖ·h + bₖ; the highest wins: {len(bounds)} straight "
        f"edges cut the plane into regions")))
    segs.append(Segment("digit images", 3.2, lambda a: plane(
        1.0, 1.0, min(1.0, a / 0.7),
        "held-out digits drawn where the network put them: similar shapes land together")))
    caption = (f"{len(x)} real {source} pass through a {arch} network "
               f"whose 2-unit layer is a plane: the ten digits form clusters there, the last "
               f"layer cuts the plane with straight edges, and {100 * test_acc:.1f}% of "
               f"{len(held_out)} held-out digits land in their own region.")
    meta = {"trace": tr, "accuracy": train_acc, "test_accuracy": test_acc, "caption": caption,
            "bottleneck_stage": kb, "regions_extent": cover, "regions_labels": region_labels,
            "thumbnails": pick, "boundaries": bounds}
    return Timeline("digits", segs, meta=meta, poster_segment=len(segs) - 1)
