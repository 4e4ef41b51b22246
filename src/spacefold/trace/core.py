"""The ``Trace``: every stage of a network's computation on points, grid and plane.

>>> import spacefold as sf
>>> d = sf.dataset("cloud", n=200)
>>> t = sf.trace(sf.build("2-2-2", activation="relu"), d.x, labels=d.y)
>>> [s.name for s in t.stages]
['input', 'layer 1 · W·x', 'layer 1 · +b', 'layer 1 · ReLU', 'layer 2 · W·x', 'layer 2 · +b']
>>> t.at(3, 0.5).shape
(200, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacefold.colors import class_colors, position_colors
from spacefold.errors import TraceError
from spacefold.limits import MAX_POINTS
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace.arrays import as_labels, as_points
from spacefold.trace.color_cache import ColorCache
from spacefold.trace.geometry import Extent, GridSpec, auto_extent, grid_lines, plane_samples
from spacefold.trace.graph import is_chain
from spacefold.trace.npz import save_npz
from spacefold.trace.ops import Op, carry_float32, threshold_after
from spacefold.trace.project import Projection, fit_layer, pad
from spacefold.trace.stage import Regions, Stage


@dataclass
class Trace:
    """Stages of a network on data points, grid polylines and a raster of the input plane.

    Everything is numpy; ``ops`` can carry any other points through the same network.
    """

    stages: list[Stage]
    ops: list[Op] = field(repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)     # (N,) int64
    classes: int = 0
    extent: Extent | None = None
    regions: Regions | None = field(default=None, repr=False)
    meta: dict[str, Any] = field(default_factory=dict)
    color_cache: ColorCache | None = field(default=None, repr=False, compare=False)
    _proj: dict[tuple[int, int], Projection] = field(default_factory=dict, repr=False)
    # display coordinates by (points or grid, stage, dims), computed once: a video asks for
    # the same stage's every frame (read-only arrays, so no caller can change them)
    _shown: dict[tuple[str, int, int], np.ndarray | None] = field(default_factory=dict,
                                                                  repr=False, compare=False)

    # -- basic facts -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.stages)

    @property
    def n(self) -> int:
        return int(self.stages[0].values.shape[0])

    @property
    def output(self) -> np.ndarray:
        """(N, d_out): the last stage, equal to ``model(x)``."""
        return self.stages[-1].values

    @property
    def max_dim(self) -> int:
        return max(s.dim for s in self.stages)

    def colors(self, by: str = "class") -> np.ndarray:
        """(N, 3) RGB: by "class" (needs labels) or by "position" (2-D colour map of the input);
        through ``color_cache`` when the trace has one (the same numbers)."""
        if by not in ("class", "position"):
            raise TraceError(f"colour mode {by!r}; choose class or position")
        if self.color_cache is not None:
            return self.color_cache.get(by, self.stages[0].values, self.labels,
                                        self._compute_colors)
        return self._compute_colors(by)

    def _compute_colors(self, by: str) -> np.ndarray:
        if by == "class" and self.labels is not None:
            return class_colors(self.labels)
        return position_colors(self.stages[0].values)

    def predict(self, values: np.ndarray | None = None) -> np.ndarray:
        """Class decisions from final-stage values (default: the data's): argmax, or a
        threshold for one output (0.5 after a sigmoid, else 0: :func:`threshold_after`)."""
        out = self.output if values is None else values
        if out.shape[1] == 1:
            thr = threshold_after(self.ops[-1].kind)
            return (out[:, 0] > thr).astype(np.int64)
        return np.asarray(out.argmax(axis=1), dtype=np.int64)

    def accuracy(self) -> float | None:
        if self.labels is None:
            return None
        return float((self.predict() == self.labels).mean())

    # -- carrying points -------------------------------------------------------------------
    def carry(self, points: np.ndarray, start: int = 0,
              stop: int | None = None) -> list[np.ndarray]:
        """Values of ``points`` given at stage ``start`` at every stage ``start..stop``.

        ``carry(p)[-1]`` is the network's output on p; ``carry(h, start=k)`` runs the tail. In
        a graph (a skip connection, a concatenation) the tail after stage k may also read a
        stage before k: that is an error naming the stage to start from instead.
        """
        stop = len(self.stages) - 1 if stop is None else stop
        z = np.asarray(points, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.stages[start].dim:
            raise TraceError(f"points must be (M, {self.stages[start].dim}) for stage {start}, "
                             f"got {z.shape}")
        vals = {start: z}
        out = [z]
        for k in range(start + 1, stop + 1):
            op = self.ops[k - 1]
            missing = [p for p in op.parents if p not in vals]
            if missing:
                raise TraceError(f"cannot carry points from stage {start}: stage {k} "
                                 f"({self.stages[k].name}) also reads stage {min(missing)}; "
                                 f"carry from stage {min(missing)} or earlier")
            z = op(*(vals[p] for p in op.parents))
            vals[k] = z
            out.append(z)
        return out

    # -- interpolation: one rule for every backend ------------------------------------------
    def at(self, k: int, alpha: float) -> np.ndarray:
        """Data points between the stage k is computed from (alpha 0) and stage k (alpha 1):
        (N, max(d_base, d_k)).

        Straight-line interpolation of positions, the smaller stage zero-padded; for a ``W·x``
        stage this is the matrix path ``((1-t)·I + t·W)·x``, so grid lines stay straight. A
        stage moves from ``stages[k].base``: ``k-1`` in a chain, and for a two-input stage the
        branch computed last (so the motion continues from the stage on screen). A sum
        ``x + f(x)`` slides from ``f(x)`` to ``f(x) + x``: the skip is added in proportion to
        alpha. A concatenation ``[a, b]`` moves from ``b`` zero-padded to the concatenated
        vector, like any change of width.
        """
        base, stage = self._pair(k)
        return _lerp(base.values, stage.values, alpha)

    def grid_at(self, k: int, alpha: float) -> np.ndarray:
        """The grid polylines between stage k's base and stage k: (L, V, max(d_base, d_k))."""
        a, b = self._pair(k)
        if a.grid is None or b.grid is None:
            raise TraceError("this trace has no grid (the input is not 2-D)")
        return _lerp(a.grid, b.grid, alpha)

    def _pair(self, k: int) -> tuple[Stage, Stage]:
        if not 1 <= k < len(self.stages):
            raise TraceError(f"stage {k} out of range; interpolation stages are "
                             f"1..{len(self.stages) - 1}")
        return self.stages[self.stages[k].base], self.stages[k]

    def links(self) -> list[tuple[int, int, str]]:
        """The graph's edges that skip ahead, in layers (a stage's layer is the Linear it
        follows): (layer of the read stage, layer of the sum / concatenation, its kind), one
        per input other than the branch computed last. Empty for a chain."""
        out = []
        for s in self.stages:
            if s.kind in ("add", "concat"):
                out += [(self.stages[p].layer, s.layer, s.kind) for p in s.parents
                        if p != s.base]
        return out

    # -- display space -----------------------------------------------------------------------
    def projection(self, k: int, dims: int = 2) -> Projection:
        """How stage k is shown in ``dims`` display dimensions (identity, or labelled PCA).

        The stages of one layer with the same width (``W·x``, ``+b``, its activation) share
        one projection, fitted once on the layer's output: no stage is re-centred on its own,
        so ``display(+b) - display(W·x)`` is ``P·b`` for every point.
        """
        key = (k, dims)
        if key not in self._proj:
            group = self.layer_stages(k)
            prev = None
            if group[0] > 0 and self.stages[k].dim > dims:
                prev = self.display(group[0] - 1, dims)
            fitted = fit_layer([self.stages[j].values for j in group], dims, prev)
            for j, p in zip(group, fitted, strict=True):
                self._proj[(j, dims)] = p
        return self._proj[key]

    def layer_stages(self, k: int) -> list[int]:
        """The stages that share stage k's projection: the run of stages around k of the same
        layer and width (the input stands alone)."""
        s = self.stages[k]
        if k == 0:
            return [0]

        def same(j: int) -> bool:
            t = self.stages[j]
            return j > 0 and t.layer == s.layer and t.dim == s.dim

        lo, hi = k, k
        while lo - 1 > 0 and same(lo - 1):
            lo -= 1
        while hi + 1 < len(self.stages) and same(hi + 1):
            hi += 1
        return list(range(lo, hi + 1))

    def display(self, k: int, dims: int = 2) -> np.ndarray:
        """(N, dims) display coordinates of the data at stage k (read-only)."""
        out = self._shown_of("points", k, dims)
        assert out is not None
        return out

    def display_grid(self, k: int, dims: int = 2) -> np.ndarray | None:
        """(L, V, dims) display coordinates of the grid at stage k (read-only), or None."""
        return self._shown_of("grid", k, dims)

    def _shown_of(self, what: str, k: int, dims: int) -> np.ndarray | None:
        key = (what, k, dims)
        if key not in self._shown:
            v = self.stages[k].values if what == "points" else self.stages[k].grid
            out = None if v is None else self.projection(k, dims)(v.astype(np.float64))
            if out is not None:
                out.setflags(write=False)
            self._shown[key] = out
        return self._shown[key]

    def display_at(self, k: int, alpha: float, dims: int = 2) -> tuple[np.ndarray,
                                                                        np.ndarray | None]:
        """Points (N, dims) and grid (L, V, dims) between stage k's base (see :meth:`at`) and
        stage k in display space.

        Equals ``at``/``grid_at`` whenever both stages fit in ``dims``; otherwise the same
        straight-line rule applied to the labelled projections of the two stages.
        """
        base = self._pair(k)[0].index
        p = _lerp(self.display(base, dims), self.display(k, dims), alpha)
        ga, gb = self.display_grid(base, dims), self.display_grid(k, dims)
        g = None if ga is None or gb is None else _lerp(ga, gb, alpha)
        return p, g

    # -- the input plane, exactly ------------------------------------------------------------
    def region_map(self, extent: Extent, size: tuple[int, int], start: int = 0) -> np.ndarray:
        """(H, W) int64 class at every pixel centre of ``extent`` at ``size`` = (W, H), row 0
        = ymin: ``argmax model(x)`` there (see :mod:`spacefold.trace.regions`); ``start``: in
        the plane of a 2-D stage, decided by the rest of the network."""
        from spacefold.trace.regions import region_map

        return region_map(self, extent, size, start)

    def linear_regions(self, extent: Extent) -> list[Any]:
        """The exact convex pieces of ``extent`` on which a piecewise-linear network is one
        affine map: :class:`~spacefold.trace.pieces.Piece` (``.polygon``, ``.pattern``,
        ``.affine``). A network with other activations is a one-line :class:`TraceError`."""
        from spacefold.trace.pieces import linear_regions

        return linear_regions(self, extent)

    def decision_boundaries(self, extent: Extent) -> np.ndarray:
        """(S, 2, 2) exact segments inside ``extent`` where the top class changes
        (piecewise-linear networks; see :meth:`linear_regions`)."""
        from spacefold.trace.pieces import decision_boundaries

        return decision_boundaries(self, extent)

    # -- export ----------------------------------------------------------------------------
    def to_npz(self, path: str | Path) -> Path:
        """The raw stage data: ``stage{k}_values``, ``stage{k}_grid``, names, kinds, labels,
        ``sources`` (module / node names) and ``parents`` ((S, P) int, -1 where unused)."""
        return save_npz(path, self.stages, self.labels, self.regions)


def _lerp(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """``(1 - alpha) a + alpha b`` in float64 (no copies of inputs already float64 and of
    one width: a video asks for this every frame)."""
    d = max(a.shape[-1], b.shape[-1])
    a64 = np.asarray(pad(a, d), dtype=np.float64)
    b64 = np.asarray(pad(b, d), dtype=np.float64)
    out = np.multiply(a64, 1.0 - alpha)
    out += np.multiply(b64, alpha)
    return out


def trace(model: Any, x: Any, labels: Any = None, grid: GridSpec | bool | None = True,
          meta: dict[str, Any] | None = None, color_cache: ColorCache | None = None) -> Trace:
    """Trace ``model`` on points ``x`` ((N, D) numpy array, torch tensor or ``Dataset``).

    ``model`` is a spacefold :class:`~spacefold.model.network.Network` or any ``nn.Module``
    whose forward ``torch.fx`` traces into supported operations: Linear, BatchNorm1d,
    LayerNorm / RMSNorm / GroupNorm, the activations of the one table, residual sums and
    ``torch.cat`` (see :mod:`spacefold.trace.torch_front`). Stages are in topological order;
    each knows its ``source`` module and its ``parent`` stage(s).

    For 2-D input, ``grid`` (True / a :class:`GridSpec`) adds the grid polylines and the
    decision regions of the input plane; ``False``/``None`` skips them. ``color_cache`` keeps
    the point colours between traces of the same points (:class:`ColorCache`).
    """
    from spacefold.data.datasets import Dataset
    from spacefold.trace.front import decompose

    meta = dict(meta or {})
    if isinstance(x, Dataset):
        if labels is None:
            labels = x.y
        meta.setdefault("dataset", x.name)
        x = x.x
    xs = as_points(x)
    if xs.ndim != 2:
        raise TraceError(f"x must be (N, D) points, got shape {tuple(xs.shape)}")
    if not 1 <= xs.shape[0] <= MAX_POINTS:
        raise TraceError(f"x has {xs.shape[0]} points; need 1 to {MAX_POINTS}")
    if not np.isfinite(xs).all():
        raise TraceError("x contains NaN or infinite values")
    ys = None
    classes = 0
    if labels is not None:
        ys = as_labels(labels, xs.shape[0])
        classes = int(ys.max()) + 1 if ys.size else 0
    ops = decompose(model, xs.shape[1])
    outputs = ops[-1].d_out if ops[-1].d_out > 1 else 2    # one output: two classes
    if classes > outputs:
        raise TraceError(f"label {classes - 1} is beyond the network's {outputs} classes "
                         f"(its last layer has {ops[-1].d_out} output"
                         f"{'s' if ops[-1].d_out > 1 else ''}); labels are 0 to {outputs - 1}")
    classes = max(classes, outputs)

    spec: GridSpec | None = None
    if grid and xs.shape[1] == 2:
        spec = grid if isinstance(grid, GridSpec) else GridSpec()
    extent = None
    gl = samples = None
    if spec is not None:
        extent = spec.extent or auto_extent(xs)
        gl = grid_lines(extent, spec.lines, spec.verts)              # (L, V, 2)
        if spec.regions:
            samples = plane_samples(extent, spec.regions)            # (R·R, 2)

    # The data points go through the float64 ops (their values are checked against torch);
    # the grid vertices and the plane samples, which are drawn, through float32 chunks.
    z = xs.astype(np.float64)
    drawn = [a for a in (None if gl is None else gl.reshape(-1, 2), samples) if a is not None]
    n_grid = 0 if gl is None else gl.shape[0] * gl.shape[1]
    grids: list[np.ndarray] = []
    out = None
    if drawn:
        grids, out = carry_float32(ops, np.concatenate(drawn, axis=0), n_grid)
    stages: list[Stage] = []

    def add(k: int, name: str, kind: str, layer: int, z: np.ndarray, source: str = "",
            parents: tuple[int, ...] = ()) -> None:
        g = None
        if gl is not None:
            g = grids[k].reshape(gl.shape[0], gl.shape[1], -1)
        parent: int | tuple[int, ...] | None = None
        if parents:
            parent = parents[0] if len(parents) == 1 else parents
        stages.append(Stage(k, name, kind, layer, z.shape[1], z.astype(np.float32), g, source,
                            parent))

    # Each stage's values stay alive only until its last reader has run.
    last_use = {p: k for k, op in enumerate(ops, start=1) for p in op.parents}
    live: dict[int, np.ndarray] = {0: z}
    add(0, "input", "input", 0, z)
    for k, op in enumerate(ops, start=1):
        z = op(*(live[p] for p in op.parents))
        add(k, op.name, op.kind, op.layer, z, op.source, op.parents)
        for p in op.parents:
            if last_use.get(p) == k:
                live.pop(p, None)
        live[k] = z

    regions = None
    if samples is not None and extent is not None and spec is not None and out is not None:
        out = out[n_grid:]
        t = Trace(stages, ops)
        lab = t.predict(out).reshape(spec.regions, spec.regions)
        regions = Regions(extent, lab, out.astype(np.float32).reshape(spec.regions,
                                                                      spec.regions, -1))
    meta.setdefault("activations", [ACTIVATIONS[o.kind].label for o in ops
                                    if o.kind in ACTIVATIONS])
    t = Trace(stages, ops, ys, classes, extent, regions, meta, color_cache)
    # the Linear widths in order; a network whose Linears are not one column of layers (a
    # branch reads an earlier layer, a concatenation joins two) says so
    arch = "-".join([str(xs.shape[1])] + [str(o.d_out) for o in ops if o.kind == "linear"])
    t.meta.setdefault("arch", arch if is_chain(t) else f"{arch} (branching)")
    return t
