"""Faithfulness: every stage of a trace equals what torch computes at that layer.

PyTorch is the oracle (micrograd's habit): build random networks, run them with forward
hooks, and compare each hook's output with the stage the trace says it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import spacefold as sf
from spacefold.errors import TraceError

# float32 torch against the trace's float64 maths, stored as float32.
RTOL, ATOL = 1e-4, 1e-5


def _close(actual: np.ndarray, expected: np.ndarray, scale: float = 1.0) -> None:
    """assert_allclose with the absolute tolerance scaled by the magnitudes in play."""
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL * max(1.0, scale))


# -- random networks ---------------------------------------------------------------------

def _activations(draw: st.DrawFn) -> nn.Module:
    """One hidden activation, parameters drawn where the module has them."""
    name = draw(st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "sin", "elu",
                                 "gelu", "gelu_tanh", "softplus", "identity"]))
    if name == "leaky_relu":
        return nn.LeakyReLU(draw(st.floats(0.01, 0.5)))
    if name == "elu":
        return nn.ELU(draw(st.floats(0.1, 2.0)))
    if name == "softplus":
        return nn.Softplus(beta=draw(st.floats(0.5, 3.0)), threshold=draw(st.floats(1.0, 20.0)))
    plain: dict[str, Callable[[], nn.Module]] = {
        "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "sin": sf.Sine, "gelu": nn.GELU,
        "gelu_tanh": lambda: nn.GELU(approximate="tanh"), "identity": nn.Identity}
    return plain[name]()


@st.composite
def networks(draw: st.DrawFn) -> tuple[nn.Sequential, np.ndarray]:
    """(model, x): a random nn.Sequential of Linear + activations and (N, D) float32 inputs."""
    d_in = draw(st.one_of(st.just(2), st.integers(1, 16)))
    depth = draw(st.integers(1, 5))
    widths = [d_in] + [draw(st.integers(1, 16)) for _ in range(depth)]
    seed = draw(st.integers(0, 2**31 - 1))
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(widths[i], widths[i + 1], bias=draw(st.booleans())))
        if i < depth - 1:
            layers.append(_activations(draw))
    head = draw(st.sampled_from([None, "softmax", "sigmoid", "act"]))
    if head == "softmax":
        layers.append(nn.Softmax(dim=-1))
    elif head == "sigmoid":
        layers.append(nn.Sigmoid())
    elif head == "act":
        layers.append(_activations(draw))
    n = draw(st.integers(1, 24))
    scale = draw(st.sampled_from([0.1, 1.0, 3.0, 10.0]))
    x = np.random.default_rng(seed).standard_normal((n, d_in)).astype(np.float32) * scale
    return nn.Sequential(*layers).eval(), x


def _leaves(model: nn.Module) -> list[nn.Module]:
    """Leaf modules in forward order, nested Sequentials flattened, dropout left out."""
    out: list[nn.Module] = []
    for m in model.children():
        if isinstance(m, nn.Sequential):
            out.extend(_leaves(m))
        elif not isinstance(m, (nn.Dropout, nn.AlphaDropout, nn.Flatten, nn.Identity)):
            out.append(m)
    return out


def _stage_of_each_leaf(model: nn.Module) -> list[tuple[nn.Module, int]]:
    """(module, stage index its forward hook must equal): Linear → its "+b" stage, or its
    "W·x" stage when it has no bias; an activation → its own stage."""
    k = 0
    pairs = []
    for m in _leaves(model):
        k += 1
        if isinstance(m, nn.Linear) and m.bias is not None:
            k += 1
        pairs.append((m, k))
    return pairs


def assert_faithful(model: nn.Module, x: np.ndarray) -> sf.Trace:
    """Every stage equals the forward hook of its module; the last stage equals model(x)."""
    pairs = _stage_of_each_leaf(model)
    if not pairs:   # only Identity layers: nothing to trace
        with pytest.raises(TraceError, match="no layers"):
            sf.trace(model, x, grid=False)
        return sf.trace(nn.Sequential(nn.Linear(x.shape[1], 1)), x, grid=False)
    seen: dict[int, torch.Tensor] = {}
    handles = [m.register_forward_hook(
        lambda mod, inp, out, k=k: seen.__setitem__(k, out.detach().clone()))
        for m, k in pairs]
    try:
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()
    finally:
        for h in handles:
            h.remove()
    t = sf.trace(model, x, grid=False)

    assert len(t.stages) == 1 + pairs[-1][1]
    np.testing.assert_array_equal(t.stages[0].values, x)
    scale = float(np.abs(x).max(initial=0.0))
    for m, k in pairs:
        ref = seen[k].numpy()
        stage = t.stages[k]
        assert stage.index == k and stage.values.dtype == np.float32
        assert stage.values.shape == ref.shape == (len(x), stage.dim), stage.name
        if isinstance(m, nn.Linear):
            assert stage.kind == ("bias" if m.bias is not None else "linear"), stage.name
        else:
            assert stage.kind not in ("input", "linear", "bias"), stage.name
        # errors grow with the largest value met so far (float32 rounds relative to it)
        scale = max(scale, float(np.abs(ref).max(initial=0.0)))
        _close(stage.values, ref, scale)
    _close(t.output, y, scale)
    return t


# -- the property ------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(networks())
def test_every_stage_equals_its_forward_hook(net: tuple[nn.Sequential, np.ndarray]) -> None:
    model, x = net
    assert_faithful(model, x)


@settings(max_examples=15, deadline=None)
@given(networks(), st.integers(1, 3))
def test_nested_sequentials_are_flattened(net: tuple[nn.Sequential, np.ndarray],
                                          cut: int) -> None:
    model, x = net
    mods = list(model)
    cut = min(cut, len(mods))
    nested = nn.Sequential(nn.Sequential(*mods[:cut]), nn.Sequential(nn.Sequential(*mods[cut:])))
    t = assert_faithful(nested.eval(), x)
    flat = sf.trace(model, x, grid=False)
    assert [s.name for s in t.stages] == [s.name for s in flat.stages]


def test_linear_stages_split_w_then_b() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(2, 3)
    x = np.array([[1.0, 2.0], [-0.5, 0.25]], dtype=np.float32)
    t = sf.trace(nn.Sequential(lin), x, grid=False)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert [s.name for s in t.stages] == ["input", "layer 1 · W·x", "layer 1 · +b"]
    _close(t.stages[1].values, x @ w.T)
    _close(t.stages[2].values, x @ w.T + b)


def test_every_supported_activation_is_covered() -> None:
    """A fixed network with each activation once, so no kind depends on hypothesis's luck."""
    torch.manual_seed(1)
    acts: list[nn.Module] = [nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), sf.Sine(),
                             nn.ELU(0.7), nn.GELU(), nn.GELU(approximate="tanh"),
                             nn.Softplus(beta=2.0, threshold=5.0), nn.Identity()]
    layers: list[nn.Module] = []
    for i, a in enumerate(acts):
        layers += [nn.Linear(2 if i == 0 else 6, 6), a]
    model = nn.Sequential(*layers, nn.Linear(6, 4), nn.Softmax(dim=-1)).eval()
    x = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32) * 3
    t = assert_faithful(model, x)
    kinds = [s.kind for s in t.stages]
    for kind in ("relu", "leaky_relu", "sigmoid", "tanh", "sin", "elu", "gelu", "softplus",
                 "softmax"):
        assert kind in kinds
    np.testing.assert_allclose(t.output.sum(axis=1), 1.0, rtol=1e-6)


