"""The viewer's "linear regions" toggle in real headless Chromium (issue 11): it draws the
edges of the exact pieces of a piecewise-linear network, as many as the trace has, carried
through the stages so they bend with the plane; a network with tanh gets a disabled toggle
that says why.

Screenshots go to out/viewer-shots/ (look at them). Skipped where /usr/bin/chromium or
Playwright is missing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spacefold as sf
from spacefold.export import write_html
from spacefold.server import browser
from viewer_pages import open_page

pytestmark = pytest.mark.usefixtures("require_browser")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"


def _net(act: str) -> tuple[Any, sf.Trace]:
    import torch

    torch.set_num_threads(1)
    d = sf.dataset("spiral", classes=3, n=300, noise=0.2, seed=0)
    net = sf.build("2-8-8-3", activation=act, seed=0)
    sf.train(net, d, epochs=40, lr=0.03, seed=0)
    return net, sf.trace(net, d, grid=sf.GridSpec(lines=15, verts=60, regions=32))


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, sf.Trace, Path]]:
    folder = tmp_path_factory.mktemp("linear")
    out = {}
    for name, act in (("relu", "relu"), ("tanh", "relu,tanh")):
        net, tr = _net(act)
        out[name] = (net, tr, write_html(tr, folder / f"{name}.html", title=name))
    return out


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1000, 640) as c:
        yield c


def _open(ctx: Any, html: Path, hash_: str = "") -> Any:
    return open_page(ctx, html.as_uri() + hash_)


def _shot(page: Any, name: str) -> np.ndarray:
    from PIL import Image

    page.wait_for_function("window.__spacefold.settled", timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    png = page.locator("canvas.sf-gl").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def _on_segments(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each point's distance from the nearest segment a[i]-b[i]."""
    ab = b - a
    t = np.clip(((points[:, None] - a[None]) * ab[None]).sum(-1) / (ab ** 2).sum(-1), 0, 1)
    near = a[None] + t[..., None] * ab[None]
    return np.sqrt(((near - points[:, None]) ** 2).sum(-1)).min(axis=1)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_toggle_draws_every_edge_of_the_pieces(ctx: Any, pages: dict, theme: str) -> None:
    net, tr, html = pages["relu"]
    page = _open(ctx, html)
    if theme == "light":
        page.locator("select.sf-theme").select_option("light")
    assert not page.evaluate("__spacefold.linear().visible")
    off = _shot(page, f"linear-off-{theme}")
    page.locator("input.sf-linear").check()
    on = _shot(page, f"linear-on-{theme}")
    got = page.evaluate("__spacefold.linear()")
    pieces = tr.linear_regions(tr.extent)
    assert got["visible"] and got["info"]["pieces"] == len(pieces)
    assert got["segments"] == got["info"]["edges"] == got["info"]["shown"] > 0
    assert f"{len(pieces)} pieces" in page.locator(".sf-lr").inner_text()
    changed = float((np.abs(on - off).sum(axis=2) > 30).mean())
    assert changed > 0.003, f"only {changed:.2%} of the pixels changed"
    # at the input every edge of every piece is drawn (its midpoint lies on a drawn segment)
    ends = np.array(got["positions"]).reshape(-1, 2, 3)[:, :, :2]
    span = tr.extent[1] - tr.extent[0]
    for p in pieces:
        mids = (p.polygon + np.roll(p.polygon, -1, axis=0)) / 2
        x0, x1, y0, y1 = tr.extent
        inner = ~((np.abs(mids[:, 0] - x0) < 1e-9) | (np.abs(mids[:, 0] - x1) < 1e-9) |
                  (np.abs(mids[:, 1] - y0) < 1e-9) | (np.abs(mids[:, 1] - y1) < 1e-9))
        if inner.any():
            assert _on_segments(mids[inner], ends[:, 0], ends[:, 1]).max() < 1e-5 * span
    # at the output the straight segments are exact: each midpoint is the network's value
    # there (torch), so the edges bend with the plane as the grid does
    import torch

    last = len(tr.stages) - 1
    page.evaluate(f"__spacefold.setT({last})")
    out = np.array(page.evaluate("__spacefold.linear().positions")).reshape(-1, 2, 3)
    with torch.no_grad():
        want = net(torch.tensor(ends.mean(axis=1), dtype=torch.float32)).numpy()
    scale = np.abs(tr.stages[last].values).max()
    assert np.abs(out.mean(axis=1) - want).max() < 1e-4 * scale
    assert page.evaluate("__spacefold.view.lr") == "1"
    assert page.errors == []
    page.close()


def test_the_toggle_is_disabled_for_a_tanh_net(ctx: Any, pages: dict) -> None:
    _, _, html = pages["tanh"]
    page = _open(ctx, html)
    box = page.locator("input.sf-linear")
    assert box.is_disabled()
    label = page.locator("label", has=box)
    reason = "linear regions need piecewise-linear activations; layer 2 is tanh"
    assert label.get_attribute("title") == reason
    assert label.get_attribute("data-reason") == reason
    page.keyboard.press("l")
    assert page.evaluate("__spacefold.linear()") == {
        "info": {"reason": reason}, "segments": 0, "visible": False, "positions": []}
    _shot(page, "linear-tanh-disabled")
    assert page.errors == []
    page.close()
