"""Which units each Linear of a trace reads: the network as a graph of its layers' outputs
(for the diagram's edges, and to tell a column of layers from a branching network)."""

from __future__ import annotations

from typing import Any


def linear_inputs(trace: Any) -> list[list[tuple[int, int, int]] | None]:
    """For each Linear, in order, what its input's units are: segments (layer, first unit,
    count) of a layer's output (layer 0: the input), in the order the Linear reads them;
    None where they cannot be told apart. A chain's Linear L reads [(L - 1, 0, width)]; a
    concatenation lists its parts; a sum and the elementwise steps keep the units of the
    branch computed last (:attr:`Stage.base`)."""
    seg: dict[int, list[tuple[int, int, int]] | None] = {0: [(0, 0, trace.stages[0].dim)]}
    out: list[list[tuple[int, int, int]] | None] = []
    for k, op in enumerate(trace.ops, start=1):
        ps = tuple(op.parents)
        if op.kind == "linear":
            out.append(seg.get(ps[0]) if len(ps) == 1 else None)
            seg[k] = [(op.layer, 0, op.d_out)]
        elif op.kind == "concat":
            parts = [seg.get(p) for p in ps]
            seg[k] = None if any(p is None for p in parts) else \
                [s for p in parts if p is not None for s in p]
        elif op.kind == "add" or (len(ps) == 1 and trace.stages[ps[0]].dim == op.d_out):
            seg[k] = seg.get(trace.stages[k].base)
        else:
            seg[k] = None
    return out


def is_chain(trace: Any) -> bool:
    """Whether each Linear reads the one before it (through biases, activations, norms and
    residual sums): the network is a column of layers, as ``2-100-2-5`` says."""
    widths = [trace.stages[0].dim] + [op.d_out for op in trace.ops if op.kind == "linear"]
    return all(s == [(i, 0, widths[i])] for i, s in enumerate(linear_inputs(trace)))


def column_weights(trace: Any) -> tuple[list[Any], list[tuple[int, int, str]]]:
    """What a diagram of columns (the input, then each Linear's output) may draw between
    neighbouring columns: each Linear's weight columns for the units of the column before it
    ((out, width) arrays, the Linear's own array when it reads just that column), or None
    where it does not read that column (a parallel branch); and an arc (column read, the
    Linear's column, "branch") for each column such a branch reads."""
    ws = [op.params["W"] for op in trace.ops if op.kind == "linear"]
    widths = [trace.stages[0].dim] + [w.shape[0] for w in ws]
    shown: list[Any] = []
    arcs: list[tuple[int, int, str]] = []
    for i, (w, segs) in enumerate(zip(ws, linear_inputs(trace), strict=True)):
        offset, sub = 0, None
        for col, _, count in segs or []:
            if col == i and count == widths[i]:
                sub = w if count == w.shape[1] else w[:, offset:offset + count]
            offset += count
        shown.append(sub)
        if sub is None and segs:
            arcs += [(col, i + 1, "branch") for col in dict.fromkeys(c for c, _, _ in segs)]
    return shown, arcs


def diagram_links(trace: Any, branches: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The arcs of a diagram: the trace's skips (:meth:`Trace.links`: "add", "concat"), then
    the ``branches`` of :func:`column_weights` between columns no skip joins already."""
    links = list(trace.links())
    joined = {(a, b) for a, b, _ in links}
    return links + [ln for ln in branches if ln[:2] not in joined]
