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
