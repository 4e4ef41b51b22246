"""model/spec.py: architecture specs ("2-100-2-5" + activations), parsed and round-tripped."""

from __future__ import annotations

import pytest

import spacefold as sf
from spacefold.errors import SpecError
from spacefold.model import parse_arch


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("arch, widths", [
    ("2-100-2-5", (2, 100, 2, 5)), ("2-5", (2, 5)), (" 64-32-10 ", (64, 32, 10)),
    ("1-4096-1", (1, 4096, 1)),
])
def test_parse_arch_accepts(arch: str, widths: tuple[int, ...]) -> None:
    assert parse_arch(arch) == widths


@pytest.mark.parametrize("arch, bad", [
    ("2--5", "'2--5'"), ("2-0-5", "width 0"), ("2-x-5", "'x'"), ("5", "'5'"), ("", "''"),
    ("2-5-", "'2-5-'"), ("-2-5", "'-2-5'"), ("2-4097-5", "width 4097"), ("2-1.5-5", "'1.5'"),
    ("2-+3-5", "'+3'"), ("2-²-5", "'²'"), ("2-" + "9" * 5000 + "-5", "is not a width"),
    ("-".join(["2"] * 34), "33 layers"),
])
def test_parse_arch_rejects_naming_the_value(arch: str, bad: str) -> None:
    with pytest.raises(SpecError) as e:
        parse_arch(arch)
    assert bad in _one_line(e)


def test_spec_dict_round_trip() -> None:
    spec = sf.ArchSpec.parse("2-8-4-3", ["relu", "tanh"], head="softmax")
    assert spec.arch == "2-8-4-3"
    assert spec.to_dict() == {"widths": [2, 8, 4, 3], "activations": ["relu", "tanh"],
                              "head": "softmax"}
    assert sf.ArchSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="bad model spec"):
        sf.ArchSpec.from_dict({"widths": [2, 3]})
    with pytest.raises(SpecError, match="'nope'"):
        sf.ArchSpec.from_dict({"widths": [2, 3, 2], "activations": ["nope"]})


# -- activation parameters: leaky_relu:0.2, elu:alpha=0.5 ----------------------------------------
@pytest.mark.parametrize("written, params, canonical", [
    ("leaky_relu:0.2", {"negative_slope": 0.2}, "leaky_relu:0.2"),
    ("leaky_relu:negative_slope=0.2", {"negative_slope": 0.2}, "leaky_relu:0.2"),
    (" leaky_relu : 0.01 ", {"negative_slope": 0.01}, "leaky_relu:0.01"),
    ("leaky_relu", {"negative_slope": 0.1}, "leaky_relu"),      # spacefold's default slope
    ("leaky_relu:0.1", {"negative_slope": 0.1}, "leaky_relu"),  # the default: same spec
    ("elu:0.5", {"alpha": 0.5}, "elu:0.5"),
    ("softplus:2", {"beta": 2.0, "threshold": 20.0}, "softplus:beta=2"),
    ("softplus:beta=2:threshold=10", {"beta": 2.0, "threshold": 10.0},
     "softplus:beta=2:threshold=10"),
    ("hardtanh:-2:2", {"min_val": -2.0, "max_val": 2.0}, "hardtanh:min_val=-2:max_val=2"),
    ("gelu:tanh", {"approximate": "tanh"}, "gelu:tanh"),
    ("relu", {}, "relu"),
])
def test_activation_parameters_parse_and_write_back(written: str, params: dict[str, object],
                                                    canonical: str) -> None:
    spec = sf.ArchSpec.parse("2-8-2", written)
    assert spec.layer_params(0) == params
    assert spec.activation_texts == (canonical,)
    assert sf.ArchSpec.parse("2-8-2", canonical) == spec
    assert sf.ArchSpec.from_dict(spec.to_dict()) == spec


def test_parameters_per_layer_and_in_the_json_form() -> None:
    spec = sf.ArchSpec.parse("2-8-8-8-3", "relu,leaky_relu:0.2,elu:alpha=0.5", head="softmax")
    assert spec.activations == ("relu", "leaky_relu", "elu")
    assert [spec.layer_params(i) for i in range(4)] == [
        {}, {"negative_slope": 0.2}, {"alpha": 0.5}, {"dim": -1}]
    assert spec.to_dict()["params"] == [{}, {"negative_slope": 0.2}, {"alpha": 0.5}]
    assert sf.ArchSpec.parse("2-8-8-8-3", ["relu", "leaky_relu:0.2", "elu:0.5"],
                             head="softmax") == spec
    # a spec of defaults is written as before parameters existed: no "params" key
    assert "params" not in sf.ArchSpec.parse("2-8-8-3", "leaky_relu,elu").to_dict()
    old = {"widths": [2, 8, 3], "activations": ["leaky_relu"], "head": None}
    assert sf.ArchSpec.from_dict(old).layer_params(0) == {"negative_slope": 0.1}


@pytest.mark.parametrize("activation, bad", [
    ("leaky_relu:abc", "negative_slope 'abc' is not a number"),
    ("leaky_relu:", "negative_slope '' is not a number"),
    ("leaky_relu:nan", "must be a finite number"),
    ("relu:0.2", "relu takes no parameters"),
    ("sigmoid:beta=1", "sigmoid takes no parameters"),
    ("elu:beta=1", "elu has no parameter 'beta'; its parameters: alpha"),
    ("leaky_relu:0.2:0.3", "leaky_relu takes 1 parameter (negative_slope), got 2 values"),
    ("softplus:beta=2:3", "value '3' after a named one"),
    ("softplus:2:beta=3", "beta given twice"),
    ("softplus:beta=-1", "beta -1 must be a finite number > 0"),
    ("softplus:0", "beta 0 must be a finite number > 0"),
    ("celu:alpha=-1", "alpha -1 must be a finite number > 0"),
    ("softshrink:-0.5", "lambd -0.5 must be a finite number >= 0"),
    ("hardtanh:1:-1", "min_val 1 must be below max_val -1"),
    ("hardtanh:max_val=-2", "min_val -1 must be below max_val -2"),
    ("gelu:fast", "approximate 'fast' must be one of none, tanh"),
    ("leaky_relu(0.2)", "write its parameters after colons, like leaky_relu:0.2"),
    ("hardtanh(min_val=-2, max_val=2)", "after colons"),
    ("swish:1", "unknown activation 'swish'"),
])
def test_bad_activation_parameters_are_one_line(activation: str, bad: str) -> None:
    with pytest.raises(SpecError) as e:
        sf.ArchSpec.parse("2-8-8-2", activation)
    assert bad in _one_line(e)


@pytest.mark.parametrize("params, bad", [
    ([{"negative_slope": "0.2"}], "negative_slope '0.2' is not a number"),  # JSON: numbers
    ([{"negative_slope": True}], "is not a number"),
    ([{"slope": 0.2}], "no parameter 'slope'"),
    ({"negative_slope": 0.2}, "must be a list of one object per activation"),
    ([{}, {}], "must be a list of one object per activation"),
])
def test_a_json_spec_with_bad_parameters_is_refused(params: object, bad: str) -> None:
    d = {"widths": [2, 8, 2], "activations": ["leaky_relu"], "head": None, "params": params}
    with pytest.raises(SpecError) as e:
        sf.ArchSpec.from_dict(d)
    assert bad in _one_line(e)
