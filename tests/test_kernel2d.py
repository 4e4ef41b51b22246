"""The 2-D backend: the C kernels and the numpy primitives draw the same frames (to 2/255),
a line style it has no pattern for is a one-line error, rendering a video never imports
Matplotlib, and its text is laid out as Matplotlib lays text out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spacefold as sf
from fresh_process import run_python
from spacefold.colors import rgba
from spacefold.render import backend, rasterize, text
from spacefold.render.frame import Bars, Frame, Image, Line, Plot, Space, Text
from spacefold.render.geometry2d import dashed
from spacefold.render.kernel2d import KernelBackend
from spacefold.scenes.api import to_timeline

needs_compiled = pytest.mark.skipif(rasterize.COMPILED is None,
                                    reason="the C extension was not built")
SIZE = (480, 270)
TOL = 2          # 0-255 channel units: the numpy primitives against the C ones


def both(frame: Frame, size: tuple[int, int] = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` drawn with the C kernels and with numpy's."""
    return (KernelBackend(size, rasterize.COMPILED).draw(frame)[..., :3].astype(int),
            KernelBackend(size, rasterize.NUMPY).draw(frame)[..., :3].astype(int))


def busy_space(style: str = "--") -> Space:
    """A panel with every kind of thing a Space panel holds."""
    rng = np.random.default_rng(3)
    regions = np.zeros((8, 8, 4), dtype=np.uint8)
    regions[..., 0] = np.arange(8)[None, :] * 30
    regions[..., 2] = 200
    regions[..., 3] = 90
    thumb = np.full((6, 6, 4), 255, dtype=np.uint8)
    thumb[2:4, 2:4, :3] = 0
    t = np.linspace(0, 1, 60)
    grid = np.stack([np.stack([t * 2 - 1, np.sin(3 * t) * 0.3 + k / 5], axis=1)
                     for k in range(-4, 5)])
    return Space(view=(-1.2, 1.2, -1.0, 1.0), points=rng.uniform(-1, 1, (200, 2)),
                 colors=rng.uniform(0, 1, (200, 3)), grid=grid,
                 regions=Image(regions, (-1.0, 3.0, -3.0, 0.8)),   # past two edges
                 thumbnails=[Image(thumb, (0.2, 0.4, 0.2, 0.4))],
                 lines=[Line(np.array([[-1.0, -0.9], [0.9, 0.7]]), "#ffd166", 2.5),
                        Line(np.array([[-1.0, 0.5], [0.0, 0.9], [1.0, 0.5]]), (1, 1, 1, 0.6),
                             1.2, style),
                        Line(np.array([[0.0, 0.0], [0.5, -0.5]]), "#4fb3ff", 2.0,
                             label="w₁")],
                 texts=[Text((0.02, 0.98), "W =\n[ 1.20 -0.50 ]", 12, family="monospace"),
                        Text((0.98, 0.02), "faint", 14, (1, 1, 1, 0.3), ha="right",
                             va="bottom")],
                 title="layer 1 · W·x", subtitle="2-D", point_size=3.0)


@needs_compiled
@pytest.mark.parametrize("style", ["-", "--", ":", "-."])
def test_both_kernels_draw_the_same_panel(style: str) -> None:
    frame = Frame([((0.04, 0.08, 0.55, 0.8), busy_space(style)),
                   ((0.62, 0.08, 0.35, 0.8), busy_space("-"))],
                  heading="heading · 2-2-2", caption="a caption under it")
    ours, ref = both(frame)
    diff = np.abs(ours - ref)
    where = np.unravel_index(diff.argmax(), diff.shape)
    assert diff.max() <= TOL, f"max |diff| {diff.max()} at {where}"
    assert (ours != ours[0, 0]).any(axis=-1).mean() > 0.2     # a busy picture, not a blank one


@needs_compiled
@pytest.mark.parametrize(("arch", "diagram"), [("2-2-2", False), ("2-20-2-3", True)])
def test_both_kernels_draw_the_same_video(arch: str, diagram: bool) -> None:
    """Frames of a real story: without the diagram (the reference workload's kind) and with
    a layer wider than the diagram shows; incl. the dashed unit square of the sigmoid stage
    and the separating line."""
    data = sf.dataset("cloud", n=300, seed=2)
    tr = sf.trace(sf.build(arch, "relu", head="sigmoid", seed=1), data.x, labels=data.y)
    tl = to_timeline(tr, diagram=diagram, narrate=True)
    kc, kn = KernelBackend(SIZE, rasterize.COMPILED), KernelBackend(SIZE, rasterize.NUMPY)
    frames = list(tl.frames(3))
    for f in frames[::3]:
        ours = kc.draw(f)[..., :3].astype(int)
        assert np.abs(ours - kn.draw(f)[..., :3]).max() <= TOL


