"""The HTML viewer draws graph models: a residual LayerNorm SiLU model and a concatenation.

Stage names come from the trace, the diagram shows the skip connections as arcs, and the
points move from f(x) to x + f(x) exactly as ``Trace.display_at`` says. Screenshots go to
out/viewer-shots/ (look at them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import spacefold as sf
from spacefold.export import payload, write_html
from spacefold.server import browser
from viewer_pages import open_page

pytestmark = pytest.mark.usefixtures("require_browser")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "viewer-shots"


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.silu(self.fc(self.norm(x)))


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.a(x), torch.tanh(self.b(x))], dim=-1)


def residual_trace() -> sf.Trace:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), Block(3), Block(3), nn.Linear(3, 5)).eval()
    return sf.trace(model, sf.dataset("spiral", n=300, seed=0))


@pytest.fixture(scope="module")
def ctx() -> Iterator[Any]:
    with browser.chromium(1000, 640) as c:
        yield c


def _open(ctx: Any, html: Path) -> Any:
    return open_page(ctx, html.as_uri())


def test_payload_carries_sources_parents_and_links() -> None:
    tr = residual_trace()
    p = payload(tr)
    add = next(s for s in p["stages"] if s["kind"] == "add")
    assert add["parent"] == [2, 7] and add["base"] == 7 and add["source"] == "add"
    assert p["stages"][3]["source"] == "1.norm" and p["stages"][3]["parent"] == 2
    assert p["links"] == [[1, 2, "add"], [2, 3, "add"]]
    assert [layer.get("label") for layer in p["layers"]] == [None, "SiLU", "SiLU", None]


def test_residual_model_in_the_viewer(ctx: Any, tmp_path: Path) -> None:
    tr = residual_trace()
    html = write_html(tr, tmp_path / "res.html", title="residual")
    page = _open(ctx, html)
    assert page.evaluate("__spacefold.stages") == [s.name for s in tr.stages]
    assert page.locator(".sf-diagram path.sf-link").count() == 2
    labels = page.locator(".sf-diagram .sf-link-label").all_text_contents()
    assert labels == ["+ skip", "+ skip"]
    k = next(s.index for s in tr.stages if s.kind == "add")
    idx = [0, 17, 150, tr.n - 1]
    for alpha in (0.0, 0.5, 1.0):
        page.evaluate(f"__spacefold.setT({k - 1 + alpha})")
        got = np.array(page.evaluate(f"__spacefold.positions({idx})"))
        want = tr.at(k, alpha)[idx]             # 3-D stages: the true coordinates
        np.testing.assert_allclose(got, want, atol=2e-6 * max(1.0, float(np.abs(want).max())))
    # halfway through the sum: f(x) + skip/2, the arc of that sum lit
    page.evaluate(f"__spacefold.setT({k - 0.5})")
    page.wait_for_function("window.__spacefold.settled", timeout=10_000)
    assert page.locator(".sf-stage").inner_text() == tr.stages[k].name
    page.evaluate("__spacefold.setT(3)")        # a stage of the user's module: named
    page.wait_for_function("window.__spacefold.settled", timeout=10_000)
    assert page.locator(".sf-proj").inner_text().startswith("1.norm · 3-D")
    page.evaluate(f"__spacefold.setT({k - 0.5})")
    page.wait_for_function("window.__spacefold.settled", timeout=10_000)
    assert page.locator(".sf-diagram path.sf-link").first.get_attribute("opacity") == "1"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "residual-skip.png"))
    assert page.errors == []
    page.close()


def test_concatenation_in_the_viewer(ctx: Any, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(Branches(), nn.Linear(2, 2)).eval()
    tr = sf.trace(model, sf.dataset("moons", n=100, seed=0))
    k = next(s.index for s in tr.stages if s.kind == "concat")
    page = _open(ctx, write_html(tr, tmp_path / "cat.html", title="cat"))
    idx = [0, 5, 99]
    for alpha in (0.0, 0.37, 1.0):
        page.evaluate(f"__spacefold.setT({k - 1 + alpha})")
        got = np.array(page.evaluate(f"__spacefold.positions({idx})"))[:, :2]
        want, _ = tr.display_at(k, alpha)
        np.testing.assert_allclose(got, want[idx], atol=2e-6 * max(1.0, float(np.abs(want).max())))
    # b reads the input, not a's unit: an arc from the input, and no edges from a's column
    # (they drew b's weight for input 0 as an edge from a's unit)
    assert page.locator(".sf-diagram .sf-link-label").all_text_contents() == ["cat", "branch"]
    assert page.locator(".sf-diagram g.sf-edges").nth(1).locator("line").count() == 0
    assert page.locator(".sf-diagram g.sf-edges").nth(0).locator("line").count() == 2
    assert page.errors == []
    page.close()
