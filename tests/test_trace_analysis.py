"""trace/analysis.py: the maths the scenes share, checked against torch on networks built
outside spacefold (an own nn.Module, plain nn.Sequentials)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.trace.analysis import (
    affine_tail,
    between,
    boundary_segments,
    cross_entropy,
    decision_affine,
    decision_scores,
    period_vectors,
    raster,
    region_contours,
    softmax,
    stage_regions,
    threshold,
    zero_contour,
)


def seq(*mods: nn.Module, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(*mods).double().eval()


def run(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float64)).numpy()


X = np.random.default_rng(0).normal(size=(200, 2))


def test_raster_is_pixel_centres_row_zero_at_the_bottom() -> None:
    r = raster((0.0, 4.0, 0.0, 2.0), 4, 2)
    assert r.shape == (8, 2)
    np.testing.assert_allclose(r[:4], [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5]])
    np.testing.assert_allclose(r[4:, 1], 1.5)


def test_affine_tail_composes_linears_and_equals_the_rest_of_the_model() -> None:
    m = seq(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2), nn.Linear(2, 3), nn.Identity(),
            nn.Linear(3, 4))
    tr = sf.trace(m, X)
    k = next(i for i, s in enumerate(tr.stages) if s.dim == 2 and i > 0 and
             tr.ops[i].kind == "linear")             # the 2-unit stage the third Linear reads
    tail = affine_tail(tr, k)
    assert tail is not None and tail.layers == 2 and tail.head == ()
    h = tr.stages[k].values.astype(np.float64)
    out = run(m, X)
    np.testing.assert_allclose(tail.logits(h), out, atol=1e-5 * np.abs(out).max())
    assert affine_tail(tr, 0) is None                # the ReLU is in the way
    assert affine_tail(tr, 2) is None                # stage 2 (+b) still has the ReLU ahead
    after_relu = affine_tail(tr, 3)                  # after it, three Linears: affine
    assert after_relu is not None and after_relu.layers == 3
    np.testing.assert_allclose(after_relu.logits(tr.stages[3].values), out,
                               atol=1e-5 * np.abs(out).max())


def test_affine_tail_keeps_a_monotone_head_and_the_decision() -> None:
    m = seq(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 2), nn.ReLU(), nn.Linear(2, 4),
            nn.Softmax(dim=-1), seed=3)
    tr = sf.trace(m, X)
    k = len(tr.stages) - 4                           # the ReLU's output, read by Linear 3
    tail = affine_tail(tr, k)
    assert tail is not None and tail.head == ("softmax",)
    w, b = decision_affine(tr, tail)
    h = tr.stages[k].values.astype(np.float64)
    assert (np.argmax(h @ w.T + b, axis=1) == run(m, X).argmax(axis=1)).all()
    np.testing.assert_allclose(softmax(tail.logits(h)), run(m, X), atol=1e-6)


def test_one_output_decisions_become_two_scores() -> None:
    m = seq(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 1), nn.Sigmoid(), seed=1)
    tr = sf.trace(m, X)
    k = len(tr.stages) - 4
    tail = affine_tail(tr, k)
    assert tail is not None
    w, b = decision_affine(tr, tail)
    h = tr.stages[k].values.astype(np.float64)
    assert ((h @ w.T + b).argmax(axis=1) == (run(m, X)[:, 0] > 0.5)).all()


@pytest.mark.parametrize(("head", "cut"), [
    (nn.Sigmoid(), 0.5), (nn.Hardsigmoid(), 0.5), (nn.LogSigmoid(), np.log(0.5)),
    (nn.Identity(), 0.0), (nn.Tanh(), 0.0)])
def test_one_output_threshold_is_the_probability_one_half(head: nn.Module, cut: float) -> None:
    """One output after a sigmoid, a hard sigmoid or a log-sigmoid is a probability (or its
    log): class 1 where it passes one half. predict, threshold and decision_scores agree with
    torch (a hard sigmoid's decisions were cut at 0, a log-sigmoid's all class 0)."""
    m = seq(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 1), seed=3)
    with torch.no_grad():
        m[2].weight.mul_(4.0)                    # outputs on both sides of one half
    m = nn.Sequential(m, head).double().eval()
    truth = (run(m, X)[:, 0] > cut).astype(np.int64)
    assert 0.1 < truth.mean() < 0.9
    tr = sf.trace(m, X)
    assert threshold(tr) == pytest.approx(cut)
    assert (tr.predict() == truth).all()
    assert (decision_scores(tr, tr.output).argmax(axis=1) == truth).all()


def test_stage_regions_are_torchs_decision_on_the_rest_of_the_network() -> None:
    head = seq(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 4), seed=2)   # the tail, alone
    m = nn.Sequential(seq(nn.Linear(2, 7), nn.ReLU(), nn.Linear(7, 2), seed=4), head).eval()
    tr = sf.trace(m, X)
    k = next(i for i in range(1, len(tr.stages)) if tr.stages[i].dim == 2
             and tr.ops[i].kind == "linear")
    ext = (-3.0, 2.0, -1.0, 1.5)
    lab = stage_regions(tr, k, ext, 50, 30)
    out = run(head, raster(ext, 50, 30))
    top2 = np.sort(out, axis=1)[:, -2:]
    sure = top2[:, 1] - top2[:, 0] > 1e-9
    assert lab.shape == (30, 50)
    assert (lab.ravel()[sure] == out.argmax(axis=1)[sure]).all()


def test_exact_boundaries_split_the_classes_they_name() -> None:
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(4, 2)), rng.normal(size=4)
    lin = nn.Linear(2, 4).double()
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(w))
        lin.bias.copy_(torch.as_tensor(b))
    bounds = boundary_segments(w, b, (-3, 3, -3, 3))
    assert bounds
    for bd in bounds:
        n = bd.normal / np.linalg.norm(bd.normal)
        mid = (bd.start + bd.end) / 2
        plus, minus = run(lin, (mid + 1e-6 * n)[None]), run(lin, (mid - 1e-6 * n)[None])
        assert plus.argmax() == bd.k and minus.argmax() == bd.j


def test_contours_of_an_affine_decision_lie_on_its_exact_boundaries() -> None:
    m = seq(nn.Linear(2, 3), seed=6)
    tr = sf.trace(m, X)
    ext = (-2.0, 2.0, -2.0, 2.0)
    segs = region_contours(tr, 0, ext, 120)
    assert len(segs) > 50
    w, b = decision_affine(tr, affine_tail(tr, 0))   # type: ignore[arg-type]
    bounds = boundary_segments(w, b, ext)
    pts = segs.reshape(-1, 2)
    dist = np.full(len(pts), np.inf)
    for bd in bounds:
        d = bd.end - bd.start
        t = np.clip(((pts - bd.start) @ d) / (d @ d), 0, 1)
        dist = np.minimum(dist, np.hypot(*(pts - (bd.start + t[:, None] * d)).T))
    assert dist.max() < 4.0 / 120 * 0.5                  # within half a pixel (linear fields)


def test_zero_contour_of_a_circle() -> None:
    ext = (-1.0, 1.0, -1.0, 1.0)
    p = raster(ext, 64)
    f = (np.hypot(p[:, 0], p[:, 1]) - 0.6).reshape(64, 64)
    segs = zero_contour(f, ext)
    r = np.hypot(*segs.reshape(-1, 2).T)
    assert len(segs) > 100 and np.abs(r - 0.6).max() < 0.01


def test_softmax_and_cross_entropy_equal_torch() -> None:
    z = np.random.default_rng(7).normal(size=(50, 6)) * 30
    y = np.random.default_rng(8).integers(0, 6, 50)
    zt = torch.as_tensor(z)
    np.testing.assert_allclose(softmax(z), torch.softmax(zt, dim=1).numpy(), atol=1e-12)
    ce = float(nn.functional.cross_entropy(zt, torch.as_tensor(y)))
    assert cross_entropy(z, y) == pytest.approx(ce, rel=1e-12)


def test_period_vectors_only_for_a_periodic_network() -> None:
    class Wave(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(torch.sin(self.a(x)))

    torch.manual_seed(0)
    wave = Wave().double().eval()
    tr = sf.trace(wave, X)
    p = period_vectors(tr)
    assert p is not None
    x = np.random.default_rng(9).uniform(-10, 10, (100, 2))
    for v in p:
        np.testing.assert_allclose(run(wave, x + 2 * v), run(wave, x), atol=1e-9)
    assert period_vectors(sf.trace(seq(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 3)), X)) \
        is None
    assert period_vectors(sf.trace(seq(nn.Linear(2, 9), sf.Sine(), nn.Linear(9, 3)), X)) \
        is None


def test_between_is_the_rule_of_trace_at() -> None:
    tr = sf.trace(seq(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)), X)
    for k in range(1, len(tr.stages)):
        a, b = tr.stages[k - 1].values, tr.stages[k].values
        np.testing.assert_allclose(between(a, b, 0.3), tr.at(k, 0.3), atol=1e-12)


def test_affine_tail_folds_in_batchnorm_and_stops_at_a_skip() -> None:
    m = seq(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 2), nn.BatchNorm1d(2), nn.Linear(2, 3),
            seed=11)
    with torch.no_grad():                                    # non-trivial running statistics
        m[3].running_mean.copy_(torch.tensor([0.3, -0.2], dtype=torch.float64))
        m[3].running_var.copy_(torch.tensor([2.0, 0.5], dtype=torch.float64))
    tr = sf.trace(m, X)
    k = next(i for i in range(1, len(tr.stages)) if tr.stages[i].dim == 2
             and tr.ops[i - 1].kind == "bias")               # layer 2 · +b
    tail = affine_tail(tr, k)
    assert tail is not None
    out = run(m, X)
    np.testing.assert_allclose(tail.logits(tr.stages[k].values), out, atol=1e-4)

    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(x + self.a(x))

    sk = sf.trace(Skip().double().eval(), X)
    assert affine_tail(sk, 1) is None                        # the sum reads stage 0 too
    assert affine_tail(sk, len(sk.stages) - 3) is not None   # after the sum: one Linear


def test_chain_segments_joins_a_contour_into_one_closed_line() -> None:
    from spacefold.trace.analysis import chain_segments

    ext = (-1.0, 1.0, -1.0, 1.0)
    p = raster(ext, 40)
    f = (np.hypot(p[:, 0], p[:, 1]) - 0.5).reshape(40, 40)
    segs = zero_contour(f, ext)
    lines = chain_segments(segs)
    assert len(lines) == 1 and len(lines[0]) == len(segs) + 1
    np.testing.assert_allclose(lines[0][0], lines[0][-1], atol=1e-9)       # closed