@needs_compiled
@pytest.mark.parametrize("name", ["affine", "training", "activations", "argmax-softmax"])
def test_both_kernels_draw_plots_alike(name: str) -> None:
    """Scenes with function plots, bar charts and mathtext beside the plane."""
    from spacefold.scenes import build_scene

    frames = list(build_scene(name).frames(1))
    kc, kn = KernelBackend(SIZE, rasterize.COMPILED), KernelBackend(SIZE, rasterize.NUMPY)
    for f in frames[:: max(len(frames) // 4, 1)]:
        ours = kc.draw(f)[..., :3].astype(int)
        assert np.abs(ours - kn.draw(f)[..., :3]).max() <= TOL


def test_text_colours_keep_their_alpha() -> None:
    """A panel text's colour alpha is honoured."""
    def lit(c: tuple[float, ...]) -> int:
        p = Space(view=(-1, 1, -1, 1), axes=False,
                  texts=[Text((0.5, 0.5), "█", 40, c, ha="center", va="center")])
        img = backend(None, SIZE).draw(Frame([((0, 0, 1, 1), p)]))
        return int(img[..., 0].max())
    assert lit((1, 1, 1, 0.3)) < lit((1, 1, 1, 1.0)) - 100


def test_every_panel_kind_is_drawn_and_unknown_styles_are_refused() -> None:
    """Mathtext, colour names, bars, plots and dotted lines are all drawn (Matplotlib imported
    for the mathtext only); a line style with no pattern is a one-line error."""
    space = Space(view=(-1, 1, -1, 1), title=r"$\sigma(x)$", lines=[
        Line(np.array([[-1.0, 0.0], [1.0, 0.5]]), "white", 2.0)])
    bars = Bars(values=np.array([0.2, -0.3, 0.8]), ylim=(-0.5, 1.0), xlabels=["a", "b", "c"],
                colors=np.array([[1.0, 0.5, 0.0], [0.2, 0.6, 1.0], [0.5, 0.9, 0.3]]))
    plot = Plot(view=(-1, 1, -1, 1), lines=[Line(np.array([[-1.0, -1.0], [1.0, 1.0]]), "#fff",
                                                  1.5, ":")])
    frame = Frame([((0.03, 0.1, 0.3, 0.8), space), ((0.36, 0.1, 0.3, 0.8), bars),
                   ((0.69, 0.1, 0.3, 0.8), plot)], heading="$p_i$ and $q$")
    img = backend(None, SIZE).draw(frame)[..., :3].astype(int)
    bg = img[0, 0]
    for x0 in (0.03, 0.36, 0.69):                  # something drawn in each panel
        part = img[30:250, int(x0 * SIZE[0]):int((x0 + 0.3) * SIZE[0])]
        assert (np.abs(part - bg).max(axis=-1) > 40).mean() > 0.002
    custom = Frame([((0, 0, 1, 1), Space(view=(-1, 1, -1, 1), lines=[
        Line(np.array([[-1.0, 0.0], [1.0, 0.5]]), "#fff", 1.0, "loosely")]))])
    with pytest.raises(ValueError, match=r"line style 'loosely': use one of '-'"):
        backend(None, SIZE).draw(custom)
    with pytest.raises(ValueError, match=r"'blurple' is not a colour"):
        backend(None, SIZE).draw(Frame([((0, 0, 1, 1), Space(view=(-1, 1, -1, 1), lines=[
            Line(np.array([[-1.0, 0.0], [1.0, 0.5]]), "blurple")]))]))


def test_backends_are_chosen_by_name() -> None:
    from spacefold.render import names

    assert "numpy" in names() and ("c" in names()) == (rasterize.COMPILED is not None)
    b = backend("numpy", (64, 36))
    assert isinstance(b, KernelBackend) and b.kernels is rasterize.NUMPY
    assert b.draw(Frame([((0, 0, 1, 1), Space(view=(-1, 1, -1, 1)))])).shape == (36, 64, 4)
    assert backend(None, (64, 36)).kernels is rasterize.DEFAULT    # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="no render backend 'agg' \\(have: "):
        backend("agg")


def test_rendering_plane_views_never_imports_matplotlib(tmp_path: Path) -> None:
    """The point of this backend: Matplotlib's import costs more than the video's drawing."""
    code = (
        "import sys, numpy as np, spacefold as sf\n"
        "d = sf.dataset('cloud', n=200, seed=0)\n"
        "net = sf.load_network(sys.argv[1])\n"
        "t = sf.trace(net, d.x, labels=d.y)\n"
        "sf.render(t, sys.argv[2], size=(320, 180), fps=10, diagram=False)\n")
    ckpt = sf.save(sf.build("2-2-2", "relu", head="sigmoid", seed=0), tmp_path / "n.safetensors")
    out = tmp_path / "v.mp4"
    run_python(code, ckpt, out, forbid=["matplotlib"])
    assert out.stat().st_size > 1000


def test_rendering_fold_222_from_the_catalogue_imports_no_matplotlib(tmp_path: Path) -> None:
    """The CLI's first example: one scene module loads, the diagram is drawn by the kernels,
    the network is the zoo's shipped one (no torch), the dashed lines need no numpy.ma
    (np.unique imports it: ~0.1 s), the command line is parsed without pydantic
    (typer 0.27+ imports it: ~90 ms), and with no terminal no Rich is drawn (~28 ms)."""
    code = ("import sys, spacefold as sf\n"
            "from spacefold.cli import main\n"
            "sys.argv = ['spacefold', 'render', 'fold-222', '-o', sys.argv[1], '--size',"
            " '320x180', '--fps', '5']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n")
    run_python(code, tmp_path / "f.mp4",
               forbid=["matplotlib", "moderngl", "spacefold.scenes.surfaces3d", "torch",
                       "numpy.ma", "pydantic", "rich"])
    assert (tmp_path / "f.mp4").stat().st_size > 1000


def test_dashes_follow_matplotlib_patterns() -> None:
    line = np.array([[0.0, 5.0], [100.0, 5.0]])
    segs = dashed(line, "--", 2.0)                 # 3.7 on, 1.6 off, in line widths
    lengths = np.hypot(*(segs[:, 1] - segs[:, 0]).T)
    assert segs[0, 0] == pytest.approx([0.0, 5.0])
    assert lengths[:-1] == pytest.approx(7.4)
    assert lengths.sum() == pytest.approx(100 * 3.7 / 5.3, rel=0.05)
    # dots of 3 px every 7.95 px: [0, 3], [7.95, 10.95] (turning the corner), [15.9, 18.9]
    corner = dashed(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]), ":", 3.0)
    assert np.hypot(*(corner[:, 1] - corner[:, 0]).T).sum() == pytest.approx(9.0)
    assert [10.0, 0.0] in corner[:, 1].tolist() and [10.0, 0.0] in corner[:, 0].tolist()
    assert dashed(line, "-", 2.0).shape == (1, 2, 2)


