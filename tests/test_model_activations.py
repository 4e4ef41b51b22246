"""model/activations.py: the one activation table names every elementwise activation class of
torch.nn, and every torch form it names exists."""

from __future__ import annotations

import torch

from spacefold.model.activations import ACTIVATIONS
from spacefold.model.torch_build import resolve

# Classes of torch.nn.modules.activation that are not elementwise maps of (N, D) points.
NOT_ELEMENTWISE = {
    "GLU",                 # halves the width: a gate, one half times sigmoid of the other
    "MultiheadAttention",  # attention over a sequence, several inputs
    "Softmax2d",           # softmax over channels of (C, H, W) images; no 2-D-points meaning
}


def test_every_activation_class_of_torch_nn_is_in_the_table() -> None:
    import torch.nn.modules.activation as acts

    in_table = {m.rsplit(".", 1)[-1] for a in ACTIVATIONS.values() for m in a.modules}
    missing = sorted(set(acts.__all__) - in_table - NOT_ELEMENTWISE)
    assert missing == [], f"add to the activation table or to NOT_ELEMENTWISE: {missing}"
    assert NOT_ELEMENTWISE <= set(acts.__all__)       # the exclusions are real classes


def test_every_form_named_in_the_table_exists_in_torch() -> None:
    for a in ACTIVATIONS.values():
        for m in a.modules:
            assert isinstance(resolve(m), type), m
        for f in a.functions:
            assert callable(resolve(f.name)), f.name
        for f in a.methods:
            assert hasattr(torch.Tensor, f.name), f.name
        assert a.label and a.formula.startswith("$") and a.narration
        assert set(a.spec or {}) <= set(a.params), a.name
