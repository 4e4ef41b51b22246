"""model/tensor_files.py: weight files read as numpy arrays, the format sniffed from the first
bytes (not the suffix), the tensors in layer order; torch and safetensors are the oracles."""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from spacefold.errors import SpecError
from spacefold.model.tensor_files import first_line, natural, read_tensors


def _state(n: int = 12) -> OrderedDict[str, torch.Tensor]:
    """A deep Sequential's state dict: "fc.10" must come after "fc.2"."""
    g = torch.Generator().manual_seed(0)
    return OrderedDict((f"fc.{i}.{p}", torch.randn(3, 3, generator=g) if p == "weight"
                        else torch.randn(3, generator=g))
                       for i in range(n) for p in ("weight", "bias"))


def test_layer_keys_sort_as_numbers() -> None:
    keys = ["fc.10.weight", "fc.2.weight", "fc.2.bias", "head.weight", "fc.1.weight"]
    assert sorted(keys, key=natural) == ["fc.1.weight", "fc.2.bias", "fc.2.weight",
                                         "fc.10.weight", "head.weight"]


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".weights"])   # suffix ignored
def test_safetensors_read_back_exactly_in_layer_order(tmp_path: Path, suffix: str) -> None:
    state = {k: v.numpy() for k, v in _state().items()}
    path = tmp_path / f"m{suffix}"
    save_file(state, str(path), metadata={"spec": "2-3-2"})
    arrays, meta = read_tensors(path)
    assert list(arrays) == sorted(state, key=natural) and meta == {"spec": "2-3-2"}
    assert list(arrays).index("fc.10.weight") > list(arrays).index("fc.2.weight")
    for k in state:
        np.testing.assert_array_equal(arrays[k], state[k])


@pytest.mark.parametrize("zipfile", [True, False])     # torch's zip format and the legacy one
def test_torch_state_dicts_read_back_exactly(tmp_path: Path, zipfile: bool) -> None:
    state = _state(3)
    path = tmp_path / "m.bin"
    torch.save(state, path, _use_new_zipfile_serialization=zipfile)
    arrays, meta = read_tensors(path)
    assert list(arrays) == list(state) and meta == {}
    for k, v in state.items():
        np.testing.assert_array_equal(arrays[k], v.numpy())


def test_a_nested_checkpoint_and_half_precision_are_read(tmp_path: Path) -> None:
    """A training checkpoint's "model_state_dict"; bfloat16 weights come out as float32 with
    the same values (numpy has no bfloat16)."""
    w = torch.randn(4, 2).to(torch.bfloat16)
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model_state_dict": {"0.weight": w}}, path)
    arrays, _ = read_tensors(path)
    assert arrays["0.weight"].dtype == np.float32
    np.testing.assert_array_equal(arrays["0.weight"], w.float().numpy())


def test_a_checkpoint_with_its_own_key_for_the_state_dict_is_read(tmp_path: Path) -> None:
    """{"net": state_dict, "epoch": 3}: the one dict of tensors in it is the state dict; two
    of them ({"generator": ..., "discriminator": ...}) are one line naming both."""
    w = torch.randn(4, 2)
    path = tmp_path / "ckpt.pt"
    torch.save({"net": {"0.weight": w}, "epoch": 3, "opt": {"lr": 0.1}}, path)
    arrays, _ = read_tensors(path)
    np.testing.assert_array_equal(arrays["0.weight"], w.numpy())
    torch.save({"generator": {"0.weight": w}, "discriminator": {"0.weight": w}}, path)
    with pytest.raises(SpecError, match=r"holds 2 state dicts \(generator, discriminator\)"):
        read_tensors(path)


@pytest.mark.parametrize(("content", "why"), [
    (b"hello, not weights", "neither a safetensors file nor a PyTorch state dict"),
    (b"", "neither a safetensors file nor a PyTorch state dict"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ", "not a readable safetensors file"),
])
def test_a_file_of_neither_format_is_one_line(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(content)
    with pytest.raises(SpecError, match=why) as e:
        read_tensors(path)
    assert "\n" not in str(e.value)


def test_a_torch_file_that_is_not_a_state_dict_says_what_to_save(tmp_path: Path) -> None:
    for obj, what in (({"epoch": 3, "lr": 0.1}, "holds a dict (epoch, lr)"),
                      ([torch.zeros(2)], "holds a list")):
        path = tmp_path / "m.pt"
        torch.save(obj, path)
        with pytest.raises(SpecError, match=re.escape(what) + r".*torch.save\(model.state_dict"):
            read_tensors(path)
    with pytest.raises(SpecError, match="does not exist"):
        read_tensors(tmp_path / "gone.pt")
    with pytest.raises(SpecError, match="is not a file"):
        read_tensors(tmp_path)


def test_a_numpy_npz_archive_is_named_as_one(tmp_path: Path) -> None:
    """An .npz is a zip like torch's files, but torch's reader only says "file in archive
    is not in a subdirectory": the message names the format instead."""
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.zeros((3, 2)))
    with pytest.raises(SpecError, match=r"is a NumPy \.npz archive; spacefold reads weights "
                                        r"from safetensors files and PyTorch state dicts"):
        read_tensors(path)


def test_first_line_of_an_error() -> None:
    assert first_line(ValueError("bad header\n  at byte 3")) == "bad header"
    assert first_line(KeyError()) == "KeyError"


def test_tensors_numpy_has_no_type_for_are_read_as_float32(tmp_path: Path) -> None:
    from safetensors.torch import save_file as save_torch

    sd = {"0.weight": torch.randn(4, 2), "0.bias": torch.randn(4)}
    for dtype in (torch.bfloat16, torch.float8_e4m3fn):
        p = tmp_path / f"w_{str(dtype)[6:]}.safetensors"
        save_torch({k: v.to(dtype) for k, v in sd.items()}, str(p))
        got, _ = read_tensors(p)
        assert sorted(got) == ["0.bias", "0.weight"]
        for k, v in sd.items():
            assert got[k].dtype == np.float32
            np.testing.assert_array_equal(got[k], v.to(dtype).float().numpy())


def test_sparse_and_quantized_tensors_are_made_dense(tmp_path: Path) -> None:
    w = torch.randn(4, 2)
    p = tmp_path / "s.pt"
    torch.save({"0.weight": w.to_sparse(), "0.bias": torch.quantize_per_tensor(
        torch.randn(4), 0.1, 0, torch.qint8)}, p)
    got, _ = read_tensors(p)
    np.testing.assert_array_equal(got["0.weight"], w.numpy())
    assert got["0.bias"].dtype == np.float32
    torch.save({"0.weight": torch.empty(4, 2, device="meta")}, p)
    with pytest.raises(SpecError, match="'meta' device"):
        read_tensors(p)


@pytest.mark.parametrize("value, why", [(float("nan"), "hold NaN or infinite"),
                                        (float("inf"), "hold NaN or infinite"),
                                        (1e300, "hold values beyond float32")])
def test_weights_that_are_not_finite_float32_numbers_are_refused(
        tmp_path: Path, value: float, why: str) -> None:
    w = torch.zeros(4, 2, dtype=torch.float64)
    w[1, 1] = value
    p = tmp_path / "w.pt"
    torch.save({"0.weight": w, "0.bias": torch.zeros(4)}, p)
    with pytest.raises(SpecError, match=f"weights 0.weight {why}"):
        read_tensors(p)
    torch.save({"0.weight": torch.zeros(4, 2, dtype=torch.complex64)}, p)
    with pytest.raises(SpecError, match="not real numbers"):
        read_tensors(p)
