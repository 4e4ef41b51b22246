"""model/linears.py: a weight file's Linear layers found by order and shape, whatever their
key names, and matched to an architecture; torch's own modules are the oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import SpecError
from spacefold.model.linears import guess_arch, linear_layers, network_from_linears, shapes

FILE = Path("m.pt")


class Named(nn.Module):
    """Key names of every kind: "enc.weight", "mid_weight" (a Parameter), a bias-free head."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.enc = nn.Linear(2, 6)
        self.mid_weight = nn.Parameter(torch.randn(4, 6, generator=g))
        self.mid_bias = nn.Parameter(torch.randn(4, generator=g))
        self.head = nn.Linear(4, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.enc(x))
        h = torch.tanh(h @ self.mid_weight.T + self.mid_bias)
        return self.head(h)


def _arrays(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_linear_layers_in_file_order_with_their_biases() -> None:
    found = linear_layers(_arrays(Named()), FILE)     # a module's own parameters come first
    assert [lw.name for lw in found] == ["mid_weight", "enc.weight", "head.weight"]
    by = {lw.name: lw for lw in found}
    assert by["head.weight"].bias is None and by["mid_weight"].bias is not None
    assert shapes([by["enc.weight"], by["head.weight"]]) == "(6, 2), (3, 4)"


def test_the_matched_network_is_the_modules_function() -> None:
    """Matched to 2-6-4-3 tanh, the numpy Network computes what the module does (the
    bias-free head gets a zero bias: the same map)."""
    model = Named().eval()
    arrays = _arrays(model)
    order = ["enc.weight", "enc.bias", "mid_weight", "mid_bias", "head.weight"]
    found = linear_layers({k: arrays[k] for k in order}, FILE)
    assert guess_arch(found) == "2-6-4-3"
    net = network_from_linears(sf.ArchSpec.parse("2-6-4-3", "tanh"), found, FILE, "--arch")
    x = np.random.default_rng(0).standard_normal((50, 2))
    with torch.no_grad():
        want = model(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_allclose(sf.trace(net, x, grid=False).output, want, atol=1e-5)
    np.testing.assert_array_equal(net.params["4.bias"], np.zeros(3, np.float32))


def test_a_bias_of_the_wrong_shape_is_left_over_and_named() -> None:
    w = np.ones((3, 2), np.float32)
    assert linear_layers({"l.weight": w, "l.bias": np.ones(3)}, FILE)[0].bias is not None
    with pytest.raises(SpecError, match=r"not Linear weights \(l.bias\)"):
        linear_layers({"l.weight": w, "l.bias": np.ones(2, np.float32)}, FILE)


def test_layers_that_do_not_chain_or_do_not_fit_are_named() -> None:
    found = linear_layers({"a.weight": np.ones((5, 2)), "b.weight": np.ones((3, 4))}, FILE)
    assert guess_arch(found) is None
    with pytest.raises(SpecError, match=r"shapes \(5, 2\), \(3, 4\); --arch 2-5-3 needs "
                                        r"\(5, 2\), \(3, 5\)"):
        network_from_linears(sf.ArchSpec.parse("2-5-3"), found, FILE, "--arch 2-5-3")
    with pytest.raises(SpecError, match="not Linear weights .*--model-code"):
        linear_layers({"bn.running_mean": np.zeros(3), "l.weight": np.ones((3, 2))}, FILE)
    with pytest.raises(SpecError, match="no Linear weights"):
        linear_layers({}, FILE)


class Unordered(nn.Module):
    """Names that sort out of layer order ("hidden" < "input" < "output")."""

    def __init__(self, h: int) -> None:
        super().__init__()
        torch.manual_seed(h)
        self.input, self.hidden, self.output = nn.Linear(2, h), nn.Linear(h, h), nn.Linear(h, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(torch.relu(self.input(x)))))


def _save_safetensors(module: nn.Module, path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    return path


def _gap(path: Path, arch: str, module: nn.Module) -> float:
    x = np.random.default_rng(0).normal(size=(20, 2))
    got = sf.trace(sf.load_model(path, arch=arch, activation="relu"), x).output
    with torch.no_grad():
        want = module(torch.as_tensor(x, dtype=torch.float32)).numpy()
    return float(np.abs(got - want).max())


def test_a_safetensors_file_whose_names_do_not_say_the_order_is_ordered_by_shape(
        tmp_path: Path) -> None:
    """safetensors keeps tensors sorted by name: "hidden" would come before "input"."""
    net = Unordered(7)
    assert _gap(_save_safetensors(net, tmp_path / "n.safetensors"), "2-7-7-2", net) < 1e-6


def test_a_safetensors_file_whose_order_is_unknown_is_one_line(tmp_path: Path) -> None:
    path = _save_safetensors(Unordered(2), tmp_path / "n.safetensors")   # all 2×2: any order fits
    with pytest.raises(SpecError, match="keeps no layer order") as e:
        sf.load_model(path, arch="2-2-2-2", activation="relu")
    assert "hidden.weight" in str(e.value) and "\n" not in str(e.value)


def test_numbered_names_give_the_order_and_a_torch_file_its_modules(tmp_path: Path) -> None:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(6):                      # keys 0, 2, ..., 10, 12: "10" sorts before "2"
        layers += [nn.Linear(2 if i == 0 else 4, 4), nn.ReLU()]
    net = nn.Sequential(*layers, nn.Linear(4, 2))
    arch = "2-4-4-4-4-4-4-2"
    assert _gap(_save_safetensors(net, tmp_path / "s.safetensors"), arch, net) < 1e-6
    same = Unordered(2)                     # a torch file keeps the module's own order
    torch.save(same.state_dict(), tmp_path / "u.pt")
    assert _gap(tmp_path / "u.pt", "2-2-2-2", same) < 1e-6
