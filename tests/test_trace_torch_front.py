"""trace/torch_front.py: real PyTorch models (residual blocks, concatenations, normalisation
layers and every activation of the one table) traced through torch.fx and checked against
torch itself.

The oracle (test_faithful.py's habit): every stage whose ``source`` names a module equals a
forward hook on that module, and the last stage equals ``model(x)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import spacefold as sf
from spacefold.errors import TraceError
from spacefold.model.activations import ACTIVATIONS
from spacefold.model.torch_build import resolve

RTOL, ATOL = 1e-4, 1e-5
HEADS = [a.name for a in ACTIVATIONS.values() if a.over_classes]
ELEMENTWISE = [a.name for a in ACTIVATIONS.values() if not a.over_classes]


# -- random activations, as modules and as functional calls ------------------------------------

def _params(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """Random value-changing parameters for table activation ``name`` (torch's names)."""
    f = lambda lo, hi: draw(st.floats(lo, hi))  # noqa: E731
    if name == "leaky_relu":
        return {"negative_slope": f(0.01, 0.5)}
    if name in ("elu", "celu"):
        return {"alpha": f(0.2, 2.0)}
    if name == "gelu":
        return {"approximate": draw(st.sampled_from(["none", "tanh"]))}
    if name == "softplus":
        return {"beta": f(0.5, 3.0), "threshold": f(1.0, 20.0)}
    if name == "hardtanh":
        return {"min_val": f(-2.0, -0.1), "max_val": f(0.1, 2.0)}
    if name in ("softshrink", "hardshrink"):
        return {"lambd": f(0.1, 1.0)}
    if name == "threshold":
        return {"threshold": f(-1.0, 1.0), "value": f(-2.0, 2.0)}
    if name == "rrelu":
        lo = f(0.05, 0.3)
        return {"lower": lo, "upper": lo + f(0.0, 0.3)}
    if name in HEADS:
        return {"dim": draw(st.sampled_from([-1, 1]))}
    return {}


class Act(nn.Module):
    """Calls one activation through one of its function / method forms (picked by index)."""

    def __init__(self, name: str, form: int, params: dict[str, Any], d: int) -> None:
        super().__init__()
        a = ACTIVATIONS[name]
        forms = [("fn", f.name) for f in a.functions] + [("method", f.name) for f in a.methods]
        self.how, self.target = forms[form % len(forms)]
        self.params = dict(params)
        if name == "prelu":
            self.slopes = nn.Parameter(torch.rand(d) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = dict(self.params)
        if hasattr(self, "slopes"):
            args: tuple[Any, ...] = (self.slopes,)
        else:
            args = ()
        if self.how == "method":
            return getattr(x, self.target)(*args, **p)
        return resolve(self.target)(x, *args, **p)


def _activation(draw: st.DrawFn, d: int, names: list[str]) -> nn.Module:
    name = draw(st.sampled_from(names))
    params = _params(draw, name)
    a = ACTIVATIONS[name]
    if name == "identity":
        return nn.Identity()
    if draw(st.booleans()) and (a.functions or a.methods):
        return Act(name, draw(st.integers(0, 5)), params, d)
    if name == "prelu":
        m = nn.PReLU(draw(st.sampled_from([1, d])))
        with torch.no_grad():
            m.weight.uniform_(-0.5, 0.8)
        return m
    cls = resolve(a.modules[0])
    return cls(**params)  # type: ignore[no-any-return]


def _norm(draw: st.DrawFn, d: int) -> nn.Module:
    kind = draw(st.sampled_from(["batch", "layer", "rms", "group"]))
    if kind == "batch":
        m: nn.Module = nn.BatchNorm1d(d, affine=draw(st.booleans()))
        with torch.no_grad():
            assert m.running_mean is not None and m.running_var is not None
            m.running_mean.normal_(0.0, 1.0)
            m.running_var.uniform_(0.3, 3.0)
            if m.weight is not None:
                m.weight.normal_(1.0, 0.5)
                m.bias.normal_(0.0, 0.5)
        return m
    affine = draw(st.booleans())
    if kind == "layer":
        m = nn.LayerNorm(d, elementwise_affine=affine, bias=draw(st.booleans()))
    elif kind == "rms":
        m = nn.RMSNorm(d, elementwise_affine=affine, eps=draw(st.sampled_from([None, 1e-5])))
    else:
        groups = draw(st.sampled_from([g for g in range(1, d + 1) if d % g == 0]))
        m = nn.GroupNorm(groups, d, affine=affine)
    for p in m.parameters():
        with torch.no_grad():
            p.normal_(0.5, 0.5)
    return m


class Residual(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Branches(nn.Module):
    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], dim=-1)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[nn.Module, np.ndarray]:
    """(model, x): a random 2-D-input model of Linear, norms, activations (modules and
    functions), residual blocks and concatenated branches, widths 1-12, in eval mode."""
    seed = draw(st.integers(0, 2**31 - 1))
    torch.manual_seed(seed)
    w = lambda: draw(st.integers(1, 12))  # noqa: E731
    d = 2
    layers: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["linear", "act", "norm", "residual", "cat"]))
        if kind == "linear":
            out = w()
            layers.append(nn.Linear(d, out, bias=draw(st.booleans())))
            d = out
        elif kind == "act":
            layers.append(_activation(draw, d, ELEMENTWISE))
        elif kind == "norm":
            layers.append(_norm(draw, d))
        elif kind == "residual":
            h = w()
            body: list[nn.Module] = [_norm(draw, d)] if draw(st.booleans()) else []
            body += [nn.Linear(d, h), _activation(draw, h, ELEMENTWISE), nn.Linear(h, d)]
            layers.append(Residual(nn.Sequential(*body)))
        else:
            outs = [w() for _ in range(draw(st.integers(1, 3)))]
            layers.append(Branches([nn.Sequential(nn.Linear(d, o),
                                                  _activation(draw, o, ELEMENTWISE))
                                    for o in outs]))
            d = sum(outs)
    layers.append(nn.Linear(d, w()))
    if draw(st.booleans()):
        layers.append(_activation(draw, 0, HEADS + ["sigmoid"]))
    n = draw(st.integers(2, 24))   # torch's GroupNorm refuses a batch of one
    scale = draw(st.sampled_from([0.1, 1.0, 3.0]))
    x = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32) * scale
    return nn.Sequential(*layers).eval(), x