def test_colours_are_read_like_matplotlib() -> None:
    from matplotlib.colors import to_rgba

    for c in ["#1a1a1f", "#fff", "#4fb3ff80", (0.1, 0.2, 0.3), (1, 1, 1, 0.5), "white",
              "C1", "tab:green", "DarkOrange", "none"]:
        assert rgba(c) == pytest.approx(to_rgba(c))
        assert rgba(c, 0.25) == pytest.approx(to_rgba(c, 0.25))
    assert rgba("blurple") is None and rgba("#12345") is None and rgba((1, 2)) is None
    assert rgba((2.0, 0.0, 0.0)) is None


@pytest.mark.parametrize(("s", "ha", "va"), [("layer 1 · W·x", "left", "bottom"),
                                              ("relu\n5\n12 shown", "center", "top"),
                                              ("W =\n[ 1.20 -0.50 ]", "right", "center"),
                                              ("Hg", "center", "baseline")])
def test_text_is_laid_out_as_matplotlib_does(s: str, ha: str, va: str) -> None:
    """Same size, anchor and ink (to a pixel) as Matplotlib's own text (sprites.py's scratch
    figure, kept for mathtext)."""
    from spacefold.render import sprites

    props = {"text": s, "fontsize": 14.0, "color": (1.0, 1.0, 1.0, 1.0), "ha": ha, "va": va,
             "family": ["sans-serif"], "fontweight": "normal", "linespacing": "normal",
             "multialignment": ha}
    want, wx, wy = sprites._CACHE.get(tuple(map(str, props.values())), props, 100.0)
    got, gx, gy = text.render(s, 14.0, (1.0, 1.0, 1.0, 1.0), ha, va)
    assert abs(got.shape[0] - want.shape[0]) <= 1 and abs(got.shape[1] - want.shape[1]) <= 2

    def ink_centre(img: np.ndarray, ox: float, oy: float) -> np.ndarray:
        a = img[..., 3].astype(float)
        rows, cols = np.indices(a.shape)
        y_up = img.shape[0] - rows - 0.5
        return np.array([((cols + 0.5 - ox) * a).sum(), ((y_up - oy) * a).sum()]) / a.sum()

    assert ink_centre(got, gx, gy) == pytest.approx(ink_centre(want, wx, wy), abs=1.2)
    assert int(got[..., 3].sum()) == pytest.approx(int(want[..., 3].sum()), rel=0.08)


