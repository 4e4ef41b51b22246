"""The live app as a teacher uses it, in headless Chromium against a real server: a link
copied after training names its epoch, a parametrised activation in a shared link comes back,
Reset says what it did, the chart follows the theme, and the page logs no error (not even a
missing favicon). Screenshots go to out/viewer-shots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from live_server import serving
from spacefold.server import browser
from spacefold.server.app import create_app
from viewer_pages import FIRST_FRAME

pytestmark = pytest.mark.usefixtures("require_browser")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"
READY = "window.__spacefoldApp && " + FIRST_FRAME
DONE = "document.querySelector('button.sf-train').disabled"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(lambda _: create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1024, 768) as c:
        yield c


def _open(ctx: Any, url: str) -> Any:
    """A page at ``url`` once drawn; its console errors and page errors in ``page.errors``."""
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)
    page.errors = errors
    return page


def test_a_link_copied_after_training_names_its_epoch(ctx: Any, server: str) -> None:
    """Train to the end and copy the address bar, touching nothing else: the link says the
    epoch, so the fresh page offers to reproduce the run instead of showing epoch 0."""
    page = _open(ctx, server + "?dataset=moons&n=100&arch=2-4-2&epochs=40&stage=0"
                 "&activation=tanh")                      # no linear regions to come
    page.locator("button.sf-train").click()
    page.wait_for_function(DONE, timeout=60_000)
    page.wait_for_timeout(1_000)                     # the URL is written 150 ms after a change
    assert "epoch=40" in page.evaluate("location.search")
    # the greyed buttons are explained
    assert "the run is finished at epoch 40" in page.locator(".sf-notice").inner_text()
    fresh = _open(ctx, page.evaluate("location.href"))
    assert "press Train to reproduce" in fresh.locator(".sf-notice").inner_text()
    assert page.errors == [] and fresh.errors == []
    page.close()
    fresh.close()


def test_a_parametrised_activation_in_a_link_is_kept(ctx: Any, server: str) -> None:
    """``activation=leaky_relu:0.2`` (the CLI's spelling) was silently trained as relu."""
    page = _open(ctx, server + "?dataset=moons&n=80&arch=2-3-3-2"
                 "&activation=leaky_relu:0.2,tanh&stage=0")
    acts = page.locator("select.sf-act")
    assert [acts.nth(i).input_value() for i in range(2)] == ["leaky_relu:0.2", "tanh"]
    page.wait_for_function("location.search.includes('activation=leaky_relu%3A0.2%2Ctanh')",
                           timeout=10_000)
    assert page.locator(".sf-error").inner_text() == ""
    assert not page.locator("button.sf-train").is_disabled()
    page.close()


def test_reset_says_reset_and_the_chart_follows_the_theme(ctx: Any, server: str) -> None:
    """After a change then Reset, the notice said the old change ("activation changed");
    the loss chart stayed dark in the light theme until the next training update."""
    page = _open(ctx, server + "?dataset=moons&n=80&arch=2-3-2&epochs=30&stage=0")
    page.locator("select.sf-act").select_option("tanh")
    page.wait_for_function("document.querySelector('.sf-notice').textContent"
                           ".includes('activation changed')", timeout=10_000)
    page.locator("button.sf-step").click()
    page.wait_for_function("/epoch [1-9]/.test(document.querySelector('.sf-metrics')"
                           ".textContent)", timeout=30_000)
    page.locator("button.sf-reset").click()
    page.wait_for_function("/epoch 0\\b/.test(document.querySelector('.sf-metrics')"
                           ".textContent)", timeout=30_000)
    page.wait_for_timeout(300)                       # the server's config answer
    assert "reset to the seed" in page.locator(".sf-notice").inner_text()
    page.locator("select").filter(has_text="light").select_option("light")
    corner = page.evaluate("Array.from(document.querySelector('canvas.sf-chart')"
                           ".getContext('2d').getImageData(2, 2, 1, 1).data)")
    assert min(corner[:3]) > 200, corner             # the light background, at once
    page.screenshot(path=str(SHOTS / "app-light-chart.png"))
    assert page.errors == []
    page.close()
