"""Class marker shapes (issue 12): for greyscale, each class gets its own marker (circle,
square, triangle, diamond, ...), chosen in the viewer's bar next to the palette, with M in
presenter mode, and kept in the view state. In real headless Chromium; screenshots (light
theme, greyscale) go to out/viewer-shots/."""

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


@pytest.fixture(scope="module")
def page_of(tmp_path_factory: pytest.TempPathFactory) -> tuple[sf.Trace, Path]:
    import torch

    torch.set_num_threads(1)
    d = sf.dataset("spiral", classes=4, n=240, noise=0.2, seed=0)
    net = sf.build("2-6-4", activation="relu", seed=0)
    sf.train(net, d, epochs=60, lr=0.03, seed=0)
    tr = sf.trace(net, d, grid=sf.GridSpec(lines=13, verts=40, regions=24))
    return tr, write_html(tr, tmp_path_factory.mktemp("markers") / "m.html", title="markers")


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1000, 640) as c:
        yield c


def _canvas(page: Any) -> np.ndarray:
    page.wait_for_function("window.__spacefold.settled", timeout=15_000)
    return canvas(page)


def _blob(page: Any, cls: int) -> np.ndarray:
    """The pixels of one training point of class `cls`, drawn alone at 48 px."""
    page.evaluate(f"""() => {{ const v = __spacefold.viewer;
        for (const o of [v.grid, v.regions, v.axes, ...v.groupPoints]) if (o) o.visible = false;
        for (const e of document.querySelectorAll('.sf-top, .sf-side, .sf-bar'))
          e.style.display = 'none';
        for (const p of v.drawing.shapes) {{
          p.visible = p.userData.kind === 'train' && p.userData.cls === {cls};
          p.geometry.setDrawRange(0, 1); p.material.size = 48; }}
        v.dirty = true; }}""")
    img = _canvas(page)
    bg = img[2, 2]
    return np.abs(img - bg).sum(axis=2) > 60


def test_class_shapes_change_the_drawn_points(ctx: Any, page_of: tuple) -> None:
    tr, html = page_of
    page = open_page(ctx, html.as_uri())
    page.locator("select.sf-theme").select_option("light")
    dots = _canvas(page)
    page.locator("select.sf-markers").select_option("shapes")
    shapes = _canvas(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "markers-shapes-light.png"))
    changed = float((np.abs(shapes - dots).sum(axis=2) > 30).mean())
    assert changed > 0.005, f"only {changed:.2%} of the pixels changed"
    assert page.evaluate("__spacefold.view.markers") == "shapes"
    # one object per class (and kind of point), each drawing exactly that class's points
    got = page.evaluate("""__spacefold.viewer.drawing.shapes.map((p) =>
        [p.userData.kind, p.userData.cls, Array.from(p.geometry.index.array)])""")
    assert sorted(c for _, c, _ in got) == [0, 1, 2, 3]
    for kind, c, idx in got:
        assert kind == "train" and np.all(tr.labels[idx] == c)
        assert len(idx) == (tr.labels == c).sum()
    # greyscale: the classes differ by shape alone (a point's fill of its bounding box)
    page.evaluate("document.documentElement.style.filter = 'grayscale(1)'")
    page.screenshot(path=str(SHOTS / "markers-shapes-greyscale.png"))
    fill = {}
    for c in range(4):
        m = _blob(page, c)
        ys, xs = np.nonzero(m)
        box = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        fill[c] = box.mean()
        if c == 2:                                  # a triangle: wide at the bottom
            assert box[-2].sum() > 3 * box[1].sum()
    assert abs(fill[0] - np.pi / 4) < 0.06, fill    # circle
    assert fill[1] > 0.93, fill                     # square
    assert abs(fill[2] - 0.5) < 0.08 and abs(fill[3] - 0.5) < 0.08, fill   # triangle, diamond
    assert page.errors == []
    page.close()


def test_m_toggles_shapes_in_presenter_mode(ctx: Any, page_of: tuple) -> None:
    _, html = page_of
    page = open_page(ctx, html.as_uri() + "#present")
    before = _canvas(page)
    page.keyboard.press("m")
    assert page.evaluate("__spacefold.viewer.markers") == "shapes"
    assert page.locator("select.sf-markers").input_value() == "shapes"
    after = _canvas(page)
    assert (np.abs(after - before).sum(axis=2) > 30).mean() > 0.005
    page.keyboard.press("m")
    assert page.evaluate("__spacefold.viewer.markers") == "dots"
    assert page.errors == []
    page.close()