# -- the oracle -----------------------------------------------------------------------------------

def assert_faithful(model: nn.Module, x: np.ndarray) -> sf.Trace:
    """Each module named by a stage's ``source`` equals (forward hook) the last stage from it;
    the last stage equals model(x). Tolerances grow with the magnitudes met and with how
    much a normalisation divides (float32 errors are relative to what they divide)."""
    t = sf.trace(model, x, grid=False)
    mods = dict(model.named_modules())
    last: dict[str, int] = {}
    for s in t.stages[1:]:
        if s.source in mods:
            last[s.source] = s.index
    # every computing leaf module has a stage
    for qual, m in mods.items():
        if not list(m.children()) and not isinstance(m, (nn.Identity, nn.Dropout, Act)):
            assert qual in last, f"module {qual} ({type(m).__name__}) has no stage"
    seen: dict[str, torch.Tensor] = {}
    handles = [mods[q].register_forward_hook(
        lambda mod, inp, out, q=q: seen.__setitem__(q, out.detach().clone())) for q in last]
    try:
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()
    finally:
        for h in handles:
            h.remove()
    scale = float(np.abs(x).max(initial=1.0))
    amp = 1.0
    for s in t.stages[1:]:
        scale = max(scale, float(np.abs(s.values).max(initial=0.0)))
        if s.kind == "normalise":           # x / std(x): float32 errors divided by std too
            src = t.stages[s.base].values.astype(np.float64)
            sd = np.sqrt(src.var(axis=1) + t.ops[s.index - 1].params["eps"])
            amp *= max(1.0, float(np.abs(src).max(initial=0.0) / sd.min()))
        if s.source in last and last[s.source] == s.index:
            ref = seen[s.source].numpy()
            assert s.values.shape == ref.shape, s.name
            np.testing.assert_allclose(s.values, ref, rtol=RTOL * amp, atol=ATOL * scale * amp,
                                       err_msg=f"{s.name} ({s.source})")
    np.testing.assert_allclose(t.output, y, rtol=RTOL * amp, atol=ATOL * scale * amp)
    return t


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_every_module_stage_equals_its_forward_hook(net: tuple[nn.Module, np.ndarray]) -> None:
    assert_faithful(*net)


FORMS = [(a.name, form) for a in ACTIVATIONS.values()
         for form, forms in (("module", a.modules), ("function", a.functions),
                             ("method", a.methods)) if forms]


