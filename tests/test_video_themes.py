"""Themes, palettes and pacing of videos and stills (issue 12): ``theme``/``palette`` are how
a frame is drawn, ``hold``/``duration`` how long a video dwells, and cuts cross-fade."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import spacefold as sf
from spacefold import colors
from spacefold.errors import RenderError
from spacefold.render import backend
from spacefold.render.timeline import Segment, Timeline
from spacefold.scenes.api import to_timeline


@pytest.fixture(scope="module")
def small_trace() -> sf.Trace:
    x = np.tanh(np.random.default_rng(5).standard_normal((200, 2)))
    labels = (x[:, 1] > 0).astype(np.int64) + (x[:, 0] > 0.5)
    return sf.trace(sf.build("2-3-3", "relu", seed=1), x, labels=labels,
                    grid=sf.GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=9, verts=40,
                                     regions=32))


def corner(img: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in img[2, 2, :3])


def test_the_light_theme_draws_light_background_and_dark_text(small_trace: sf.Trace) -> None:
    frame = to_timeline(small_trace).segments[1].frame(1.0)
    dark = backend(None, (320, 180)).draw(frame).copy()
    with colors.look("light"):
        frame = to_timeline(small_trace).segments[1].frame(1.0)
        light = backend(None, (320, 180)).draw(frame).copy()
    assert corner(dark) == (0x1a, 0x1a, 0x1f)
    assert corner(light) == (0xfb, 0xfb, 0xf8)
    # the stage's title above the panel is dark ink on the light frame
    top = light[: int(0.11 * 180), :, :3].astype(int).sum(axis=-1)
    assert top.min() < 3 * 90
    assert colors.theme().name == "dark"        # the look ends with its block


def test_okabe_ito_colours_the_classes(small_trace: sf.Trace) -> None:
    with colors.look("light", "okabe-ito"):
        got = small_trace.colors("class")
    want = colors.OKABE_ITO[small_trace.labels % 8]
    assert np.allclose(got, want)
    with colors.look("dark", "okabe-ito"):           # black on the dark theme is grey
        assert np.allclose(colors.palette()[7], 0.6)


def test_theme_and_palette_reach_the_video(tmp_path: Path, small_trace: sf.Trace) -> None:
    out = sf.render(small_trace, tmp_path / "s.png", size=(320, 180), theme="light",
                    palette="okabe-ito", still="poster")
    img = np.asarray(Image.open(out).convert("RGB"))
    assert tuple(img[2, 2]) == (0xfb, 0xfb, 0xf8)
    # Okabe–Ito's orange and sky blue are among the points' colours
    flat = img.reshape(-1, 3).astype(int)
    for rgb in ((0xe6, 0x9f, 0x00), (0x56, 0xb4, 0xe9)):
        assert (np.abs(flat - rgb).sum(axis=1) < 12).any(), rgb


@pytest.mark.parametrize(("kw", "msg"), [
    ({"theme": "sepia"}, "theme 'sepia'"),
    ({"palette": "viridis"}, "palette 'viridis'"),
    ({"hold": -1}, "hold -1"),
    ({"duration": 0}, "duration 0"),
])
def test_bad_look_or_pacing_is_one_line(tmp_path: Path, small_trace: sf.Trace,
                                        kw: dict, msg: str) -> None:
    with pytest.raises(RenderError, match=msg):
        sf.render(small_trace, tmp_path / "v.mp4", size=(160, 90), **kw)
    assert not (tmp_path / "v.mp4").exists()


def test_pacing_is_refused_for_a_still(tmp_path: Path, small_trace: sf.Trace) -> None:
    with pytest.raises(RenderError, match="hold pace a video"):
        sf.render(small_trace, tmp_path / "s.png", size=(160, 90), hold=1.0)


def test_hold_pauses_after_each_stage_and_duration_scales(small_trace: sf.Trace) -> None:
    tl = to_timeline(small_trace)
    moving = [s for s in tl.segments if not s.still]
    held = tl.paced(hold=1.0)
    assert held.duration == pytest.approx(tl.duration + len(moving))
    holds = [s for s in held.segments if s.name.endswith("(hold)")]
    assert len(holds) == len(moving) and not any(s.key for s in holds)
    assert [s.name for s in held.segments if s.key] == [s.name for s in tl.segments if s.key]
    # a hold shows its stage's end state, at every alpha
    i = next(i for i, s in enumerate(held.segments) if s.name.endswith("(hold)"))
    a = held.segments[i].frame(0.1).panels[0][1].points
    b = held.segments[i - 1].frame(1.0).panels[0][1].points
    assert np.array_equal(a, b)
    assert held.paced(duration=10.0).duration == pytest.approx(10.0)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(c.streams.video[0])]


def test_a_cut_cross_fades(tmp_path: Path, small_trace: sf.Trace) -> None:
    """Two segments that differ only in the caption: with a fade the caption changes over
    several frames; without one, in a single frame."""
    story = to_timeline(small_trace).segments[1].frame

    def caption(text: str) -> Segment:
        def frame(_a: float) -> sf.render.frame.Frame:   # type: ignore[name-defined]
            f = story(1.0)
            f.caption = text
            return f
        return Segment(text, 0.5, frame, still=True)

    tl = Timeline("cut", [caption("FIRST " * 6), caption("SECOND " * 6)])
    steps = {}
    for fade in (0.0, 0.3):
        out = sf.render(tl, tmp_path / f"c{fade}.mp4", size=(320, 180), fps=20, fade=fade)
        fr = _frames(out)
        change = [float(np.abs(fr[i + 1] - fr[i]).mean()) for i in range(len(fr) - 1)]
        steps[fade] = sum(c > 0.05 for c in change)
    assert steps[0.0] == 1
    assert steps[0.3] >= 4


@pytest.mark.parametrize(("argv", "names"), [
    (["--theme", "sepia"], ["--theme", "sepia", "light"]),
    (["--palette", "viridis"], ["--palette", "okabe-ito"]),
    (["--hold", "-2"], ["--hold"]),
    (["--duration", "0"], ["--duration"]),
])
def test_cli_bad_look_or_pacing_is_one_line(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, argv: list[str],
                                            names: list[str]) -> None:
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.mp4", *argv)
    assert_one_line_error(code, err, *names)


def test_cli_hold_refused_for_a_still(capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "f.png", "--hold", "1")
    assert_one_line_error(code, err, "--hold", ".png")


def test_show_math_writes_each_stage_with_its_numbers(small_trace: sf.Trace) -> None:
    from spacefold.render.frame import Plot
    from spacefold.scenes.story import stage_math

    tl = to_timeline(small_trace, show_math=True)
    kinds = [s.kind for s in small_trace.stages]
    for k, kind in enumerate(kinds):
        texts = [t.text for t in stage_math(small_trace, k)]
        op = small_trace.ops[k - 1] if k else None
        if kind == "linear":
            w = op.params["W"]
            assert texts[0] == "x ↦ W·x"
            assert all(f"{v:6.2f}" in texts[1] for v in w.ravel())
            assert texts[1].count("\n") == w.shape[0] - 1
        elif kind == "bias":
            assert all(f"{v:6.2f}" in texts[1] for v in op.params["b"])
        elif kind == "relu":
            assert "max(0" in texts[0]
        else:
            assert kind == "input" and texts == []
    frame = tl.segments[2].frame(1.0)          # the panel is on screen
    assert any(isinstance(p, Plot) and p.texts for _, p in frame.panels)
    wide = sf.trace(sf.build("2-4-2", "tanh", seed=0), small_trace.stages[0].values)
    assert "4×2" in stage_math(wide, 1)[-1].text     # bigger than 3×3: said, not written


def test_cli_show_math_refused_by_a_scene_without_it(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    from cli_helpers import assert_one_line_error, run

    code, _, err = run(capsys, "render", "affine", "-o", tmp_path / "a.png", "--show", "math")
    assert_one_line_error(code, err, "--show math", "fold-222", "'affine'")
    code, _, err = run(capsys, "render", "fold-222", "-o", tmp_path / "a.png", "--show", "x")
    assert_one_line_error(code, err, "--show", "math")


LONG = ("blobs (3 classes) · 2-16-16-16-2-3 ReLU, SiLU, tanh · the plane of stage 19 · "
        "accuracy 100.0%")


@pytest.fixture(scope="module")
def wide_trace() -> sf.Trace:
    x = np.random.default_rng(3).standard_normal((120, 2))
    return sf.trace(sf.build("2-16-16-16-2-3", "relu", seed=0), x,
                    labels=(x[:, 0] > 0).astype(np.int64))


@pytest.mark.parametrize("heading", [LONG, LONG + " · " + LONG])
def test_a_long_heading_fits_the_frame(wide_trace: sf.Trace, heading: str) -> None:
    frame = to_timeline(wide_trace, heading=heading).segments[1].frame(1.0)
    img = backend(None, (1280, 720)).draw(frame)[:45, :, :3].astype(int)
    ink = np.abs(img - (0x1a, 0x1a, 0x1f)).sum(axis=-1) > 60
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.min() >= 0.015 * 1280 and cols.max() <= 0.985 * 1280   # not clipped
    assert cols.max() - cols.min() > 0.5 * 1280                          # and still there


def test_no_text_is_under_14_px_at_720p(wide_trace: sf.Trace,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from spacefold.render import text

    sizes: list[float] = []
    real = text.CACHE.get

    def spy(s: str, size: float, *a: object) -> text.Sprite:
        sizes.append(size * 100 / 72)           # pt at 100 dpi → px
        return real(s, size, *a)

    monkeypatch.setattr(text.CACHE, "get", spy)
    frame = to_timeline(wide_trace).segments[1].frame(1.0)
    backend(None, (1280, 720)).draw(frame)
    assert sizes and min(sizes) >= 14.0 - 1e-9


def test_wide_diagram_columns_say_how_many_units_once(wide_trace: sf.Trace) -> None:
    from spacefold.render.diagram import DiagramLayout
    from spacefold.render.frame import Diagram

    frame = to_timeline(wide_trace).segments[1].frame(1.0)
    diagram = next(p for _, p in frame.panels if isinstance(p, Diagram))
    labels = [s for _, s in DiagramLayout(diagram, None).texts(diagram)]
    assert not any("shown" in s for s in labels)
    assert labels[1] == "ReLU\n16"
    assert diagram.subtitle == "12 strongest units a layer"
