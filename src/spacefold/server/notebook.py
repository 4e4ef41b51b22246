"""The viewer inside Jupyter: ``sf.view(trace)`` returns an anywidget widget.

>>> import spacefold as sf                                          # doctest: +SKIP
>>> d = sf.dataset("spiral", classes=3, n=300)                      # doctest: +SKIP
>>> sf.view(sf.trace(sf.build("2-3-3"), d))                         # doctest: +SKIP

The widget's front end is the same bundle as the HTML export and the app, loaded once per
notebook by a code widget that every view refers to; each view carries a trimmed copy of the
trace's data and, for a notebook shown without widgets (a static site), a PNG of its stage
and a line of text.

A bare ``trace`` as the last expression of a cell shows the same viewer: ``import spacefold``
registers :func:`mimebundle` with the running IPython kernel's display formatter (the
``trace`` package itself never imports the viewer). Without anywidget the cell gets the
self-contained HTML export in an iframe instead.
"""

from __future__ import annotations

import base64
import functools
import html
import json
from typing import Any

from spacefold.errors import RenderError
from spacefold.export import bundle, payload, to_html
from spacefold.trace import Trace

# The viewer's code lives in one widget per kernel (ViewerCode): its module defines
# ``spacefold`` and hands it over as the widget's exports. Every TraceView's own module is a
# few lines that get it through anywidget's host (0.10+), or from globalThis where an older
# front end has no host. A notebook then stores the ~600 KB bundle once, not once per view.
_CODE_ESM = """
export default {
  initialize() {
    globalThis.spacefold = spacefold;
    return { spacefold };
  },
  render({ el }) { el.style.display = "none"; },
};
"""

_VIEW_ESM = """
async function viewer(model, host) {
  if (host && host.getWidget) {
    try { return (await host.getWidget(model.get("code"))).exports.spacefold; } catch (e) {}
  }
  for (let i = 0; i < 200 && !globalThis.spacefold; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!globalThis.spacefold) throw new Error("spacefold: the viewer code widget is missing");
  return globalThis.spacefold;
}

export default {
  async render({ model, el, host }) {
    const sf = await viewer(model, host);
    el.style.position = "relative";
    const size = () => { el.style.height = model.get("height") + "px"; };
    size();
    const opts = (t) => ({ stage: t, present: model.get("present"),
                           view: { diagram: model.get("diagram") ? "1" : "0" } });
    let v = sf.mount(el, JSON.parse(model.get("data")), opts(model.get("stage")));
    model.on("change:data", () => {
      const t = v.t;
      v.dispose();
      v = sf.mount(el, JSON.parse(model.get("data")), opts(t));
    });
    model.on("change:height", size);
    model.on("change:diagram", () => v.setDiagram(model.get("diagram")));
    return () => v.dispose();
  },
};
"""

# A notebook's copy of the data: every 8th vertex of each grid line (and its last), smaller
# region, class-texture and heatmap rasters; the export (sf.render(t, "x.html")) keeps everything.
NOTEBOOK_GRID_STEP = 8
NOTEBOOK_REGION_RES = 24
NOTEBOOK_UNIT_RES = 16
NOTEBOOK_REGION_TEXTURE = 128      # texels per side of the exact class texture (export: 512)
PNG_SIZE = (480, 270)


