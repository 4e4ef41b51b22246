"""The linear regions of piecewise-linear networks (issue 11): exact convex pieces that tile
the extent, each one affine map with one activation pattern, checked against the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.trace.core import Stage, Trace
from spacefold.trace.ops import Op
from spacefold.trace.pieces import polygon_area
from trace_helpers import random_mlp

BREAKS = {"relu": [0.0], "leaky_relu": [0.0], "hardtanh": [-1.0, 1.0]}
ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "hardtanh": nn.Hardtanh}


def _net(widths: list[int], acts: list[str], seed: int, scale: float) -> nn.Sequential:
    return random_mlp(widths, acts, seed, scale, ACTS).double()


def _trace_of(net: nn.Sequential) -> Trace:
    """The net's trace; Hardtanh by hand where the trace's front door does not know it yet."""
    try:
        return sf.trace(net, np.zeros((1, 2)), grid=False)
    except TraceError:
        pass
    ops: list[Op] = []
    layer = 0
    for m in net:
        if isinstance(m, nn.Linear):
            layer += 1
            w, b = m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()
            d_in, d_out = w.shape[1], w.shape[0]
            ops.append(Op("linear", layer, f"layer {layer} · W·x", d_in, d_out,
                          lambda z, w=w: z @ w.T, {"W": w}))
            ops.append(Op("bias", layer, f"layer {layer} · +b", d_out, d_out,
                          lambda z, b=b: z + b, {"b": b}))
        elif isinstance(m, nn.Hardtanh):
            d = ops[-1].d_out
            ops.append(Op("hardtanh", layer, f"layer {layer} · hardtanh", d, d,
                          lambda z: np.clip(z, -1.0, 1.0)))
        elif isinstance(m, nn.LeakyReLU):
            d = ops[-1].d_out
            ops.append(Op("leaky_relu", layer, f"layer {layer} · leaky ReLU", d, d,
                          lambda z, s=m.negative_slope: np.where(z > 0, z, s * z),
                          {"slope": m.negative_slope}))
        else:
            d = ops[-1].d_out
            ops.append(Op("relu", layer, f"layer {layer} · ReLU", d, d,
                          lambda z: np.maximum(z, 0.0)))
    z = np.zeros((1, 2))
    stages = [Stage(0, "input", "input", 0, 2, z.astype(np.float32))]
    for k, op in enumerate(ops, start=1):
        z = op(z)
        stages.append(Stage(k, op.name, op.kind, op.layer, op.d_out, z.astype(np.float32)))
    return Trace(stages, ops)


def _patterns(tr: Trace, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's own pattern (M, units) at points x, the output, and each point's
    smallest distance of a pre-activation to a breakpoint (relative)."""
    vals = tr.carry(x)
    parts, near = [], np.full(len(x), np.inf)
    for i, op in enumerate(tr.ops):
        if op.kind in BREAKS:
            z = vals[i]                                  # the stage before the activation
            br = np.array(BREAKS[op.kind])
            parts.append(np.searchsorted(br, z).astype(np.int8))
            scale = np.abs(z).max(axis=1, keepdims=True) + 1.0
            near = np.minimum(near, (np.abs(z[:, :, None] - br).min(axis=2) / scale).min(1))
    pat = np.concatenate(parts, axis=1) if parts else np.zeros((len(x), 0), np.int8)
    return pat, vals[-1], near


def _contains(poly: np.ndarray, pts: np.ndarray, tol: float) -> np.ndarray:
    """Points inside the counter-clockwise convex polygon (tol > 0 widens it)."""
    a, b = poly, np.roll(poly, -1, axis=0)
    e = b - a                                            # (M, 2)
    cross = e[:, 0] * (pts[:, None, 1] - a[:, 1]) - e[:, 1] * (pts[:, None, 0] - a[:, 0])
    return np.asarray((cross >= -tol * np.hypot(e[:, 0], e[:, 1])).all(axis=1))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(1, 3), width=st.integers(1, 32), classes=st.integers(1, 5),
       acts=st.lists(st.sampled_from(["relu", "leaky_relu", "hardtanh"]), min_size=1,
                     max_size=3),
       seed=st.integers(0, 2 ** 16), scale=st.floats(0.5, 3.0),
       box=st.tuples(st.floats(-4, 1), st.floats(0.05, 6), st.floats(-4, 1), st.floats(0.05, 6)))
