"""A Trace as data for the web viewer, and as one self-contained interactive .html file.

>>> import spacefold as sf
>>> from spacefold.export import payload
>>> d = sf.dataset("cloud", n=50)
>>> p = payload(sf.trace(sf.build("2-3-2", activation="relu"), d))
>>> [s["name"] for s in p["stages"]][:3], p["dims"]
(['input', 'layer 1 · W·x', 'layer 1 · +b'], 3)

The viewer only draws these numbers; it never redoes the maths. Positions are the trace's
``display(k, dims)`` (the true coordinates for stages of ≤ 3 units, the labelled PCA for
wider ones), sent as little-endian float32 in base64: exact to float32 and ~4x smaller than
decimal JSON. Between stages the viewer interpolates on a straight line, as ``Trace.at`` /
``Trace.display_at`` do.

The live app sends the same payload as one binary WebSocket message instead (:func:`pack`):
the JSON with each array's bytes replaced by an offset into a raw little-endian blob, so
nothing is base64-encoded, parsed as text or copied on the way into the viewer's typed arrays.
"""

from __future__ import annotations

import base64
import html
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from spacefold._atomic import atomic_path
from spacefold.colors import CLASS_COLORS
from spacefold.errors import RenderError
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace import Trace

FORMAT = 1
MAX_POINTS = 200_000          # more points than this makes a page no browser draws smoothly
MAX_EDGES = 65_536            # weights per layer sent for the network diagram
REGION_RES = 40               # vertices per side of the decision-region mesh (64: 25% fewer fps)
REGION_TEXTURE = 512          # texels per side of the class texture the mesh carries
TEXTURE_BUDGET = 4e9          # texels × weights: above it (a wide, deep net) a smaller texture
UNIT_RES = 32                 # pixels per side of a neuron's heatmap
UNIT_MAPS = 14                # heatmaps per layer: the units the diagram draws
STATIC = Path(__file__).parent / "server" / "static"
BUNDLE = STATIC / "viewer.js"


def _b64(a: np.ndarray, dtype: str, raw: bool = False) -> dict[str, Any]:
    """An array as {"dtype", "shape", "b64"}: raw little-endian bytes in base64 (``raw``:
    the bytes themselves as "raw", for :func:`pack`)."""
    arr = np.ascontiguousarray(np.asarray(a), dtype=np.dtype(dtype).newbyteorder("<"))
    data = arr.tobytes()
    if raw:
        return {"dtype": dtype, "shape": list(arr.shape), "raw": data}
    return {"dtype": dtype, "shape": list(arr.shape),
            "b64": base64.b64encode(data).decode("ascii")}


def _rgb8(colors: np.ndarray, raw: bool = False) -> dict[str, Any]:
    return _b64(np.clip(np.round(np.asarray(colors) * 255), 0, 255), "u1", raw)


def _region_mesh(trace: Trace, res: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """A res×res vertex mesh of the input plane carried through every stage.

    Returns the (res·res, 2) input vertices, their values at each stage and the class the
    network gives each vertex, so the regions warp with the points and the grid.
    """
    assert trace.extent is not None
    x0, x1, y0, y1 = trace.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, res), np.linspace(y0, y1, res))
    verts = np.stack([gx.ravel(), gy.ravel()], axis=1)          # (res·res, 2), row 0 = ymin
    values = trace.carry(verts)
    return verts, values, trace.predict(values[-1])


