"""scenes/inputs.py: how a scene names the user's network."""

from __future__ import annotations

from torch import nn

import spacefold as sf
from spacefold.scenes.inputs import net_label


def test_the_label_names_activation_parameters_that_are_not_torchs_defaults() -> None:
    d = sf.dataset("moons", n=10)
    net = nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.2), nn.Linear(4, 4), nn.ELU(),
                        nn.Linear(4, 4), nn.LeakyReLU(), nn.Linear(4, 2), nn.Softplus(beta=2))
    assert net_label(sf.trace(net, d)) == \
        "2-4-4-4-2 leaky ReLU(0.2), ELU, leaky ReLU, softplus(beta=2)"
    # spacefold's own leaky ReLU (slope 0.1) is not torch's 0.01: the label says which
    assert net_label(sf.trace(sf.build("2-4-2", activation="leaky_relu"), d)) == \
        "2-4-2 leaky ReLU(0.1)"
    assert net_label(sf.trace(sf.build("2-4-2", activation="relu"), d)) == "2-4-2 ReLU"
