"""The viewer inside Jupyter: ``sf.view(trace)`` returns an anywidget widget.

>>> import spacefold as sf                                          # doctest: +SKIP
>>> d = sf.dataset("spiral", classes=3, n=300)                      # doctest: +SKIP
>>> sf.view(sf.trace(sf.build("2-3-3"), d))                         # doctest: +SKIP

The widget's front end is the same bundle as the HTML export and the app: the bundle's IIFE
defines ``spacefold`` inside the widget's ES module, which then mounts it on the cell.

A bare ``trace`` as the last expression of a cell shows the same viewer: ``import spacefold``
registers :func:`mimebundle` with the running IPython kernel's display formatter (the
``trace`` package itself never imports the viewer). Without anywidget the cell gets the
self-contained HTML export in an iframe instead.
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

from spacefold.errors import RenderError
from spacefold.export import bundle, payload, to_html
from spacefold.trace import Trace

_RENDER = """
export default {
  render({ model, el }) {
    el.style.position = "relative";
    el.style.height = model.get("height") + "px";
    let v = spacefold.mount(el, JSON.parse(model.get("data")));
    model.on("change:data", () => {
      const t = v.t;
      v.dispose();
      v = spacefold.mount(el, JSON.parse(model.get("data")), { stage: t });
    });
    return () => v.dispose();
  },
};
"""


@functools.cache
def _widget_class() -> Any:
    """The widget class, made on first use (anywidget is optional)."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise RenderError("sf.view needs anywidget: pip install anywidget "
                          "(or save a page with sf.render(trace, 'view.html'))") from None

    class TraceView(anywidget.AnyWidget):
        """One trace in the spacefold viewer; ``data`` is spacefold.export.payload as JSON."""

        _esm = bundle() + "\n" + _RENDER
        data = traitlets.Unicode("").tag(sync=True)
        height = traitlets.Int(520).tag(sync=True)

    return TraceView


def view(trace: Trace, *, height: int = 520, title: str | None = None) -> Any:
    """An interactive view of ``trace`` for a notebook cell (needs ``pip install anywidget``).

    The same viewer as ``sf.render(trace, "x.html")``: stage slider and play, 3-D orbit,
    hover, click for a point's path, the network diagram.
    """
    cls = _widget_class()
    if not isinstance(trace, Trace):
        raise RenderError(f"sf.view takes a Trace, got {type(trace).__name__}")
    if not 200 <= int(height) <= 4000:
        raise RenderError(f"height {height} must be in [200, 4000] pixels")
    return cls(data=json.dumps(payload(trace, title=title), separators=(",", ":")),
               height=int(height))


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
        return {"text/plain": summary(trace), "text/html": frame}
    got = widget._repr_mimebundle_()          # ipywidgets: (data, metadata) or data
    data = dict(got[0] if isinstance(got, tuple) else got)
    data["text/plain"] = summary(trace)
    return data

