"""trace/linear_parts.py: the breakpoints and straight parts of every piecewise-linear
activation of the table, read from the op's own values, and the steps of a chain."""

from __future__ import annotations

import numpy as np
import pytest

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS
from spacefold.trace.chain import Chain
from spacefold.trace.linear_parts import is_piecewise, linear_parts, piecewise_steps

# where each piecewise-linear activation of the table bends or jumps, with its defaults
BREAKS = {"relu": [0.0], "leaky_relu": [0.0], "prelu": [0.0], "rrelu": [0.0],
          "relu6": [0.0, 6.0], "hardtanh": [-1.0, 1.0], "hardsigmoid": [-3.0, 3.0],
          "softshrink": [-0.5, 0.5], "hardshrink": [-0.5, 0.5], "threshold": [0.0],
          "identity": []}


def test_the_table_names_exactly_these_piecewise_activations() -> None:
    assert {n for n, a in ACTIVATIONS.items() if a.piecewise_linear} == set(BREAKS)
    assert all(is_piecewise(n) for n in BREAKS)
    assert not any(is_piecewise(n) for n in ("tanh", "sigmoid", "gelu", "linear", "add"))


@pytest.mark.parametrize("name", sorted(set(BREAKS) - {"identity"}))
def test_parts_are_the_activation_on_each_side_of_its_breakpoints(name: str) -> None:
    chain = Chain(3)
    chain.activation(name)
    op = chain.ops[0]
    parts = linear_parts(op)
    np.testing.assert_allclose(parts.breaks, BREAKS[name], atol=1e-9)
    assert parts.slope.shape == parts.offset.shape == (len(BREAKS[name]) + 1, 3)
    z = np.random.default_rng(0).uniform(-40, 40, size=(4000, 3))
    z = z[(np.abs(z[:, :, None] - parts.breaks).min(axis=2, initial=1.0) > 1e-6).all(axis=1)]
    j = np.searchsorted(parts.breaks, z)                      # the part each value is in
    cols = np.arange(3)
    np.testing.assert_allclose(parts.slope[j, cols] * z + parts.offset[j, cols], op(z),
                               rtol=1e-9, atol=1e-9)
    assert linear_parts(op) is parts                          # read once per op


def test_steps_of_a_trace_and_the_first_smooth_layer_refused() -> None:
    x = np.random.default_rng(1).standard_normal((10, 2))
    t = sf.trace(sf.build("2-4-3", "relu", head="softmax", seed=0), x, grid=False)
    steps = piecewise_steps(t)
    assert [k for k, _, _ in steps] == ["linear", "bias", "act", "linear", "bias", "head"]
    assert [p for _, _, p in steps] == [(0,), (1,), (2,), (3,), (4,), (5,)]      # a chain
    smooth = sf.trace(sf.build("2-4-4-3", ["relu", "tanh"], seed=0), x, grid=False)
    with pytest.raises(TraceError, match="piecewise-linear activations; layer 2 is tanh"):
        piecewise_steps(smooth)
    wide = sf.trace(sf.build("3-4-2", seed=0), np.ones((2, 3)), grid=False)
    with pytest.raises(TraceError, match="need a 2-D input; this network takes 3-D"):
        piecewise_steps(wide)