def test_linear_regions_are_the_networks_pieces(depth: int, width: int, classes: int,
                                                acts: list[str], seed: int, scale: float,
                                                box: tuple) -> None:
    net = _net([2] + [width] * depth + [classes], acts, seed, scale)
    tr = _trace_of(net)
    extent = (box[0], box[0] + box[1], box[2], box[2] + box[3])
    pieces = tr.linear_regions(extent)
    rng = np.random.default_rng(seed)
    area = box[1] * box[3]
    # the pieces tile the extent: areas sum to its area, and no point lies in two
    areas = np.array([polygon_area(p.polygon) for p in pieces])
    assert (areas > 0).all(), "every polygon is counter-clockwise and not empty"
    assert abs(areas.sum() - area) <= 1e-9 * area
    pts = np.column_stack([rng.uniform(extent[0], extent[1], 1500),
                           rng.uniform(extent[2], extent[3], 1500)])
    tol = 1e-12 * max(box[1], box[3])
    inside = np.array([_contains(p.polygon, pts, tol) for p in pieces])     # (P, 1500)
    strictly = np.array([_contains(p.polygon, pts, -tol) for p in pieces])
    assert (inside.sum(axis=0) >= 1).all() and (strictly.sum(axis=0) <= 1).all()
    # each piece's pattern and affine map are the network's at a random interior point
    w = rng.dirichlet(np.ones(64), size=len(pieces))
    for p, wi in zip(pieces, w, strict=True):
        x = (wi[:len(p.polygon)] / wi[:len(p.polygon)].sum()) @ p.polygon
        pat, out, near = _patterns(tr, x[None])
        with torch.no_grad():
            ref = net(torch.from_numpy(x[None])).numpy()
        a, c = p.affine
        np.testing.assert_allclose(a @ x + c, ref[0], rtol=1e-9, atol=1e-9 * (1 + abs(ref).max()))
        if near[0] > 1e-9:
            np.testing.assert_array_equal(p.pattern, pat[0])
    # no two adjacent pieces share a pattern: just across each edge the pattern differs
    span = max(box[1], box[3])
    for p in pieces[:400]:
        poly = p.polygon
        e = np.roll(poly, -1, axis=0) - poly
        length = np.hypot(e[:, 0], e[:, 1])
        keep = length > 1e-6 * span
        mid = (poly + 0.5 * e)[keep]
        normal = np.column_stack([e[keep, 1], -e[keep, 0]]) / length[keep, None]   # outward
        out_pts = mid + 1e-8 * span * normal
        ok = ((out_pts[:, 0] > extent[0]) & (out_pts[:, 0] < extent[1])
              & (out_pts[:, 1] > extent[2]) & (out_pts[:, 1] < extent[3]))
        if not ok.any():
            continue
        pat, _, near = _patterns(tr, out_pts[ok])
        clear = near > 1e-7
        assert not (pat[clear] == p.pattern).all(axis=1).any(), "a neighbour has my pattern"
    # at least as many pieces as patterns met by 10^5 samples
    many = np.column_stack([rng.uniform(extent[0], extent[1], 100_000),
                            rng.uniform(extent[2], extent[3], 100_000)])
    pat, _, _ = _patterns(tr, many)
    seen = {bytes(r) for r in pat}
    assert len(pieces) >= len(seen)
    assert seen <= {bytes(p.pattern) for p in pieces}


def test_a_tanh_layer_is_one_line_saying_so() -> None:
    tr = sf.trace(sf.build("2-4-4-2", activation=["relu", "tanh"]), np.zeros((1, 2)), grid=False)
    with pytest.raises(TraceError, match=r"^linear regions need piecewise-linear activations; "
                                         r"layer 2 is tanh$"):
        tr.linear_regions((-1, 1, -1, 1))
    with pytest.raises(TraceError, match="layer 2 is tanh"):
        tr.decision_boundaries((-1, 1, -1, 1))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(2, 24), depth=st.integers(1, 2), classes=st.integers(1, 5),
       seed=st.integers(0, 2 ** 16))
