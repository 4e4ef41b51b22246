"""One self-contained .html page: the viewer bundle and a trace's data, no server needed."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spacefold._atomic import atomic_path
from spacefold.errors import RenderError
from spacefold.export.data import payload
from spacefold.trace import Trace

STATIC = Path(__file__).parents[1] / "server" / "static"
BUNDLE = STATIC / "viewer.js"


def bundle() -> str:
    """The built viewer (an IIFE defining ``window.spacefold``)."""
    if not BUNDLE.is_file():
        raise RenderError(f"the web viewer is not built ({BUNDLE} is missing); run "
                          f"`cd web && npm ci && npm run build`")
    return BUNDLE.read_text(encoding="utf-8")


def _inline_json(data: dict[str, Any]) -> str:
    # inside <script>, "</" could end the element: escape it the JSON way
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>html,body{{margin:0;height:100%;background:#1a1a1f;overflow:hidden}}
#spacefold{{position:absolute;inset:0}}</style>
</head>
<body>
<div id="spacefold"></div>
<script id="spacefold-data" type="application/json">{data}</script>
<script>{js}</script>
<script>spacefold.mount(document.getElementById("spacefold"),
  JSON.parse(document.getElementById("spacefold-data").textContent));</script>
</body>
</html>
"""


def to_html(trace: Trace, *, title: str | None = None,
            groups: tuple[int, int, int] | None = None, linear_regions: bool = True) -> str:
    """One self-contained page: the viewer bundle and the trace's data, no server needed.
    Opened as ``page.html#present`` it starts in presenter mode. ``linear_regions``: with the
    edges of a piecewise-linear network's linear regions (the viewer's toggle)."""
    data = payload(trace, title=title, groups=groups, linear_regions=linear_regions)
    js = bundle()
    if "</script" in js.lower():
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return PAGE.format(title=html.escape(data["title"]), data=_inline_json(data), js=js)


def write_html(trace: Trace, path: str | Path, *, title: str | None = None) -> Path:
    """Write :func:`to_html` to ``path`` atomically (a failure leaves no file)."""
    page = to_html(trace, title=title)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return Path(path)


def render(target: Any, path: str | os.PathLike[str], *,
           progress: Callable[[int, int], None] | None = None, **options: Any) -> Path:
    """``spacefold.render``: :func:`spacefold.scenes.api.render` (videos, stills, .npz and
    its options; ``progress(done, total)`` is called per frame), whose .html page is the
    viewer's, written by :func:`write_html` here (the scenes do not import the export layer).
    """
    from spacefold.scenes.api import render as render_

    return render_(target, path, progress=progress, page=write_html, **options)
