"""``sf.view(trace)``: the anywidget widget carries the trace's payload and refers to one
code widget with the viewer bundle; its ES module renders in headless Chromium with a
stand-in widget model and host. A notebook executed with nbclient holds, for each view, the
widget and a PNG, the bundle once, and stays small (its size is printed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spacefold as sf
from fresh_process import run_python
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
    assert "export default" in w._esm and "var spacefold" not in w._esm    # a few lines
    from spacefold.server import notebook

    code = notebook._CODE[0]
    assert w.code == f"anywidget:{code.model_id}" and "var spacefold" in code._esm
    assert sf.view(tr).code == w.code                      # one code widget per kernel
    got = w._repr_mimebundle_()
    bundle = got[0] if isinstance(got, tuple) else got
    assert {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"} <= set(bundle)
    import base64

    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["text/plain"].startswith("<spacefold.Trace 2-3-2")
    w.height = 300                                          # settable while shown
    with pytest.raises(Exception, match="height"):
        w.height = 50
    with pytest.raises(RenderError, match="Trace"):
        sf.view("fold-222")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="height"):
        sf.view(tr, height=5)


@pytest.mark.usefixtures("require_browser")
def test_widget_module_renders_the_trace_in_chromium(tr: sf.Trace) -> None:
    from spacefold.server import notebook

    w = sf.view(tr, diagram=False)
    code = notebook._CODE[0]._esm
    with browser.chromium(900, 600) as ctx:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<body style='margin:0;background:#000'><div id='cell'></div></body>")
        # anywidget's host hands the code widget's exports to the view's module
        page.evaluate("""async ([code, esm, data]) => {
            const load = async (src) => import(URL.createObjectURL(
                new Blob([src], {type: "text/javascript"})));
            const codeMod = await load(code);
            const exports = codeMod.default.initialize({});
            delete globalThis.spacefold;            // only through the host
            const mod = await load(esm);
            const handlers = {};
            const state = {data, height: 500, stage: 0, diagram: false, present: false,
                           code: "anywidget:x"};
            window.__model = {get: (k) => state[k], on: (ev, f) => (handlers[ev] = f),
                              set: (k, v) => { state[k] = v; handlers["change:" + k]?.(); }};
            const host = {getWidget: async (ref) => ({exports})};
            await mod.default.render({model: window.__model, el: document.getElementById("cell"),
                                      host});
        }""", [code, w._esm, w.data])
        page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                               timeout=30_000)
        page.evaluate("__spacefold.setT(3)")
        got = np.array(page.evaluate("__spacefold.positions([0, 5, 79])"))
        v = tr.stages[3].values[[0, 5, 79]]
        want = np.pad(v, ((0, 0), (0, 3 - v.shape[1])))
        np.testing.assert_allclose(got, want, atol=1e-6)
        # the diagram starts folded and unfolds from the model; the height follows it
        assert not page.locator(".sf-diagram").is_visible()
        page.evaluate("__model.set('diagram', true)")
        assert page.locator(".sf-diagram").is_visible()
        page.evaluate("__model.set('height', 640)")
        assert page.evaluate("document.getElementById('cell').style.height") == "640px"
        # keys reach the viewer once it has focus (a click): → next stage, P presenter mode
        page.locator("canvas.sf-gl").click(position={"x": 5, "y": 300})
        t = page.evaluate("__spacefold.t")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("__spacefold.t") == np.floor(t) + 1
        page.keyboard.press("p")
        assert "sf-present" in page.locator(".sf-root").get_attribute("class")
        assert errors == []


def test_a_notebook_with_two_views_travels(tmp_path) -> None:
    """Executed with nbclient: each view's output holds the widget, an image/png of its stage
    and the text line; the notebook stores the viewer bundle once and stays under 2 MB with
    two views of a 1000-point 2-100-5 spiral (the size is printed)."""
    import base64

    import nbclient  # in the dev extra: this test runs in CI, it never skips
    import nbformat

    from spacefold.export import bundle

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (
        "import torch; torch.set_num_threads(1)\n"
        "import spacefold as sf\n"
        "d = sf.dataset('spiral', classes=5, n=1000, seed=0)\n"
        "net = sf.build('2-100-5', seed=0)\n"
        "sf.train(net, d, epochs=30, seed=0)\n"
        "t1 = sf.trace(net, d)\n"
        "t2 = sf.trace(sf.build('2-8-8-5', activation='tanh', seed=1), d)",
        "sf.view(t1, stage=3)",
        "t2",
    )]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    path = tmp_path / "two-views.ipynb"
    nbformat.write(nb, path)
    size = path.stat().st_size
    print(f"\nnotebook with two views: {size / 1e6:.2f} MB ({size} bytes)")
    for cell in nb.cells[1:]:
        out = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
        assert len(out) == 1, cell.outputs
        data = out[0]["data"]
        assert "application/vnd.jupyter.widget-view+json" in data
        assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
        assert data["text/plain"].startswith("<spacefold.Trace")
    text = path.read_text(encoding="utf-8")
    marker = json.dumps(bundle()[200:400])[1:-1]
    assert text.count(marker) == 1, "the viewer code is stored more than once"
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [m for m in state.values() if "data" in m["state"] and "code" in m["state"]]
    assert len(views) == 2
    assert size < 2_000_000, f"{size} bytes"


def test_a_bare_trace_in_a_notebook_kernel_shows_the_viewer(tmp_path) -> None:
    """``import spacefold`` inside a shell with rich output registers the Trace formatter;
    the display of a trace is the widget (a fresh process: spacefold is imported already)."""
    pytest.importorskip("IPython")
    code = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
import spacefold as sf
imports_none("spacefold.server.notebook")              # nothing loaded until displayed
t = sf.trace(sf.build("2-3-2", seed=1), sf.dataset("moons", n=30))
data, md = shell.display_formatter.format(t)
view = data["application/vnd.jupyter.widget-view+json"]
print(json.dumps({"keys": sorted(data), "plain": data["text/plain"], "id": view["model_id"]}))
"""
    out = json.loads(run_python(code, cwd=tmp_path).strip().splitlines()[-1])
    assert "application/vnd.jupyter.widget-view+json" in out["keys"] and out["id"]
    assert out["plain"] == "<spacefold.Trace 2-3-2 on moons: 30 points, 6 stages>"


def test_a_terminal_shell_is_left_alone(tmp_path) -> None:
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
    run_python(code, cwd=tmp_path)


def test_without_anywidget_the_display_is_the_html_export(tr: sf.Trace,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from spacefold.server import notebook

    def missing() -> None:
        raise RenderError("sf.view needs anywidget: pip install anywidget")

    monkeypatch.setattr(notebook, "_widget_class", missing)
    data = notebook.mimebundle(tr)
    assert sorted(data) == ["image/png", "text/html", "text/plain"]
    assert data["text/html"].startswith("<iframe srcdoc=") and "spacefold.mount" in \
        data["text/html"] and "<script" not in data["text/html"]      # escaped in srcdoc
    assert data["text/plain"].startswith("<spacefold.Trace 2-3-2")