def test_decision_boundaries_are_where_the_top_class_changes(width: int, depth: int,
                                                             classes: int, seed: int) -> None:
    net = _net([2] + [width] * depth + [classes], ["relu"], seed, 2.0)
    tr = _trace_of(net)
    ext = (-1.0, 1.0, -1.0, 1.0)
    segs = tr.decision_boundaries(ext)
    assert segs.ndim == 3 and segs.shape[1:] == (2, 2)
    # every segment is a boundary: just either side of its midpoint the classes differ
    if len(segs):
        mid = segs.mean(axis=1)
        d = segs[:, 1] - segs[:, 0]
        n = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
        eps = 1e-7
        a = tr.predict(tr.carry(mid + eps * n)[-1])
        b = tr.predict(tr.carry(mid - eps * n)[-1])
        assert (a != b).mean() > 0.99
    # and every change of class along random lines crosses a segment
    lab = tr.region_map(ext, (200, 200))
    changes = int((lab[:, 1:] != lab[:, :-1]).sum() + (lab[1:] != lab[:-1]).sum())
    if changes:
        assert len(segs) > 0
    else:
        assert len(segs) == 0


def test_a_hard_sigmoid_outputs_boundary_is_where_it_passes_one_half() -> None:
    """One output after a hard sigmoid (piecewise linear, so inside the pieces' maps): its
    boundary segments are where the output is 0.5, as Trace.predict decides; they were cut
    at 0, where the hard sigmoid only saturates."""
    torch.manual_seed(4)
    m = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 1), nn.Hardsigmoid()).double()
    with torch.no_grad():
        m[2].weight.mul_(4.0)
    tr = sf.trace(m.eval(), np.random.default_rng(0).uniform(-1, 1, (50, 2)))
    segs = tr.decision_boundaries((-1.0, 1.0, -1.0, 1.0))
    assert len(segs)
    with torch.no_grad():
        at = m(torch.from_numpy(segs.mean(axis=1))).numpy()[:, 0]
    np.testing.assert_allclose(at, 0.5, atol=1e-9)


class _Residual(nn.Module):
    """A network nobody here trained, as people write them: BatchNorm (eval), a residual ReLU
    block, a concatenation of two leaky branches, a head."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.inp = nn.Linear(2, width)
        self.norm = nn.BatchNorm1d(width)
        self.block = nn.Linear(width, width)
        self.left = nn.Linear(width, 3)
        self.right = nn.Linear(width, 2)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.norm(self.inp(x)))
        h = h + torch.relu(self.block(h))
        both = torch.cat([nn.functional.leaky_relu(self.left(h), 0.1),
                          torch.relu(self.right(h))], dim=1)
        return self.out(both)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_residual_network_with_batchnorm_and_concat_has_its_pieces(seed: int) -> None:
    """Residual sums and concatenations read several stages: each piece carries the map of
    every stage, and the pieces are still the network's (tiling, torch's output by the
    piece's affine map, one pattern per piece)."""
    torch.manual_seed(seed)
    net = _Residual(8)
    with torch.no_grad():                      # BatchNorm statistics that are not the identity
        net.norm.running_mean.uniform_(-0.5, 0.5)
        net.norm.running_var.uniform_(0.5, 2.0)
        net.norm.weight.uniform_(0.5, 1.5)
    net.eval()
    extent = (-3.0, 3.0, -2.0, 2.5)
    tr = sf.trace(net, np.zeros((4, 2)), grid=False)
    pieces = tr.linear_regions(extent)
    assert len(pieces) > 3
    areas = np.array([p.area for p in pieces])
    assert abs(areas.sum() - 27.0) <= 1e-9 * 27.0
    rng = np.random.default_rng(seed)
    for p in pieces[:: max(1, len(pieces) // 40)]:
        # points strictly inside: the piece's vertices pulled towards its centre
        c = p.polygon.mean(axis=0)
        w = rng.dirichlet(np.ones(len(p.polygon)), 5)
        x = 0.8 * (w @ p.polygon) + 0.2 * c
        with torch.no_grad():
            want = net(torch.tensor(x, dtype=torch.float32)).double().numpy()
        a, b = p.affine
        np.testing.assert_allclose(x @ a.T + b, want, rtol=1e-4, atol=1e-4)
    # the decision boundary: where torch's top two logits tie, and there whenever the
    # extent holds more than one class
    bounds = tr.decision_boundaries(extent)
    gx, gy = np.meshgrid(np.linspace(-3, 3, 60), np.linspace(-2, 2.5, 45))
    with torch.no_grad():
        grid = net(torch.tensor(np.c_[gx.ravel(), gy.ravel()], dtype=torch.float32))
    assert (len(bounds) > 0) == (len(np.unique(grid.argmax(1).numpy())) > 1)
    if len(bounds):
        mid = bounds.mean(axis=1)
        with torch.no_grad():
            top = torch.topk(net(torch.tensor(mid, dtype=torch.float32)), 2).values.numpy()
        assert np.abs(top[:, 0] - top[:, 1]).max() < 1e-3