@pytest.mark.parametrize(("name", "form"), FORMS)
def test_every_activation_of_the_table_in_every_form(name: str, form: str) -> None:
    """No entry depends on hypothesis's luck: each one in each of its forms, by torch."""
    a = ACTIVATIONS[name]
    forms = {"module": len(a.modules), "function": len(a.functions), "method": len(a.methods)}
    torch.manual_seed(0)
    d = 4
    params = {k: v for k, v in a.params.items() if k != "weight"}   # PReLU: a tensor
    if name == "threshold":
        params = {"threshold": 0.3, "value": -0.5}
    count = forms[form]
    for i in range(count):
        if form == "module":
            if name == "prelu":
                act: nn.Module = nn.PReLU(d, init=0.3)
            else:
                act = resolve(a.modules[i])(**params)
        else:
            offset = 0 if form == "function" else len(a.functions)
            act = Act(name, offset + i, params, d)
        model = nn.Sequential(nn.Linear(2, d), act).eval()
        x = np.random.default_rng(i).standard_normal((64, 2)).astype(np.float32) * 3
        t = assert_faithful(model, x)
        if name != "identity":
            assert t.stages[-1].kind == name and t.stages[-1].name.endswith(a.label)


class Written(nn.Module):
    """A forward as people write it: ``step`` between two Linear layers (3 → 3 units), and
    ``end`` after the one-output head."""

    def __init__(self, step: Any, end: Any = None) -> None:
        super().__init__()
        self.a, self.b, self.head = nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 1)
        self.step, self.end = step, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.b(self.step(self.a(x.float())))
        out = self.head(torch.tanh(h))
        return out if self.end is None else self.end(out)


@pytest.mark.parametrize(("step", "end", "kinds"), [
    (lambda h: h.view(h.size(0), -1).contiguous(), lambda o: o.squeeze(-1), ("tanh",)),
    (lambda h: torch.flatten(h.reshape(-1, 3), 1).to(torch.float32),
     lambda o: torch.sigmoid(o).squeeze(1), ("tanh", "sigmoid")),
    (lambda h: h.reshape(h.shape[0], 3).double().float(), lambda o: o.view(-1), ("tanh",)),
    (lambda h: torch.clamp(h, min=0), None, ("relu", "tanh")),
    (lambda h: h.clamp(-0.5, 0.7), None, ("hardtanh", "tanh")),
    (lambda h: torch.clamp_min(h, 0.2), None, ("threshold", "tanh")),
])
def test_casts_reshapes_and_clamps_people_write_are_traced(step: Any, end: Any,
                                                           kinds: tuple[str, ...]) -> None:
    """Casts, views, flatten and a one-output squeeze change no number: no stage; clamp is
    the table activation it equals. Each was refused ("unsupported operation .float()")."""
    torch.manual_seed(0)
    model = Written(step, end).eval()
    x = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32) * 2
    t = sf.trace(model, x, grid=False)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().reshape(-1, 1)
    np.testing.assert_allclose(t.output, y, rtol=1e-5, atol=1e-5)
    assert tuple(s.kind for s in t.stages if s.kind not in ("input", "linear", "bias")) == kinds


@pytest.mark.parametrize(("step", "match"), [
    (lambda h: h.view(-1, 1, 3), r"unsupported operation .view\(\)"),
    (lambda h: h.half(), r"unsupported operation .half\(\)"),
    (lambda h: h.clamp(max=1.0), r"unsupported operation .clamp\(\)"),
    (lambda h: torch.flatten(h), r"unsupported operation torch.flatten"),
])
def test_reshapes_that_change_the_numbers_or_shape_are_still_refused(step: Any,
                                                                     match: str) -> None:
    with pytest.raises(TraceError, match=match):
        sf.trace(Written(step).eval(), np.zeros((3, 2), dtype=np.float32), grid=False)


