"""``sf.view(trace)``: the anywidget widget carries the trace's payload and the same viewer
bundle; its ES module renders in headless Chromium with a stand-in widget model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spacefold as sf
from spacefold.errors import RenderError
from spacefold.server import browser

anywidget = pytest.importorskip("anywidget")


@pytest.fixture(scope="module")
def tr() -> sf.Trace:
    d = sf.dataset("cloud", n=80)
    return sf.trace(sf.build("2-3-2", activation="relu", seed=3), d,
                    grid=sf.GridSpec(lines=5, verts=20, regions=8))


def test_view_is_a_widget_with_the_payload(tr: sf.Trace) -> None:
    w = sf.view(tr, height=400)
    assert isinstance(w, anywidget.AnyWidget) and w.height == 400
    data = json.loads(w.data)
    assert [s["name"] for s in data["stages"]] == [s.name for s in tr.stages]
    assert "export default" in w._esm and "var spacefold" in w._esm
    with pytest.raises(RenderError, match="Trace"):
        sf.view("fold-222")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="height"):
        sf.view(tr, height=5)


@pytest.mark.usefixtures("require_browser")
def test_widget_module_renders_the_trace_in_chromium(tr: sf.Trace) -> None:
    w = sf.view(tr)
    with browser.chromium(900, 600) as ctx:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<body style='margin:0;background:#000'><div id='cell'></div></body>")
        page.evaluate("""async ([esm, data]) => {
            const url = URL.createObjectURL(new Blob([esm], {type: "text/javascript"}));
            const mod = await import(url);
            const model = {get: (k) => ({data, height: 500})[k], on: () => {}};
            mod.default.render({model, el: document.getElementById("cell")});
        }""", [w._esm, w.data])
        page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                               timeout=30_000)
        page.evaluate("__spacefold.setT(3)")
        got = np.array(page.evaluate("__spacefold.positions([0, 5, 79])"))
        v = tr.stages[3].values[[0, 5, 79]]
        want = np.pad(v, ((0, 0), (0, 3 - v.shape[1])))
        np.testing.assert_allclose(got, want, atol=1e-6)
        assert errors == []
