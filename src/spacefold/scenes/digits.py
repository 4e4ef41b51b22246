"""``digits`` (MISSION.md scene 10): real handwritten digits through a 2-unit stage.

The images are carried by a network (default: the zoo's 64-128-64-2-10 on the bundled 8x8
digits; any digits network with a 2-unit hidden stage) into a plane; there the digits form
clusters, the rest of the network carves the plane into regions whose edges are straight and
computed from its weights when that rest is affine (else contours of the computed regions),
and a sample of digits is drawn as images at the places the network put them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spacefold.colors import CLASS_COLORS, color_of, position_colors, theme
from spacefold.data.datasets import Dataset, dataset
from spacefold.render.frame import Frame, Image, Rect, Space, Text
from spacefold.render.timeline import Segment, Timeline, smooth
from spacefold.scenes.inputs import (
    SceneError,
    layer_inputs,
    net_label,
    pick_stage,
    resolve_data,
    resolve_model,
)
from spacefold.scenes.piece_edges import PieceEdges
from spacefold.scenes.planes import panel_view, segments_line
from spacefold.scenes.regionmaps import ExactRegions
from spacefold.scenes.registry import scene
from spacefold.scenes.story import lerp_extent, stage_view, through
from spacefold.trace import trace
from spacefold.trace.analysis import (
    Boundary,
    affine_tail,
    boundary_segments,
    decision_affine,
    region_contours,
)

__all__ = ["Thumbs", "digits", "images_of", "over_background", "segments_line",
           "spread_sample", "thumbnail_rgba"]

# One wide space panel. (No network diagram here: with 64- and 128-unit layers it costs more
# per frame than everything else, and the heading names the architecture.)
PANEL: Rect = (0.03, 0.085, 0.94, 0.8)
THUMBS_PER_CLASS = 4
THUMB_SIZE = 0.075        # thumbnail side, as a fraction of the shown panel's height
INPUT_THUMBS = 10         # one per class on the input view


# -- the numbers behind the pictures ------------------------------------------------------------

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
    bg = np.round(np.array(color_of(theme().background)[:3]) * 255)    # the theme in use
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


def images_of(d: Dataset, scene: str = "digits") -> np.ndarray:
    """(N, h, w) images in [0, 1]: the dataset's own, or its rows as square images."""
    if d.images is not None:
        return np.asarray(d.images, dtype=np.float64)
    side = int(round(np.sqrt(d.dim)))
    if side * side != d.dim:
        raise SceneError(f"{scene} draws each input as an image: {d.dim}-D inputs are not "
                         f"square images (give a Dataset with images)")
    x = d.x.astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    return ((x - lo) / max(hi - lo, 1e-12)).reshape(-1, side, side)


@scene("digits", "handwritten digits through a network's 2-unit stage (default: 64-128-64-2-10 "
       "on the bundled 8x8 digits, or MNIST with --mnist DIR): that plane, its regions and "
       "digit images")