def test_source_and_parent_of_the_issue_example() -> None:
    class Block(nn.Module):
        def __init__(s, d: int) -> None:
            super().__init__()
            s.norm, s.fc = nn.LayerNorm(d), nn.Linear(d, d)

        def forward(s, x: torch.Tensor) -> torch.Tensor:
            return x + F.silu(s.fc(s.norm(x)))

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), Block(3), Block(3), nn.Linear(3, 5)).eval()
    d = sf.dataset("spiral", n=120)
    assert_faithful(model, d.x)
    t = sf.trace(model, d)                      # with the grid and the regions
    assert [s.short for s in t.stages] == [
        "input", "W·x", "+b", "LayerNorm", "LayerNorm γ·x+β", "W·x", "+b", "SiLU",
        "+ skip (from stage 2)", "LayerNorm", "LayerNorm γ·x+β", "W·x", "+b", "SiLU",
        "+ skip (from stage 8)", "W·x", "+b"]
    assert [s.source for s in t.stages[:9]] == ["", "0", "0", "1.norm", "1.norm", "1.fc",
                                                "1.fc", "silu", "add"]
    assert t.stages[8].parent == (2, 7) and t.stages[8].base == 7
    assert t.stages[9].parent == 8 and t.stages[0].parent is None
    # a sum slides from f(x) (alpha 0) to x + f(x) (alpha 1)
    np.testing.assert_allclose(t.at(8, 0.0), t.stages[7].values, rtol=1e-6)
    np.testing.assert_allclose(t.at(8, 1.0), t.stages[8].values, rtol=1e-6)
    np.testing.assert_allclose(t.at(8, 0.25), t.stages[7].values + 0.25 * t.stages[2].values,
                               rtol=1e-5, atol=1e-6)
    # stage 9 moves from stage 8, as in a chain
    np.testing.assert_allclose(t.at(9, 0.0), t.stages[8].values, rtol=1e-6)
    g = t.grid_at(8, 0.5)
    assert t.stages[7].grid is not None and t.stages[2].grid is not None
    np.testing.assert_allclose(g, t.stages[7].grid + 0.5 * t.stages[2].grid, rtol=1e-5,
                               atol=1e-5)
    # carrying points runs the whole graph; a tail that needs an earlier stage says so
    np.testing.assert_allclose(t.carry(d.x)[-1], t.output, rtol=1e-5, atol=1e-5)
    with pytest.raises(TraceError, match="reads stage 2; carry from stage 2"):
        t.carry(t.stages[5].values, start=5)
    np.testing.assert_allclose(t.carry(t.stages[8].values, start=8)[-1], t.output,
                               rtol=1e-5, atol=1e-5)


def test_concatenation_moves_on_from_its_last_branch() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(Branches([nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1), nn.Tanh())]),
                          nn.Linear(3, 2)).eval()
    x = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    t = assert_faithful(model, x)
    cat = next(s for s in t.stages if s.kind == "concat")
    assert cat.dim == 3 and cat.parent == (2, 5) and cat.short == "concat (stages 2, 5)"
    assert cat.base == cat.index - 1 == 5
    start = t.at(cat.index, 0.0)                # the tanh branch zero-padded: continuous
    np.testing.assert_allclose(start[:, 0], t.stages[5].values[:, 0], rtol=1e-6)
    np.testing.assert_allclose(start[:, 1:], 0.0)
    np.testing.assert_allclose(t.at(cat.index, 1.0), cat.values, rtol=1e-6)
    p, g = t.display_at(cat.index, 0.5)
    assert p.shape == (40, 2)


def test_batchnorm_is_one_affine_stage_with_its_folded_matrix() -> None:
    bn = nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([1.0, -2.0, 0.5]))
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 1.0]))
        bn.weight.copy_(torch.tensor([2.0, 1.0, -1.0]))
        bn.bias.copy_(torch.tensor([0.0, 1.0, 3.0]))
    model = nn.Sequential(nn.Linear(2, 3), bn, nn.ReLU()).eval()
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    t = assert_faithful(model, x)
    assert [s.short for s in t.stages] == ["input", "W·x", "+b", "BatchNorm", "ReLU"]
    op = t.ops[2]
    scale = np.array([2.0, 1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25, 1.0]) + bn.eps)
    np.testing.assert_allclose(op.params["W"], np.diag(scale))
    np.testing.assert_allclose(op.params["b"], np.array([0.0, 1.0, 3.0])
                               - np.array([1.0, -2.0, 0.5]) * scale)


def test_layernorm_puts_every_point_on_the_sphere() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.LayerNorm(4, elementwise_affine=False)).eval()
    x = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32) * 3
    t = assert_faithful(model, x)
    v = t.output.astype(np.float64)
    np.testing.assert_allclose(v.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 2.0, rtol=1e-3)  # radius √d


def test_a_model_in_training_mode_is_traced_in_eval_mode_and_says_so() -> None:
    bn = nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.running_var.fill_(4.0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), bn)   # .train() by default
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    with pytest.warns(UserWarning, match="training mode; spacefold traces it as in eval mode"):
        t = sf.trace(model, x, grid=False)
    assert model.training                       # the user's model is left as it was
    with torch.no_grad():
        np.testing.assert_allclose(t.output, model.eval()(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_sources_and_parents_reach_the_npz(tmp_path: Any) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), Residual(nn.Sequential(nn.Linear(3, 3), nn.ReLU())))
    t = sf.trace(model.eval(), np.zeros((4, 2), dtype=np.float32), grid=False)
    path = t.to_npz(tmp_path / "t.npz")
    with np.load(path) as z:
        assert list(z["sources"]) == [s.source for s in t.stages]
        assert z["parents"].tolist() == [[-1, -1], [0, -1], [1, -1], [2, -1], [3, -1],
                                         [4, -1], [2, 5]]