def payload(trace: Trace, *, title: str | None = None, regions: bool = True,
            region_res: int = REGION_RES, region_texture: int | None = None,
            unit_maps: bool = True,
            raw: bool = False, groups: tuple[int, int, int] | None = None,
            grid_step: int = 1, unit_res: int | None = None) -> dict[str, Any]:
    """Everything the viewer draws, as a JSON-ready dict (see the module docstring).

    ``region_res`` vertices per side of the decision-region mesh, ``region_texture`` texels per
    side of the class texture it carries (0: none; None: 512, less for a network so big that
    512² of its forward passes would hold up a live update); ``unit_maps=False`` leaves
    out the per-neuron heatmaps (the live app sends them with every few updates only).
    ``raw``: arrays carry their bytes (``"raw"``) for :func:`pack` instead of base64.
    ``groups``: (generated training, user-added training, held-out) point counts, in the
    order of the trace's points; the viewer draws each kind with its own marker.
    ``grid_step``: keep every grid_step-th vertex of each grid polyline (and its last), for a
    smaller payload (notebooks); ``unit_res``: pixels per side of the neuron heatmaps.
    """
    if not isinstance(trace, Trace):
        raise RenderError(f"cannot export a {type(trace).__name__}; give a Trace")
    if trace.n > MAX_POINTS:
        raise RenderError(f"trace has {trace.n} points; the viewer takes at most {MAX_POINTS}")
    if not 1 <= int(grid_step) <= 64:
        raise RenderError(f"grid_step {grid_step} must be in [1, 64]")
    if groups is not None and (len(groups) != 3 or min(groups) < 0 or sum(groups) != trace.n):
        raise RenderError(f"groups {groups} must be 3 counts adding up to {trace.n} points")
    dims = 3 if trace.max_dim >= 3 else 2
    mesh = None
    if regions and trace.extent is not None and trace.stages[0].dim == 2:
        mesh = _region_mesh(trace, region_res)

    stages = []
    for k, s in enumerate(trace.stages):
        proj = trace.projection(k, dims)
        st: dict[str, Any] = {
            "name": s.name, "short": s.short, "kind": s.kind, "layer": s.layer, "dim": s.dim,
            "projection": proj.kind, "label": proj.label,
            "points": _b64(trace.display(k, dims), "f4", raw),              # (N, dims)
        }
        st.update(source=s.source, parent=list(s.parents) if len(s.parents) > 1
                  else (s.parents[0] if s.parents else None), base=s.base)
        g = trace.display_grid(k, dims)
        if g is not None and grid_step > 1:
            keep = sorted(set(range(0, g.shape[1], int(grid_step))) | {g.shape[1] - 1})
            g = g[:, keep]
        if g is not None:
            st["grid"] = _b64(g, "f4", raw)                                 # (L, V, dims)
        if mesh is not None:
            st["regions"] = _b64(proj(mesh[1][k]), "f4", raw)               # (R·R, dims)
        stages.append(st)

    layers = []
    for op in trace.ops:
        if op.kind == "linear":
            w = np.asarray(op.params["W"])
            entry: dict[str, Any] = {"layer": op.layer, "d_in": op.d_in, "d_out": op.d_out}
            if w.size <= MAX_EDGES:
                entry["W"] = _b64(w, "f4", raw)                             # (out, in)
            layers.append(entry)
        elif op.kind == "bias" and layers:
            layers[-1]["b"] = _b64(np.asarray(op.params["b"]), "f4", raw)
        elif layers and op.kind in ACTIVATIONS:   # norms and sums keep the activation
            layers[-1]["activation"] = op.kind
            layers[-1]["label"] = ACTIVATIONS[op.kind].label

    if mesh is not None and unit_maps:
        _unit_maps(trace, layers, raw, UNIT_RES if unit_res is None else int(unit_res))

    colors = {"position": _rgb8(trace.colors("position"), raw)}
    if trace.labels is not None:
        colors["class"] = _rgb8(trace.colors("class"), raw)
    widths = [trace.stages[0].dim] + [entry["d_out"] for entry in layers]
    meta = {k: v for k, v in trace.meta.items()
            if isinstance(v, (str, int, float, bool, list)) and k != "trace"}
    acc = trace.accuracy()
    out: dict[str, Any] = {
        "format": FORMAT,
        "title": title or str(trace.meta.get("title") or trace.meta.get("arch") or "spacefold"),
        "n": trace.n,
        "dims": dims,
        "classes": trace.classes,
        "widths": widths,
        "meta": json.loads(json.dumps(meta, default=str)),
        "accuracy": acc,
        "extent": list(trace.extent) if trace.extent is not None else None,
        "labels": _b64(trace.labels, "i4", raw) if trace.labels is not None else None,
        # the network's class for each point (the hover panel says it)
        "predicted": _b64(trace.predict(), "i4", raw) if trace.classes > 1 else None,
        "colors": colors,
        "palette": _rgb8(CLASS_COLORS, raw),
        "stages": stages,
        "layers": layers,
        "links": [list(link) for link in trace.links()],   # [from layer, to layer, kind]
    }
    if groups is not None:
        out["groups"] = [int(g) for g in groups]
    if mesh is not None:
        out["regions"] = {"res": region_res, "labels": _b64(mesh[2], "u1", raw)}
        if region_texture is None:
            weights = sum(int(np.asarray(op.params["W"]).size) for op in trace.ops
                          if op.kind == "linear")
            region_texture = int(min(REGION_TEXTURE,
                                     max(64, (TEXTURE_BUDGET / max(weights, 1)) ** 0.5)))
        if region_texture and trace.extent is not None:
            # the class at every texel centre of the input plane (exact: Trace.region_map),
            # drawn on the warped mesh so boundaries stay sharp between its vertices
            tex = trace.region_map(trace.extent, (region_texture, region_texture))
            out["regions"]["texture"] = {"res": region_texture,
                                         "labels": _b64(tex, "u1", raw)}
    return out


