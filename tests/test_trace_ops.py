"""trace/ops.py: the float32 carrying of drawn rows (grid vertices, plane samples) through the
op graph equals the float64 ops to float32 precision, chunk by chunk, graphs included."""

from __future__ import annotations

import numpy as np
import pytest

from spacefold.trace.chain import Chain
from spacefold.trace.ops import Op, carry_float32


def _graph() -> list[Op]:
    rng = np.random.default_rng(3)
    c = Chain(2)
    c.linear(rng.standard_normal((5, 2)), rng.standard_normal(5))
    a = c.activation("leaky_relu", {"negative_slope": 0.2})
    c.affine(rng.uniform(0.5, 2, 5), rng.standard_normal(5), "BatchNorm")
    c.normalise("layer", 1e-5)
    s = c.add([a, c.last])
    c.concat([a, s])
    c.linear(rng.standard_normal((3, 10)), rng.standard_normal(3))
    return c.ops


def _float64(ops: list[Op], x: np.ndarray) -> list[np.ndarray]:
    vals = [x]
    for op in ops:
        vals.append(op(*(vals[p] for p in op.parents)))
    return vals


@pytest.mark.parametrize("chunk", [7, 2048])
def test_float32_carry_equals_the_float64_ops(chunk: int) -> None:
    ops = _graph()
    x = np.random.default_rng(0).uniform(-3, 3, (1000, 2))
    want = _float64(ops, x)
    kept, last = carry_float32(ops, x, keep=40, chunk=chunk)
    assert len(kept) == len(ops) + 1 and last.shape == (1000, 3) and last.dtype == np.float32
    for k, (got, full) in enumerate(zip(kept, want, strict=True)):
        assert got.dtype == np.float32 and got.shape == (40, full.shape[1]), k
        np.testing.assert_allclose(got, full[:40], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(last, want[-1], rtol=1e-4, atol=1e-4)


def test_chunks_do_not_change_the_numbers() -> None:
    ops = _graph()
    x = np.random.default_rng(1).uniform(-3, 3, (300, 2))
    a = carry_float32(ops, x, keep=300, chunk=13)
    b = carry_float32(ops, x, keep=300, chunk=4096)
    for u, v in zip(a[0], b[0], strict=True):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(a[1], b[1])