# -- refusals: one line naming the operation and the node -------------------------------------

class MatmulParam(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.w)


class InPlace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).relu_()


class InPlaceReadAgain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h + F.relu(h, inplace=True)


class DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.fc(x)
        return x


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.fc(x) + y


class Bilinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bi = nn.Bilinear(2, 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bi(x, x)


class Times(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


@pytest.mark.parametrize("model, match", [
    (MatmulParam(), r"unsupported operation operator.matmul in MatmulParam.forward "
                    r"\(node 'matmul'\); supported: Linear"),
    (InPlace(), r"in-place operation .relu_\(\) in InPlace.forward \(node 'relu_'\)"),
    (InPlaceReadAgain(), r"in-place operation F.relu .*'fc', which is read again"),
    (DataDependent(), r"cannot trace DataDependent.forward with torch.fx: data-dependent "
                      r"control flow .* at test_trace_torch_front.py:\d+"),
    (TwoInputs(), r"TwoInputs.forward takes 2 inputs \(x, y\)"),
    (Bilinear(), r"module 'bi' \(Bilinear\) called with 2 inputs in Bilinear.forward"),
    (Times(), r"unsupported operation operator.mul in Times.forward \(node 'mul'\)"),
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), r"softmax over dim=0"),
    (nn.Sequential(nn.Linear(2, 3), nn.GroupNorm(2, 4)), r"GroupNorm\(2, 4\) .1. on 3-D"),
    (nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, track_running_stats=False)),
     r"BatchNorm1d '1' without running statistics"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)).to("meta"),
     r"Sequential's weights 0.weight, 0.bias, 2.weight, ... have no values \(they live on "
     r"the 'meta' device\)"),
])
def test_refused_models_get_one_line_naming_the_op_and_node(model: nn.Module,
                                                             match: str) -> None:
    with pytest.raises(TraceError, match=match) as e:
        sf.trace(model.eval(), np.zeros((3, 2), dtype=np.float32), grid=False)
    assert "\n" not in str(e.value)
    assert e.value.__cause__ is None   # no chained traceback behind the line


RESIDUAL_PY = """
import torch
from torch import nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(s, d):
        super().__init__()
        s.norm, s.fc = nn.LayerNorm(d), nn.Linear(d, d)

    def forward(s, x):
        return x + F.silu(s.fc(s.norm(x)))

class Matmul(nn.Module):
    def __init__(s):
        super().__init__()
        s.w = nn.Parameter(torch.ones(2, 2))

    def forward(s, x):
        return torch.relu(x @ s.w)

def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), Block(3), Block(3), nn.Linear(3, 5))
"""


def test_the_cli_renders_a_residual_layernorm_silu_model(tmp_path: Any,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from cli_helpers import run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "res.py").write_text(RESIDUAL_PY)
    for out, size in (("res.npz", []), ("res.png", ["--size", "320x180"])):  # (.npz: no size)
        code, _, err = run(capsys, "render", "layers", "--model-code", "res.py:model",
                           "--data", "spiral", "--classes", "5", *size, "-o", out)
        assert code == 0, err
    with np.load(tmp_path / "res.npz") as z:
        assert "1.norm" in list(z["sources"]) and [2, 7] in z["parents"].tolist()
        assert "layer 2 · + skip (from stage 2)" in list(z["names"])
    assert (tmp_path / "res.png").stat().st_size > 10_000


def test_a_refused_model_at_the_cli_is_one_line(tmp_path: Any,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from cli_helpers import assert_one_line_error, run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "res.py").write_text(RESIDUAL_PY)
    code, _, err = run(capsys, "render", "layers", "--model-code", "res.py:Matmul",
                       "--data", "spiral", "-o", "m.png")
    assert_one_line_error(code, err, "operator.matmul", "node 'matmul'")
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_half_precision_model_is_traced_exactly_and_says_so(dtype: torch.dtype) -> None:
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
    x = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.warns(UserWarning, match=f"{str(dtype)[6:]} weights; spacefold traces"):
        tr = sf.trace(net, x)
    exact = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    exact.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    with torch.no_grad():
        want = exact(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(tr.output, want, rtol=1e-5, atol=1e-5)