def test_softplus_above_threshold_is_linear() -> None:
    lin = nn.Linear(1, 1)
    with torch.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.fill_(0.0)
    model = nn.Sequential(lin, nn.Softplus(beta=1.0, threshold=2.0)).eval()
    x = np.array([[-5.0], [0.0], [1.9], [2.1], [30.0]], dtype=np.float32)
    assert_faithful(model, x)


def test_extreme_inputs_stay_finite() -> None:
    """Sigmoid, softmax and ELU of large magnitudes: no overflow warnings, no NaN."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 3), nn.ELU(),
                          nn.Linear(3, 3), nn.Softmax(dim=-1)).eval()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(100.0)
    x = np.array([[1e3, -1e3], [-1e4, 5e3], [0.0, 0.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        t = assert_faithful(model, x)
    assert all(np.isfinite(s.values).all() for s in t.stages)


# -- what the trace leaves out, accepts and refuses ----------------------------------------

@pytest.mark.parametrize("skipped", [nn.Dropout(0.5), nn.AlphaDropout(0.5), nn.Flatten(),
                                     nn.Identity()])
def test_dropout_in_eval_mode_is_skipped(skipped: nn.Module) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), skipped, nn.Linear(8, 3)).eval()
    x = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    t = assert_faithful(model, x)
    assert [s.short for s in t.stages] == ["input", "W·x", "+b", "ReLU", "W·x", "+b"]


class ChainNet(nn.Module):
    """A hand-written forward that is a chain: traced through torch.fx."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 8)
        self.block = nn.Sequential(nn.Linear(8, 6), sf.Sine(), nn.Dropout(0.1))
        self.fc3 = nn.Linear(6, 6, bias=False)
        self.fc4 = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x))
        h = F.gelu(self.fc2(h), approximate="tanh")  # its argument must be kept
        h = self.block(h).tanh()
        h = F.elu(self.fc3(h), alpha=1.7)
        h = F.softplus(self.fc4(h), 2.0)
        return torch.sigmoid(h)


