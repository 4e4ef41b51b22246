"""The exported viewer for a lecture hall (issue 12), in real headless Chromium: the framing
(every stage fitted beside the diagram, 2-D stages face-on, 3-D stages with axes), a point's
path in one step's space, presenter mode and its keys, the light theme and the Okabe–Ito
palette. Screenshots of both themes go to out/viewer-shots/theme-*.png (look at them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spacefold as sf
from spacefold.export import write_html
from spacefold.server import browser
from viewer_pages import canvas, open_page

pytestmark = pytest.mark.usefixtures("require_browser")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"
OKABE_ITO = np.array([[0xe6, 0x9f, 0x00], [0x56, 0xb4, 0xe9], [0x00, 0x9e, 0x73],
                      [0xf0, 0xe4, 0x42], [0x00, 0x72, 0xb2], [0xd5, 0x5e, 0x00],
                      [0xcc, 0x79, 0xa7], [0x00, 0x00, 0x00]])


def _trace(data: str, arch: str, classes: int = 3) -> sf.Trace:
    import torch

    torch.set_num_threads(1)
    kw = {"classes": classes} if data == "spiral" else {}
    d = sf.dataset(data, n=240, noise=0.2, seed=0, **kw)
    net = sf.build(arch, activation="relu", seed=0)
    sf.train(net, d, epochs=60, lr=0.03, seed=0)
    return sf.trace(net, d, grid=sf.GridSpec(lines=13, verts=40, regions=24))


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[sf.Trace, Path]]:
    folder = tmp_path_factory.mktemp("present")
    out = {}
    for name, data, arch in (("t32", "moons", "2-3-2"), ("t2d", "spiral", "2-2-3"),
                             ("t3d", "spiral", "2-3-3")):
        tr = _trace(data, arch)
        out[name] = (tr, write_html(tr, folder / f"{name}.html", title=name))
    return out


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1000, 640) as c:
        yield c


def _settle(page: Any) -> None:
    page.wait_for_function("window.__spacefold.settled", timeout=15_000)


def _screen_box(page: Any, rows: np.ndarray) -> np.ndarray:
    xy = page.evaluate(f"__spacefold.project({rows.tolist()})")
    return np.array([[p["x"], p["y"]] for p in xy])


@pytest.mark.parametrize("name", ["t2d", "t3d", "t32"])
def test_every_stage_fits_beside_the_diagram(ctx: Any, pages: dict, name: str) -> None:
    """Bug 7: the grid and the points of each stage at rest lie inside the canvas and never
    under the network diagram, the title or the bar."""
    tr, html = pages[name]
    page = open_page(ctx, html.as_uri())
    side = page.locator(".sf-side").bounding_box()
    canvas = page.locator("canvas.sf-gl").bounding_box()
    bar = page.locator(".sf-bar").bounding_box()
    for k in range(len(tr.stages)):
        page.evaluate(f"__spacefold.setT({k})")
        _settle(page)
        grid = np.array(page.evaluate("__spacefold.grid()")["positions"]).reshape(-1, 3)
        pts = np.array(page.evaluate("__spacefold.positions()"))
        xy = _screen_box(page, np.concatenate([grid, pts]))
        assert (xy[:, 0] >= canvas["x"]).all() and (xy[:, 0] <= canvas["x"] + canvas["width"]).all()
        assert (xy[:, 1] >= canvas["y"]).all() and (xy[:, 1] <= bar["y"]).all(), f"stage {k}"
        under = ((xy[:, 0] >= side["x"]) & (xy[:, 0] <= side["x"] + side["width"]) &
                 (xy[:, 1] >= side["y"]) & (xy[:, 1] <= side["y"] + side["height"]))
        assert not under.any(), f"stage {k}: {under.sum()} grid/points under the diagram"
        span = xy.max(axis=0) - xy.min(axis=0)
        assert span.max() > 0.45 * (bar["y"] - canvas["y"]), f"stage {k} is drawn small: {span}"
    assert page.errors == []
    page.close()


def test_two_d_stages_of_a_3d_trace_are_face_on_and_3d_stages_have_axes(ctx: Any,
                                                                        pages: dict) -> None:
    """Bug 7: the input plane and a 2-D output after a 3-D layer are seen face-on (the
    picture's aspect is the data's, no perspective sliver); the 3-D stages are tilted and
    show labelled axes; "3-D tilt" tilts the 2-D ones on demand."""
    tr, html = pages["t32"]
    page = open_page(ctx, html.as_uri())
    last = len(tr.stages) - 1
    after3d = next(k for k in range(1, last + 1)
                   if tr.stages[k].dim == 2 and tr.stages[k - 1].dim == 3)
    for k in (0, after3d, last):
        page.evaluate(f"__spacefold.setT({k})")
        _settle(page)
        assert page.evaluate("__spacefold.faceOn")
        d = np.array(page.evaluate("__spacefold.cameraDir()"))
        assert d @ [0, 0, -1] > 0.999, f"stage {k} seen from {d}"
        pts = np.array(page.evaluate("__spacefold.positions()"))
        xy = _screen_box(page, pts)
        data = np.ptp(pts[:, :2], axis=0)
        shown = np.ptp(xy, axis=0)
        assert abs(shown[0] / shown[1] - data[0] / data[1]) < 0.03 * data[0] / data[1]
        assert not page.locator(".sf-axis").first.is_visible()
        page.screenshot(path=str(SHOTS / f"t32-face-on-{k}.png"))
    page.evaluate("__spacefold.setT(2)")
    _settle(page)
    assert not page.evaluate("__spacefold.faceOn")
    assert abs(np.array(page.evaluate("__spacefold.cameraDir()")) @ [0, 0, -1]) < 0.95
    labels = page.locator(".sf-axis")
    assert [labels.nth(j).inner_text() for j in range(3)] == ["x₁", "x₂", "x₃"]
    assert all(labels.nth(j).is_visible() for j in range(3))
    page.screenshot(path=str(SHOTS / "t32-3d-axes.png"))
    page.locator("input.sf-tilt").check()
    page.evaluate(f"__spacefold.setT({last})")
    _settle(page)
    assert not page.evaluate("__spacefold.faceOn")
    assert "tilt=1" in "&".join(f"{k}={v}" for k, v in page.evaluate("__spacefold.view").items())
    page.close()


def test_a_points_path_is_drawn_in_one_steps_space(ctx: Any, pages: dict) -> None:
    """Bug 8: the line drawn for a clicked point is its move in the current step (stage k-1
    to k, both as the animation draws them), never a polyline across every stage's space;
    the hover and the panel say its predicted class and the stage."""
    tr, html = pages["t3d"]
    page = open_page(ctx, html.as_uri())
    i = 17
    page.evaluate(f"__spacefold.setT(2.5); __spacefold.viewer.select({i})")
    seg = np.array(page.evaluate("__spacefold.path()")).reshape(2, 3)
    d = 3
    np.testing.assert_allclose(seg[0], tr.display(2, d)[i], atol=1e-5)
    np.testing.assert_allclose(seg[1], tr.display(3, d)[i], atol=1e-5)
    page.evaluate("__spacefold.setT(4)")
    seg = np.array(page.evaluate("__spacefold.path()")).reshape(2, 3)
    np.testing.assert_allclose(seg[1], tr.display(4, d)[i], atol=1e-5)
    text = page.locator(".sf-path").inner_text()
    pred = int(tr.predict()[i])
    assert f"predicted {pred}" in text and "line: its move" in text
    tip = page.evaluate(f"__spacefold.describe({i})")
    assert f"predicted {pred}" in tip and f"stage 4: {tr.stages[4].name}" in tip
    page.close()


def test_presenter_mode_keys_and_text_at_1080p(ctx: Any, pages: dict) -> None:
    """`page.html#present` opens in presenter mode: at 1920×1080 the title is at least 28 px,
    → steps to the next stage (the canvas changes), ← back, Space plays and pauses, F asks
    for fullscreen, + and − scale the text and points, C hides every control."""
    tr, html = pages["t3d"]
    page = ctx.new_page()
    page.set_viewport_size({"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.as_uri() + "#present")
    page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                           timeout=30_000)
    page.errors = errors
    assert "sf-present" in page.locator(".sf-root").get_attribute("class")

    def px(sel: str) -> float:
        return float(page.evaluate(
            f"parseFloat(getComputedStyle(document.querySelector('{sel}')).fontSize)"))

    assert px(".sf-title") >= 28, px(".sf-title")
    assert px(".sf-stage") > px(".sf-title")
    _settle(page)
    before = canvas(page)
    page.keyboard.press("ArrowRight")
    assert page.evaluate("__spacefold.t") == 1
    assert page.locator(".sf-stage").inner_text() == tr.stages[1].name
    _settle(page)
    after = canvas(page)
    assert (np.abs(after - before).sum(axis=2) > 30).mean() > 0.01
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("__spacefold.t") == 1
    page.keyboard.press(" ")
    assert page.evaluate("__spacefold.viewer.playing")
    page.keyboard.press(" ")
    assert not page.evaluate("__spacefold.viewer.playing")
    page.evaluate("""() => { window.__fs = 0;
        Element.prototype.requestFullscreen = function () { window.__fs++;
                                                          return Promise.resolve(); }; }""")
    page.keyboard.press("f")
    assert page.evaluate("window.__fs") == 1
    title = px(".sf-title")
    page.keyboard.press("+")
    assert px(".sf-title") > 1.1 * title
    size = page.evaluate("__spacefold.viewer.points.material.size")
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert px(".sf-title") < title
    assert page.evaluate("__spacefold.viewer.points.material.size") < size
    page.keyboard.press("+")
    page.screenshot(path=str(SHOTS / "present-1080p.png"))
    page.keyboard.press("c")
    assert not page.locator(".sf-bar").is_visible()
    assert not page.locator(".sf-side").is_visible()
    page.screenshot(path=str(SHOTS / "present-clean-1080p.png"))
    page.keyboard.press("c")
    assert page.locator(".sf-bar").is_visible()
    assert page.errors == []
    page.close()


def test_text_scales_with_the_window(ctx: Any, pages: dict) -> None:
    _, html = pages["t2d"]
    sizes = []
    page = open_page(ctx, html.as_uri())
    for w, h in ((800, 450), (1920, 1080)):
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(100)
        sizes.append(page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.sf-stage')).fontSize)"))
    page.close()
    assert sizes[1] > 1.2 * sizes[0], sizes


def test_light_theme_and_okabe_ito_palette(ctx: Any, pages: dict) -> None:
    """The theme switch makes the canvas light (its background and the region tints), the
    palette switch gives the classes Okabe–Ito colours; both are in the view state.
    Screenshots: theme-dark.png, theme-light.png, theme-light-okabe-ito.png."""
    tr, html = pages["t2d"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(ctx, html.as_uri())
    page.evaluate("__spacefold.setT(0)")
    _settle(page)
    dark = canvas(page)
    page.screenshot(path=str(SHOTS / "theme-dark.png"))
    page.locator("select.sf-theme").select_option("light")
    _settle(page)
    light = canvas(page)
    page.screenshot(path=str(SHOTS / "theme-light.png"))
    corner = light[5:25, 5:25].reshape(-1, 3).mean(axis=0)
    assert corner.min() > 235, corner                 # a light background
    assert dark[5:25, 5:25].reshape(-1, 3).mean(axis=0).max() < 60       # (and a dark one)
    assert page.evaluate("__spacefold.view.theme") == "light"
    bg = page.evaluate("getComputedStyle(document.querySelector('.sf-root')).backgroundColor")
    assert bg == "rgb(251, 251, 248)"
    page.locator("select.sf-palette").select_option("okabe-ito")
    _settle(page)
    page.screenshot(path=str(SHOTS / "theme-light-okabe-ito.png"))
    cols = np.array(page.evaluate(
        "Array.from(__spacefold.viewer.points.geometry.getAttribute('color').array)"))
    cols = np.round(cols.reshape(-1, 3) * 255)
    want = OKABE_ITO[tr.labels % 8]
    np.testing.assert_allclose(cols, want, atol=0.6)
    assert page.evaluate("__spacefold.view.palette") == "okabe-ito"
    # the drawn points carry those colours: the picture holds Okabe–Ito's orange and blue
    img = canvas(page).reshape(-1, 3)
    for c in OKABE_ITO[:2]:
        assert (np.abs(img - c).sum(axis=1) < 12).sum() > 20, c
    assert page.errors == []
    page.close()
