"""trace/chain.py: the op graph built stage by stage, with widths checked and stages named."""

from __future__ import annotations

import numpy as np
import pytest

from spacefold.errors import TraceError
from spacefold.trace.chain import Chain


def test_a_linear_layer_is_two_stages_named_by_its_layer() -> None:
    c = Chain(2)
    w, b = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0, 0.5])
    assert c.linear(w, b, source="fc") == 2
    assert c.activation("relu", source="act") == 3
    assert [op.name for op in c.ops] == ["layer 1 · W·x", "layer 1 · +b", "layer 1 · ReLU"]
    assert [op.kind for op in c.ops] == ["linear", "bias", "relu"] and c.dims == [2, 3, 3, 3]
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    z = c.ops[2](c.ops[1](c.ops[0](x)))
    np.testing.assert_array_equal(z, np.maximum(x @ w.T + b, 0))
    assert c.linear(np.ones((1, 3)), None) == 4 and c.ops[-1].name == "layer 2 · W·x"


def test_identity_adds_no_stage() -> None:
    c = Chain(2)
    assert c.activation("identity") == 0 and c.ops == []


def test_widths_that_do_not_line_up_are_one_line_naming_the_layer() -> None:
    c = Chain(2)
    with pytest.raises(TraceError, match=r"Linear\(3, 4\) \('head'\) receives 2-D input "
                                         r"\(layer 1\)"):
        c.linear(np.ones((4, 3)), None, source="head")
    with pytest.raises(TraceError, match="PReLU 'p' has 3 slopes for 2-D input"):
        c.activation("prelu", {"weight": np.ones(3)}, source="p")
    with pytest.raises(TraceError, match="GroupNorm 'g': 3 groups do not divide 2 units"):
        c.normalise("group", 1e-5, source="g", groups=3)
    with pytest.raises(TraceError, match="BatchNorm 'bn' has 3 units for 2-D input"):
        c.affine(np.ones(3), np.zeros(3), "BatchNorm", source="bn")


def test_a_skip_sum_and_a_concatenation_read_earlier_stages() -> None:
    c = Chain(2)
    h = c.linear(np.eye(2) * 2, np.ones(2))                  # stage 2
    r = c.activation("relu")                                 # stage 3
    s = c.add([0, r], source="res")
    assert c.ops[-1].parents == (0, r) and c.ops[-1].name.endswith("+ skip (from stage 0)")
    k = c.concat([h, s])
    assert c.dims[k] == 4 and c.ops[-1].name.endswith("concat (stages 2, 4)")
    x = np.array([[1.0, -2.0]])
    vals = {0: x}
    for i, op in enumerate(c.ops, start=1):
        vals[i] = op(*(vals[p] for p in op.parents))
    hx = x * 2 + 1
    np.testing.assert_array_equal(vals[k], np.hstack([hx, np.maximum(hx, 0) + x]))
    with pytest.raises(TraceError, match=r"adds stages of widths \[2, 4\]"):
        c.add([0, k], source="bad")