@functools.cache
def _classes() -> tuple[Any, Any]:
    """The widget classes, made on first use (anywidget is optional)."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise RenderError("sf.view needs anywidget: pip install anywidget "
                          "(or save a page with sf.render(trace, 'view.html'))") from None

    class ViewerCode(anywidget.AnyWidget):
        """The viewer bundle, once per kernel (every TraceView refers to it)."""

        _esm = bundle() + "\n" + _CODE_ESM

    class TraceView(anywidget.AnyWidget):
        """One trace in the spacefold viewer; ``data`` is spacefold.export.payload as JSON.

        ``height`` (pixels) and ``diagram`` (the network diagram unfolded) can be set while
        it is shown; ``present`` starts it in presenter mode. Its rich display also carries
        a PNG of stage ``stage`` and a text line, for a notebook shown without widgets.
        """

        _esm = _VIEW_ESM
        data = traitlets.Unicode("").tag(sync=True)
        code = traitlets.Unicode("").tag(sync=True)
        height = traitlets.Int(520).tag(sync=True)
        stage = traitlets.Float(0.0).tag(sync=True)
        diagram = traitlets.Bool(True).tag(sync=True)
        present = traitlets.Bool(False).tag(sync=True)

        @traitlets.validate("height")
        def _height(self, proposal: Any) -> int:
            h = int(proposal["value"])
            if not 200 <= h <= 4000:
                raise traitlets.TraitError(f"height {h} must be in [200, 4000] pixels")
            return h

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            got = super()._repr_mimebundle_(**kwargs)
            data, md = (got if isinstance(got, tuple) else (got or {}, {}))
            data = dict(data or {})
            trace = getattr(self, "_trace", None)
            if trace is not None:
                data["image/png"] = base64.b64encode(
                    stage_png(trace, round(self.stage))).decode("ascii")
                data["text/plain"] = summary(trace)
            return data, md

    return ViewerCode, TraceView


_CODE: list[Any] = []    # the kernel's ViewerCode widget (made once)


def _code_ref() -> str:
    code_cls, _ = _classes()
    if not _CODE or getattr(_CODE[0], "comm", None) is None:     # none yet, or closed
        _CODE[:] = [code_cls()]
    return f"anywidget:{_CODE[0].model_id}"


def _widget_class() -> Any:
    return _classes()[1]


def stage_png(trace: Trace, stage: int = 0, size: tuple[int, int] = PNG_SIZE) -> bytes:
    """A PNG of one stage as the videos draw it (the picture a static notebook shows)."""
    import tempfile
    from pathlib import Path

    from spacefold.render import backend as render_backend
    from spacefold.render import encode
    from spacefold.scenes.api import to_timeline

    stills = to_timeline(trace).stills()
    frame = stills[min(max(int(stage), 0), len(stills) - 1)]
    backend = render_backend(None, size)
    try:
        img = backend.draw(frame).copy()
    finally:
        backend.close()
    with tempfile.TemporaryDirectory(prefix="spacefold-png-") as tmp:
        path = Path(tmp) / "stage.png"
        encode.write_png(path, img)
        return path.read_bytes()


def view(trace: Trace, *, height: int = 520, title: str | None = None, stage: int = 0,
         diagram: bool = True, present: bool = False) -> Any:
    """An interactive view of ``trace`` for a notebook cell (needs ``pip install anywidget``).

    The same viewer as ``sf.render(trace, "x.html")``: stage slider and play, 3-D orbit,
    hover, click for a point's path, the network diagram (``diagram=False``: folded),
    presenter mode (``present=True``; keys ←/→, Space, F, +/−, C once it has focus). Set
    ``.height`` or ``.diagram`` on the widget to change them while it is shown.
    """
    cls = _widget_class()
    if not isinstance(trace, Trace):
        raise RenderError(f"sf.view takes a Trace, got {type(trace).__name__}")
    if not 200 <= int(height) <= 4000:
        raise RenderError(f"height {height} must be in [200, 4000] pixels")
    if not 0 <= int(stage) < len(trace.stages):
        raise RenderError(f"stage {stage} must be in [0, {len(trace.stages) - 1}]")
    data = payload(trace, title=title, region_res=NOTEBOOK_REGION_RES,
                   region_texture=NOTEBOOK_REGION_TEXTURE,
                   grid_step=NOTEBOOK_GRID_STEP, unit_res=NOTEBOOK_UNIT_RES)
    w = cls(data=json.dumps(data, separators=(",", ":")), code=_code_ref(),
            height=int(height), stage=float(stage), diagram=bool(diagram),
            present=bool(present))
    w._trace = trace
    return w


def summary(trace: Trace) -> str:
    """One line for the text/plain part of a trace's rich display."""
    arch = trace.meta.get("arch") or f"{trace.stages[0].dim}-…-{trace.stages[-1].dim}"
    data = f" on {trace.meta['dataset']}" if "dataset" in trace.meta else ""
    return f"<spacefold.Trace {arch}{data}: {trace.n} points, {len(trace.stages)} stages>"


def mimebundle(trace: Trace, height: int = 520) -> dict[str, Any]:
    """The rich display of a trace: the :func:`view` widget, or (without anywidget) the HTML
    export in a sandboxed iframe. Registered for ``Trace`` by ``import spacefold`` inside a
    notebook kernel; IPython calls it with the trace alone."""
    try:
        widget = view(trace, height=height)
    except RenderError as e:
        if "anywidget" not in str(e):
            raise
        page = to_html(trace)
        frame = (f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;'
                 f'height:{int(height)}px;border:0" sandbox="allow-scripts"></iframe>')
        return {"text/plain": summary(trace), "text/html": frame,
                "image/png": base64.b64encode(stage_png(trace)).decode("ascii")}
    got = widget._repr_mimebundle_()          # (data, metadata): the widget, PNG, text
    return dict(got[0] if isinstance(got, tuple) else got)

