"""trace/front.py: ``decompose`` reads a numpy Network (a checkpoint) and the same network as a
torch module into the same ops, with the same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.trace.front import decompose
from spacefold.trace.ops import Op


def _run(ops: list[Op], x: np.ndarray) -> np.ndarray:
    vals = [x]
    for op in ops:
        vals.append(op(*(vals[p] for p in op.parents)))
    return vals[-1]


@pytest.mark.parametrize("arch, activation, head", [
    ("2-5-3", "relu", "softmax"), ("2-4-4-1", "leaky_relu,tanh", "sigmoid"), ("3-2", "relu", None),
])
def test_a_network_and_its_torch_module_decompose_alike(tmp_path: Path, arch: str,
                                                        activation: str,
                                                        head: str | None) -> None:
    net = sf.load_network(sf.save(sf.build(arch, activation, head=head, seed=1),
                                  tmp_path / "m.safetensors"))
    d = net.spec.widths[0]
    a, b = decompose(net, d), decompose(net.to_torch(), d)

    def facts(ops: list[Op]) -> list[tuple[object, ...]]:
        return [(o.kind, o.name, o.d_in, o.d_out, o.parents, o.source) for o in ops]

    assert facts(a) == facts(b)
    for oa, ob in zip(a, b, strict=True):
        assert oa.params.keys() == ob.params.keys()
        for key, value in oa.params.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(ob.params[key]))
    x = np.random.default_rng(0).standard_normal((50, d))
    np.testing.assert_array_equal(_run(a, x), _run(b, x))


def test_an_input_width_that_does_not_fit_is_one_line(tmp_path: Path) -> None:
    net = sf.load_network(sf.save(sf.build("2-3-2", seed=0), tmp_path / "m.safetensors"))
    for model in (net, net.to_torch()):
        with pytest.raises(TraceError, match="receives 3-D input"):
            decompose(model, 3)
