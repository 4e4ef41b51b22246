"""model/torch_build.py: ``build`` — a spec → ``nn.Sequential`` of Linear + activations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import SpecError


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


def _layout(model: nn.Sequential) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for m in model:
        if isinstance(m, nn.Linear):
            out.append(("Linear", str(m.in_features), str(m.out_features)))
        else:
            out.append((type(m).__name__,))
    return out


def test_build_gives_the_expected_sequential() -> None:
    model = sf.build("2-100-2-5", activation="relu")
    assert isinstance(model, nn.Sequential)
    assert _layout(model) == [("Linear", "2", "100"), ("ReLU",), ("Linear", "100", "2"),
                              ("ReLU",), ("Linear", "2", "5")]
    assert all(m.bias is not None for m in model if isinstance(m, nn.Linear))
    assert model(torch.zeros(7, 2)).shape == (7, 5)


@pytest.mark.parametrize("name, cls", [
    ("relu", nn.ReLU), ("leaky_relu", nn.LeakyReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh),
    ("sin", sf.Sine), ("identity", nn.Identity),
])
def test_every_registered_activation_builds(name: str, cls: type[nn.Module]) -> None:
    assert name in sf.ACTIVATIONS
    model = sf.build("2-3-3-2", activation=name)
    assert [type(m) for m in model] == [nn.Linear, cls, nn.Linear, cls, nn.Linear]


def test_per_layer_activations_and_heads() -> None:
    listed = sf.build("2-4-4-3", activation=["relu", "tanh"])
    comma = sf.build("2-4-4-3", activation="relu, tanh")
    for model in (listed, comma):
        assert [type(m) for m in model] == [nn.Linear, nn.ReLU, nn.Linear, nn.Tanh, nn.Linear]
    soft = sf.build("2-4-3", activation="sin", head="softmax")
    assert isinstance(soft[-1], nn.Softmax) and soft[-1].dim == -1
    assert isinstance(sf.build("2-4-1", head="sigmoid")[-1], nn.Sigmoid)
    assert _layout(sf.build("2-5")) == [("Linear", "2", "5")]


@pytest.mark.parametrize("kwargs, bad", [
    ({"activation": "swish"}, "'swish'"),
    ({"activation": ["relu"]}, "1 activations given for 2 hidden layers"),
    ({"activation": "relu,tanh,sin"}, "3 activations given for 2 hidden layers"),
    ({"activation": ["relu", "Relu"]}, "'Relu'"),
    ({"head": "argmax"}, "'argmax'"),
    ({"activation": "leaky_relu:x"}, "negative_slope 'x' is not a number"),
    ({"activation": "relu,tanh:1"}, "tanh takes no parameters"),
    ({"activation": ["relu", "softplus:beta=-2"]}, "beta -2 must be a finite number > 0"),
])
def test_build_rejects_bad_activation_or_head(kwargs: dict[str, object], bad: str) -> None:
    with pytest.raises(SpecError) as e:
        sf.build("2-4-4-3", **kwargs)  # type: ignore[arg-type]
    assert bad in _one_line(e)


def test_build_gives_each_activation_its_parameters() -> None:
    model = sf.build("2-4-4-4-4-4-2",
                     activation="leaky_relu:0.2,elu:alpha=0.5,softplus:2:5,hardtanh:-2:3,gelu:tanh")
    assert model[1].negative_slope == 0.2 and model[3].alpha == 0.5
    assert (model[5].beta, model[5].threshold) == (2, 5)
    assert (model[7].min_val, model[7].max_val) == (-2, 3) and model[9].approximate == "tanh"
    # without parameters: torch's defaults, but leaky ReLU's slope is spacefold's 0.1
    plain = sf.build("2-4-4-4-4-2", activation=["leaky_relu", "elu", "softplus", "hardtanh"])
    assert plain[1].negative_slope == 0.1 and plain[3].alpha == 1.0
    assert (plain[5].beta, plain[5].threshold, plain[7].min_val) == (1, 20, -1)


def test_build_is_seeded_and_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b, c = sf.build("2-8-3", seed=0), sf.build("2-8-3", seed=0), sf.build("2-8-3", seed=1)
    assert torch.equal(torch.random.get_rng_state(), before)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_sine_module() -> None:
    x = torch.linspace(-5, 5, 11)
    assert torch.equal(sf.Sine()(x), torch.sin(x))