def digits(model: Any = None, data: Any = None, *, stage: int | None = None,
           color_by: str = "class", mnist: str | None = None,
           seed: int | None = None, show_linear_regions: bool = False) -> Timeline:
    from spacefold.scenes.zoo import digits_net

    if model is None:
        if data is not None:
            raise SceneError("scene 'digits': data= needs model= as well (the default network "
                             "is trained on the bundled digits or --mnist)")
        zoo_model, train_set, test_set, _ = digits_net(mnist=str(mnist) if mnist else None,
                                                       seed=0 if seed is None else seed)
        x = np.concatenate([train_set.x, test_set.x])
        y = np.concatenate([train_set.y, test_set.y])
        images = np.concatenate([images_of(train_set), images_of(test_set)])   # (N, h, w)
        held_out = np.arange(len(train_set), len(x))                  # rows of the test set
        m: Any = zoo_model
        name = "mnist" if mnist else "digits"
    else:
        if seed is not None:
            raise SceneError("scene 'digits': seed= picks the default network's training; "
                             "it does nothing for a given model")
        m = resolve_model(model, "digits")
        if data is not None:
            if mnist:
                raise SceneError("scene 'digits': give data= or mnist=, not both")
            given = resolve_data(data, "digits")
        elif mnist:
            from spacefold.data.mnist import load_mnist

            given = load_mnist(str(mnist), n=6000, seed=0)
        else:
            given = dataset("digits")
        x, y, images = given.x, given.y, images_of(given)
        held_out = np.arange(len(x))          # no split known: every digit is told about
        name = "mnist" if mnist else given.name
        train_set = given
    seed_ = 0 if seed is None else seed
    h_px, w_px = images.shape[1:]
    source = f"MNIST digits {h_px}×{w_px}" if name == "mnist" else \
        f"handwritten {h_px}×{w_px} digits"
    tr = trace(m, x, labels=y, grid=False, meta={"dataset": name})
    arch = net_label(tr)
    pred = tr.predict()
    train_acc = float((pred[:len(train_set)] == y[:len(train_set)]).mean())
    test_acc = float((pred[held_out] == y[held_out]).mean())
    default = model is None
    acc_words = "held-out accuracy" if default else "accuracy"

    last = len(tr.stages) - 1
    kb = pick_stage(tr, stage, "digits", lambda k: tr.stages[k].dim == 2 and k < last,
                    "a 2-unit hidden stage", candidates=layer_inputs(tr))
    acts = [st.index for st in tr.stages[1:kb] if st.kind not in ("linear", "bias")
            and tr.ops[st.index].kind == "linear"]
    path = [0] + acts + [kb]                         # input, each hidden layer's output, plane
    disp = {k: tr.display(k) for k in path}          # (N, 2) display coordinates
    views = {k: stage_view(disp[k], margin=0.10) for k in path}
    colors = (position_colors(disp[0]) if color_by == "position" else tr.colors(color_by))

    # The plane: regions of the rest of the network over what the panel shows, and the
    # straight pieces of boundary where its top two scores tie (from its weights) when that
    # rest is affine, else the contours of the computed regions.
    shown = panel_view(views[kb], PANEL)
    cover = panel_view(views[kb], PANEL, grow=1.04)
    regions = ExactRegions(tr, cover, alpha=0.38, dim=0.5, start=kb)   # at the panel's pixels
    # --show linear-regions: the pieces of the rest of the network in the plane h
    pieces = PieceEdges(tr, cover, start=kb, scene="digits") if show_linear_regions else None
    tail = affine_tail(tr, kb)
    bounds: list[Boundary] = []
    if tail is not None:
        w_t, b_t = decision_affine(tr, tail)
        bounds = [s for s in boundary_segments(w_t, b_t, shown) if s.length > 1e-9]
        starts = np.array([s.start for s in bounds]).reshape(-1, 2)   # (M, 2)
        ends = np.array([s.end for s in bounds]).reshape(-1, 2)
        edges = f"{len(bounds)} straight edges (from the weights) cut the plane into regions"
    else:
        ny = 240
        nx = round(ny * (shown[1] - shown[0]) / (shown[3] - shown[2]))
        cont = region_contours(tr, kb, shown, nx, ny)
        starts, ends = cont[:, 0], cont[:, 1]
        edges = (f"the rest is not affine: the region edges are contours computed on a "
                 f"{nx}×{ny} raster")

    # Digit images: digits spread over the plane; one per class on the input view.
    side = THUMB_SIZE * (shown[3] - shown[2])
    border = 1 if h_px <= 8 else 2
    pick = spread_sample(disp[kb], y, held_out, THUMBS_PER_CLASS, side * 1.08, seed_)
    thumbs = Thumbs([thumbnail_rgba(images[i], CLASS_COLORS[y[i] % len(CLASS_COLORS)], border)
                     for i in pick], disp[kb][pick], side)
    in_shown = panel_view(views[0], PANEL)
    in_side = THUMB_SIZE * (in_shown[3] - in_shown[2])
    pick0 = spread_sample(disp[0], y, held_out, 1, in_side * 1.08, seed_ + 1)[:INPUT_THUMBS]
    thumbs0 = Thumbs([thumbnail_rgba(images[i], CLASS_COLORS[y[i] % len(CLASS_COLORS)],
                                     border) for i in pick0], disp[0][pick0], in_side)
    n_cls = max(int(y.max()) + 1, tr.stages[-1].dim)

    d0 = tr.stages[0].dim
    legend = [Text((0.012 + 0.032 * c, 0.985), str(c), 15.0,
                   tuple(CLASS_COLORS[c % len(CLASS_COLORS)])) for c in range(min(n_cls, 20))]
    acc_text = Text((0.012, 0.02), f"held-out accuracy {100 * test_acc:.1f}%  "
                    f"({len(held_out)} digits never seen in training)" if default else
                    f"accuracy {100 * test_acc:.1f}% on the {len(held_out)} given digits",
                    13.0, va="bottom")
    heading = f"{source}  ·  {arch}  ·  {acc_words} {100 * test_acc:.1f}%"
    hidden = [f"layer {tr.stages[k].layer} · {tr.stages[k].short}  ({tr.stages[k].dim}-D)"
              for k in acts]
    steps = [_Step(f"layer {tr.stages[k].layer}", path[i], k, 1.8, hidden[i],
                   f"layer {tr.stages[k].layer} (W·x + b, then {tr.stages[k].short}) carries "
                   f"every digit into {tr.stages[k].dim}-D: the classes start to pull apart")
             for i, k in enumerate(acts)]
    before = tr.stages[acts[-1] if acts else 0].dim
    steps.append(_Step("the plane", acts[-1] if acts else 0, kb, 2.2,
                       f"{tr.stages[kb].name}: the 2-unit stage",
                       f"layer {tr.stages[kb].layer} squeezes {before}-D into a plane: every "
                       f"digit becomes a point (h₁, h₂)"))

    def space(k_from: int, k_to: int, a: float) -> Space:
        s = smooth(a)
        pts, _ = through(tr, k_from, k_to, s)        # every stage between, by display_at
        view = lerp_extent(views[k_from], views[k_to], s)
        p_to = tr.projection(k_to)
        if k_from == k_to:
            sub = p_to.label or f"{tr.stages[k_to].dim}-D: the true coordinates"
        else:
            sub = f"{tr.stages[k_from].dim}-D → {tr.stages[k_to].dim}-D" + (
                f" · {p_to.label}" if p_to.label else "")
        return Space(view=view, points=pts, colors=colors, classes=tr.labels, texts=list(legend),
                     subtitle=sub,
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
                fade = 1.0 - smooth(a / 0.4)
                if fade > 0:
                    assert sp.points is not None     # the thumbnails ride with their points
                    pos = sp.points[pick0]
                    sp.thumbnails = [_faded_image(im, fade) for im in thumbs0.at(1.0, pos)]
            return frame(sp, st.caption)
        return at

    plane_title = f"the 2-unit plane  ({tr.stages[kb].name})"

    def plane(a_regions: float, a_lines: float, a_thumbs: float, caption: str) -> Frame:
        sp = space(kb, kb, 1.0)
        sp.title = plane_title
        if a_regions > 0:
            sp.regions = regions(a_regions)
        if pieces is not None:
            sp.lines.insert(0, pieces.line(pieces.display(kb), min(1.0, 2 * a_regions)))
            sp.texts.append(pieces.label((0.012, 0.93)))
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
    scores = (f"the last layer scores {n_cls} classes, wₖ·h + bₖ; the highest wins: "
              if tail is not None and tail.layers <= 1 else "the rest of the network decides: ")
    segs.append(Segment("regions", 2.0, lambda a: plane(
        smooth(a), (a - 0.3) / 0.7, 0.0, scores + edges)))
    which = "held-out digits" if default else "digits"
    segs.append(Segment("digit images", 3.2, lambda a: plane(
        1.0, 1.0, min(1.0, a / 0.7),
        f"{which} drawn where the network put them: similar shapes land together")))
    cut = ("cuts the plane with straight edges" if tail is not None else
           "splits the plane (its edges computed, the rest not being affine)")
    caption = (f"{len(x)} real {source} pass through a {arch} network "
               f"whose 2-unit stage is a plane: the digits form clusters there, the rest "
               f"{cut}, and {100 * test_acc:.1f}% of {len(held_out)} "
               f"{which} land in their own region.")
    meta = {"trace": tr, "accuracy": train_acc, "test_accuracy": test_acc, "caption": caption,
            "bottleneck_stage": kb, "regions_extent": cover, "regions": regions,
            "thumbnails": pick, "boundaries": bounds, "affine_tail": tail}
    return Timeline("digits", segs, meta=meta, poster_segment=len(segs) - 1)