def _unit_maps(trace: Trace, layers: list[dict[str, Any]], raw: bool = False,
               res: int = UNIT_RES) -> None:
    """Per-neuron heatmaps: each layer's output units (as drawn in the diagram, at most
    UNIT_MAPS) over a UNIT_RES² raster of the input plane, as ``layers[l]["units"]``."""
    assert trace.extent is not None
    x0, x1, y0, y1 = trace.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, res), np.linspace(y0, y1, res))
    values = trace.carry(np.stack([gx.ravel(), gy.ravel()], axis=1))   # row 0 = ymin
    last = {s.layer: k for k, s in enumerate(trace.stages) if s.layer > 0}
    for entry in layers:
        k = last.get(entry["layer"])
        if k is not None:
            entry["units"] = _b64(values[k][:, :UNIT_MAPS], "f4", raw)  # (R·R, ≤ UNIT_MAPS)
            entry["unit_res"] = res


# -- the binary form of a message (the live app's updates) --------------------------------------
MAGIC = b"SFB1"
ALIGN = 8         # every array starts at a multiple of 8 bytes: typed arrays view it in place


def pack(message: dict[str, Any]) -> bytes:
    """A message holding ``payload(..., raw=True)`` arrays as one binary blob.

    Layout: ``b"SFB1"``, the header's length (uint32, little-endian), the header (UTF-8 JSON:
    the message with each array as ``{"dtype", "shape", "offset", "nbytes"}``), zero padding
    to a multiple of 8, then the arrays' bytes, each at ``offset`` from there (a multiple of
    8). Raises ValueError for NaN or infinity in the JSON part, as ``json.dumps`` does.
    """
    chunks: list[bytes] = []
    size = 0

    def walk(v: Any) -> Any:
        nonlocal size
        if isinstance(v, dict):
            if "raw" in v:
                data = v["raw"]
                pad = -size % ALIGN
                if pad:
                    chunks.append(bytes(pad))
                    size += pad
                chunks.append(data)
                ref = {"dtype": v["dtype"], "shape": v["shape"], "offset": size,
                       "nbytes": len(data)}
                size += len(data)
                return ref
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    header = json.dumps(walk(message), allow_nan=False, separators=(",", ":"),
                        default=str).encode()
    head = MAGIC + struct.pack("<I", len(header)) + header
    return b"".join([head, bytes(-len(head) % ALIGN), *chunks])


def unpack(data: bytes) -> dict[str, Any]:
    """The message of :func:`pack` with its arrays in the JSON form (``"b64"``), as
    :func:`payload` gives them (for tests and Python clients)."""
    if data[:4] != MAGIC:
        raise ValueError(f"not a packed spacefold message (starts with {data[:4]!r})")
    (n,) = struct.unpack_from("<I", data, 4)
    head = 8 + n
    base = head + (-head % ALIGN)
    blob = memoryview(data)[base:]

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if "offset" in v and "nbytes" in v and "dtype" in v:
                raw = blob[v["offset"]:v["offset"] + v["nbytes"]]
                return {"dtype": v["dtype"], "shape": v["shape"],
                        "b64": base64.b64encode(raw).decode("ascii")}
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    out: dict[str, Any] = walk(json.loads(bytes(data[8:head])))
    return out


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
            groups: tuple[int, int, int] | None = None) -> str:
    """One self-contained page: the viewer bundle and the trace's data, no server needed.
    Opened as ``page.html#present`` it starts in presenter mode."""
    data = payload(trace, title=title, groups=groups)
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