def test_custom_module_with_a_chain_forward_is_traced_by_fx() -> None:
    torch.manual_seed(0)
    model = ChainNet().eval()
    x = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32) * 2
    t = sf.trace(model, x, grid=False)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    _close(t.output, y)
    assert [s.kind for s in t.stages] == [
        "input", "linear", "bias", "relu", "linear", "bias", "gelu", "linear", "bias", "sin",
        "tanh", "linear", "elu", "linear", "bias", "softplus", "sigmoid"]
    # the functions' arguments are kept: tanh GELU (not the exact one), alpha, beta
    pre = torch.from_numpy(t.stages[5].values)
    _close(t.stages[6].values, F.gelu(pre, approximate="tanh").numpy())
    assert t.ops[11].params == {"alpha": 1.7}
    assert t.ops[14].params == {"beta": 2.0, "threshold": 20.0}


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.fc(x))


class Branching(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
            return self.fc(x)
        return x


class Leaky(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.fc(x), 0.3)


def test_residual_and_functional_leaky_relu_are_traced() -> None:
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    for model in (Residual().eval(), Leaky().eval()):
        t = sf.trace(model, x, grid=False)
        with torch.no_grad():
            _close(t.output, model(torch.from_numpy(x)).numpy())
    assert sf.trace(Leaky(), x, grid=False).ops[-1].params == {"negative_slope": 0.3}


@pytest.mark.parametrize("model, name", [
    (nn.Sequential(nn.Linear(2, 4), nn.Conv1d(4, 4, 1)), "Conv1d"),
    (nn.Sequential(nn.Linear(2, 4), nn.Sequential(nn.LayerNorm(5))), "LayerNorm"),
    (nn.Conv1d(2, 2, 1), "Conv1d"),
    (Branching(), "Branching"),
])
def test_unsupported_module_raises_trace_error_naming_it(model: nn.Module, name: str) -> None:
    with pytest.raises(TraceError, match=name) as e:
        sf.trace(model.eval(), np.zeros((3, 2), dtype=np.float32), grid=False)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("model, x, match", [
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), np.zeros((3, 2)), "dim=0"),
    (nn.Sequential(nn.Linear(3, 3)), np.zeros((4, 2)), "3"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), np.zeros((4, 2)), "Linear\\(4, 1\\)"),
    (nn.Sequential(nn.Linear(2, 3)), np.zeros(4), "shape"),
    (nn.Sequential(nn.Linear(2, 3)), np.zeros((1, 4, 2)), "shape"),
    (nn.Sequential(nn.Linear(2, 3)), np.zeros((0, 2)), "0 points"),
    (nn.Sequential(nn.Linear(2, 3)), np.array([[0.0, np.nan]]), "NaN"),
    (nn.Sequential(nn.Linear(2, 3)), [["a", "b"]], "numeric"),
    (nn.Sequential(), np.zeros((3, 2)), "no layers"),
])
def test_bad_model_or_input_raises_trace_error(model: nn.Module, x: object, match: str) -> None:
    with pytest.raises(TraceError, match=match):
        sf.trace(model, x, grid=False)


def test_accepts_numpy_torch_and_dataset() -> None:
    data = sf.dataset("moons", n=60, seed=3)
    model = sf.build("2-5-2", activation="tanh")
    a = sf.trace(model, data.x, labels=data.y, grid=False)
    b = sf.trace(model, torch.from_numpy(data.x), labels=torch.from_numpy(data.y), grid=False)
    c = sf.trace(model, data, grid=False)
    d = sf.trace(model, data.x.astype(np.float64).tolist(), grid=False)
    for other in (b, c, d):
        assert len(other.stages) == len(a.stages)
        for s, o in zip(a.stages, other.stages, strict=True):
            np.testing.assert_array_equal(s.values, o.values)
    for t in (a, b, c):
        assert t.labels is not None
        np.testing.assert_array_equal(t.labels, data.y)
    assert c.meta["dataset"] == "moons"
    with torch.no_grad():
        _close(c.output, model(torch.from_numpy(data.x)).numpy())
