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


def test_a_bare_trace_in_a_notebook_kernel_shows_the_viewer(tmp_path) -> None:
    """``import spacefold`` inside a shell with rich output registers the Trace formatter;
    the display of a trace is the widget (a fresh process: spacefold is imported already)."""
    import subprocess
    import sys

    pytest.importorskip("IPython")
    code = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
import spacefold as sf
assert "spacefold.server.notebook" not in sys.modules    # nothing loaded until displayed
t = sf.trace(sf.build("2-3-2", seed=1), sf.dataset("moons", n=30))
data, md = shell.display_formatter.format(t)
view = data["application/vnd.jupyter.widget-view+json"]
print(json.dumps({"keys": sorted(data), "plain": data["text/plain"], "id": view["model_id"]}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "application/vnd.jupyter.widget-view+json" in out["keys"] and out["id"]
    assert out["plain"] == "<spacefold.Trace 2-3-2 on moons: 30 points, 6 stages>"


def test_a_terminal_shell_is_left_alone(tmp_path) -> None:
    import subprocess
    import sys

    pytest.importorskip("IPython")
    code = """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.display_formatter.active_types = ["text/plain"]     # what a terminal IPython shows
import spacefold as sf
t = sf.trace(sf.build("2-3-2", seed=1), sf.dataset("moons", n=30))
data, _ = shell.display_formatter.format(t)
assert list(data) == ["text/plain"] and data["text/plain"].startswith("Trace("), data
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_without_anywidget_the_display_is_the_html_export(tr: sf.Trace,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from spacefold.server import notebook

    def missing() -> None:
        raise RenderError("sf.view needs anywidget: pip install anywidget")

    monkeypatch.setattr(notebook, "_widget_class", missing)
    data = notebook.mimebundle(tr)
    assert sorted(data) == ["text/html", "text/plain"]
    assert data["text/html"].startswith("<iframe srcdoc=") and "spacefold.mount" in \
        data["text/html"] and "<script" not in data["text/html"]      # escaped in srcdoc
    assert data["text/plain"].startswith("<spacefold.Trace 2-3-2")
