"""The trained networks the catalogue is told with, trained on demand and cached per process.

Every network is trained here, seeded, from the registered datasets — no stored weights, no
hand-set numbers. Each function returns ``(model, data, history)``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from spacefold.data.datasets import Dataset, dataset


def spiral_data(classes: int = 5, n: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    return dataset("spiral", classes=classes, n=n, noise=noise, seed=seed)


@lru_cache(maxsize=None)
def spiral_net(arch: str = "2-100-5", activation: str = "relu", seed: int = 0,
               epochs: int = 2000, lr: float = 0.02,
               target: float | None = 0.995) -> tuple[Any, Dataset, Any]:
    """A network trained on the 5-class spiral (1000 points, noise 0.2, seed 0)."""
    from spacefold.model.spec import build
    from spacefold.model.train import train

    data = spiral_data()
    model = build(arch, activation, seed=seed)
    hist = train(model, data, lr=lr, epochs=epochs, target_accuracy=target, seed=seed)
    return model, data, hist
