"""model/network.py: a numpy Network is the nn.Sequential its spec builds, torch-free; its
weights are checked against the spec, and it goes back to torch unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import spacefold as sf
from spacefold.errors import SpecError
from spacefold.model.network import Network


def _network(arch: str, activation: str | list[str], head: str | None = None) -> tuple[
        Network, torch.nn.Sequential]:
    model = sf.build(arch, activation, head=head, seed=4).eval()
    spec = sf.ArchSpec.parse(arch, activation, head)
    params = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return Network(spec, params), model


@pytest.mark.parametrize(("arch", "activation", "head"), [
    ("2-7-3", "relu", None), ("2-5-4-2", ["tanh", "leaky_relu"], "softmax"),
    ("3-6-1", "sigmoid", "sigmoid")])
def test_layers_are_the_modules_linears_and_activations(
        arch: str, activation: str | list[str], head: str | None) -> None:
    net, model = _network(arch, activation, head)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    layers = list(net.layers())
    assert len(layers) == len(linears)
    for (w, b, _), lin in zip(layers, linears, strict=True):
        np.testing.assert_array_equal(w, lin.weight.detach().numpy())
        assert b is not None
        np.testing.assert_array_equal(b, lin.bias.detach().numpy())
    acts = [a for _, _, a in layers]
    names = [activation] * (len(layers) - 1) if isinstance(activation, str) else activation
    assert acts == [*names, head]
    x = np.random.default_rng(1).standard_normal((30, net.spec.widths[0]))
    with torch.no_grad():
        want = model(torch.from_numpy(x).float()).double().numpy()
        back = net.to_torch()(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_array_equal(back, want)
    np.testing.assert_allclose(sf.trace(net, x, grid=False).output, want, atol=1e-5)


def test_weights_that_do_not_fit_the_spec_are_named() -> None:
    net, _ = _network("2-5-3", "relu")
    bad = dict(net.params, **{"2.weight": np.zeros((3, 4), np.float32)})
    with pytest.raises(SpecError, match=r"layer 2.weight is \(3, 4\), expected \(3, 5\)"):
        Network(net.spec, bad)
    gone = {k: v for k, v in net.params.items() if k != "0.weight"}
    with pytest.raises(SpecError, match=r"layer 0.weight is None, expected \(5, 2\)"):
        Network(net.spec, gone)
    with pytest.raises(SpecError, match=r"layer 0.bias is \(4,\), expected \(5,\)"):
        Network(net.spec, dict(net.params, **{"0.bias": np.zeros(4, np.float32)}))


def test_activation_params_are_the_specs() -> None:
    """Leaky ReLU's slope in a spec is 0.1 (the table's spec), not torch's default 0.01."""
    net, model = _network("2-3-2", "leaky_relu")
    assert net.activation_params(0) == {"negative_slope": 0.1}
    assert model[1].negative_slope == 0.1
