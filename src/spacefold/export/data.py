"""The viewer's data: a Trace as a JSON-ready dict of little-endian arrays (base64, or raw
bytes for :func:`spacefold.export.binary.pack`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

import spacefold.limits as limits
from spacefold.colors import CLASS_COLORS
from spacefold.errors import RenderError
from spacefold.export import linear as lin
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace import Trace
from spacefold.trace.graph import column_weights, diagram_links
from spacefold.trace.linear_parts import HEADS

FORMAT = 1
REGION_RES = 40               # vertices per side of the decision-region mesh (64: 25% fewer fps)
REGION_TEXTURE = 512          # texels per side of the class texture the mesh carries
TEXTURE_BUDGET = 4e9          # texels × weights: above it (a wide, deep net) a smaller texture
UNIT_RES = 32                 # pixels per side of a neuron's heatmap
UNIT_MAPS = 14                # heatmaps per layer: the units the diagram draws


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
            grid_step: int = 1, unit_res: int | None = None,
            linear_regions: bool = False) -> dict[str, Any]:
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
    ``linear_regions``: the edges of the network's exact linear regions, carried through every
    stage (at most ``limits.VIEWER_MAX_PIECE_EDGES``; ``out["linear"]`` says how many and,
    where they cannot be drawn, why). Without it ``out["linear"]`` says only why not, or
    ``skipped``.
    """
    if not isinstance(trace, Trace):
        raise RenderError(f"cannot export a {type(trace).__name__}; give a Trace")
    if trace.n > limits.VIEWER_MAX_POINTS:
        raise RenderError(f"trace has {trace.n} points; the viewer takes at most "
                          f"{limits.VIEWER_MAX_POINTS}")
    if not 1 <= int(grid_step) <= 64:
        raise RenderError(f"grid_step {grid_step} must be in [1, 64]")
    if groups is not None and (len(groups) != 3 or min(groups) < 0 or sum(groups) != trace.n):
        raise RenderError(f"groups {groups} must be 3 counts adding up to {trace.n} points")
    dims = 3 if trace.max_dim >= 3 else 2
    mesh = None
    if regions and trace.extent is not None and trace.stages[0].dim == 2:
        mesh = _region_mesh(trace, region_res)
    linear: dict[str, Any] = {"reason": lin.reason(trace), "skipped": True}
    edges, seg = None, None
    if linear_regions:
        linear, seg = lin.edges(trace, limits.VIEWER_MAX_PIECE_EDGES)
    if seg is not None:                 # the ends at every stage; after a softmax / sigmoid
        edges = trace.carry(seg.reshape(-1, 2))       # head they curve: not drawn there
    last = len(trace.stages) - (trace.ops[-1].kind in HEADS)

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
        if edges is not None and k < last:
            st["edges"] = _b64(proj(edges[k]), "f4", raw)                   # (2E, dims)
        stages.append(st)

    layers: list[dict[str, Any]] = []
    # the diagram's edges: each Linear's weights for the column before it (d_in: its units),
    # none for a parallel branch that reads an earlier column (an arc shows it)
    drawn, branches = column_weights(trace)
    for op in trace.ops:
        if op.kind == "linear":
            w = drawn[len(layers)]
            entry: dict[str, Any] = {"layer": op.layer, "d_out": op.d_out,
                                     "d_in": op.d_in if w is None else w.shape[1]}
            if w is not None and w.size <= limits.VIEWER_MAX_WEIGHTS:
                entry["W"] = _b64(np.asarray(w), "f4", raw)                 # (out, in)
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
        "links": [list(link) for link in diagram_links(trace, branches)],  # [from, to, kind]
        "linear": linear,
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