def diagram_video() -> tuple[Any, list[Frame]]:
    """A 2-20-2-3 network's trace of 200 points, and its video's frames with the diagram
    (four a stage)."""
    data = sf.dataset("cloud", n=200, seed=2)
    tr = sf.trace(sf.build("2-20-2-3", "relu", seed=1), data.x, labels=data.y)
    return tr, list(to_timeline(tr, diagram=True).frames(4))


def test_a_reused_diagram_drawing_is_what_drawing_again_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The diagram's strokes are drawn once per stage and copied on the stage's other frames:
    every frame equals the same frame drawn by a fresh backend, also when something under
    the panel changes (then it is drawn again)."""
    from spacefold.render.diagram import DiagramLayout

    tr, frames = diagram_video()
    calls = []
    real = DiagramLayout.draw
    monkeypatch.setattr(DiagramLayout, "draw",
                        lambda self, *a, **k: (calls.append(1), real(self, *a, **k)))
    b = KernelBackend(SIZE)
    for f in frames:
        assert np.array_equal(b.draw(f), KernelBackend(SIZE).draw(f))
    stages = len(tr.stages)
    assert len(frames) + stages <= len(calls) <= len(frames) + 2 * stages   # one per stage
    # a change under the panel (here: the background) is drawn afresh, not copied
    calls.clear()
    b.draw(frames[-1])
    b.background = np.uint32(0x07070707)
    img = b.draw(frames[-1]).copy()
    assert len(calls) == 1
    fresh = KernelBackend(SIZE)
    fresh.background = np.uint32(0x07070707)
    assert np.array_equal(img, fresh.draw(frames[-1]))


def test_remembered_text_sprites_are_the_ones_drawn_afresh() -> None:
    """A backend remembers the sprite of each text call (colour, size, fitting); alternating
    captions, a caption too wide for the frame and an array colour (not remembered) all
    draw as a fresh backend draws them."""
    wide = " · ".join(["a long caption that must shrink and wrap"] * 3)
    texts = [Text((0.1, 0.5), "label", 14.0, np.array([1.0, 0.5, 0.2, 0.9])),
             Text((0.1, 0.3), "tuple", 12.0, (0.2, 0.8, 0.4))]
    frames = [Frame([((0.05, 0.1, 0.9, 0.8), Plot((0, 1, 0, 1), texts=texts))], heading=h,
                    caption=c) for h, c in [("one", "first"), ("two", wide), ("one", "first")]]
    b = KernelBackend(SIZE)
    for f in frames * 2:
        assert np.array_equal(b.draw(f), KernelBackend(SIZE).draw(f))
    assert 0 < len(b._sprites) <= 7


def test_a_kept_canvas_draws_what_a_fresh_backend_draws(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """While a frame's still parts (texts, diagram) are the last frame's, only the plane
    views are cleared and drawn again: every frame of a video equals a fresh backend's
    drawing, also across captions that change; a text inside a plane view, or a labelled
    line, has every frame drawn whole."""
    import dataclasses

    _, frames = diagram_video()
    whole = []
    real = KernelBackend._draw_all
    monkeypatch.setattr(KernelBackend, "_draw_all",
                        lambda self, f: (whole.append(1), real(self, f)))
    size = (640, 360)       # smaller, the titles' descenders reach into the plane views
    b = KernelBackend(size)
    for f in frames:
        assert np.array_equal(b.draw(f), KernelBackend(size).draw(f))
    drawn_whole = len(whole) - len(frames)          # each fresh backend draws whole
    assert 0 < drawn_whole < len(frames) / 2
    # busy_space has texts inside the view and a labelled line: never kept
    whole.clear()
    b = KernelBackend(SIZE)
    moving = [Frame([((0.05, 0.1, 0.9, 0.8), dataclasses.replace(
        busy_space(), points=busy_space().points + 0.01 * k))], heading="h", caption="c")
        for k in range(3)]
    unlabelled = [Frame([(r, dataclasses.replace(p, lines=[ln for ln in p.lines
                                                           if not ln.label]))],
                        heading="h", caption="c") for f in moving for r, p in f.panels]
    for f in moving + unlabelled:
        assert np.array_equal(b.draw(f), KernelBackend(SIZE).draw(f))
    assert len(whole) == 2 * (len(moving) + len(unlabelled))
