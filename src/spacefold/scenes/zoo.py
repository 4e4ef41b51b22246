"""The catalogue's default networks, trained on demand and cached per process.

A scene given ``model=`` tells about that network; these are what it tells about otherwise.
Every network is trained here, seeded, from the registered datasets — no stored weights, no
hand-set numbers. Each function returns ``(model, data, history)``.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from spacefold.data.datasets import Dataset, dataset


def spiral_data(classes: int = 5, n: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    return dataset("spiral", classes=classes, n=n, noise=noise, seed=seed)


@cache
def spiral_net(arch: str = "2-100-5", activation: str = "relu", seed: int = 0,
               epochs: int = 2000, lr: float = 0.02,
               target: float | None = 0.995) -> tuple[Any, Dataset, Any]:
    """A network trained on the 5-class spiral (1000 points, noise 0.2, seed 0)."""
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    data = spiral_data()
    model = build(arch, activation, seed=seed)
    hist = train(model, data, lr=lr, epochs=epochs, target_accuracy=target, seed=seed)
    return model, data, hist


# -- digits and training (scenes `digits`, `training`) ------------------------------------------

def _without_identity(model: Any) -> Any:
    """The same Sequential minus its Identity modules (no empty "identity" stage to show)."""
    from torch import nn

    return nn.Sequential(*[m for m in model if not isinstance(m, nn.Identity)])


def digits_net(mnist: str | None = None, seed: int = 0, test: int = 400,
               epochs: int | None = None, lr: float = 0.002, batch_size: int = 32,
               mnist_n: int = 6000) -> tuple[Any, Dataset, Dataset, Any]:
    """A D-128-64-2-10 network on handwritten digits: ReLU hidden layers, then a *linear*
    2-unit bottleneck (a ReLU there folds the 10 clusters onto the axes and cost 3-10 points
    of held-out accuracy here), so the last layer cuts that plane with straight lines.

    The data are scikit-learn's bundled 8x8 digits (D = 64, 1797 images), or ``mnist_n``
    seeded MNIST training images read from the IDX files in the folder ``mnist`` (D = 784).
    ``test`` images are held out (seeded split). Mini-batches of 32 with Adam: seeds 0-3 reach
    92-95% held-out accuracy on the 8x8 digits in 40 epochs (about 2 s on one core).

    Returns ``(model, train_set, test_set, history)``; ``history.test_accuracy`` per epoch.
    """
    # positional, so that digits_net() and digits_net(seed=0) share one cache entry
    return _digits_net(mnist, seed, test, epochs, lr, batch_size, mnist_n)


@lru_cache(maxsize=4)
def _digits_net(mnist: str | None, seed: int, test: int, epochs: int | None, lr: float,
                batch_size: int, mnist_n: int) -> tuple[Any, Dataset, Dataset, Any]:
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    if mnist is not None:
        from spacefold.data.mnist import load_mnist

        data = load_mnist(mnist, n=mnist_n, seed=seed)
        epochs = 15 if epochs is None else epochs
    else:
        from spacefold.data.mnist import bundled_digits

        data = bundled_digits()                       # = dataset("digits"), minus the imports
        epochs = 40 if epochs is None else epochs
    test = min(test, len(data) // 4)      # a small MNIST folder still gets a held-out split
    train_set, test_set = data.split(test=test / len(data), seed=seed)
    arch = f"{data.dim}-128-64-2-10"
    model = _without_identity(build(arch, "relu,relu,identity", seed=seed))
    hist = train(model, train_set, lr=lr, epochs=epochs, batch_size=batch_size,
                 target_accuracy=None, seed=seed, test=test_set)
    return model.eval(), train_set, test_set, hist


def snapshot_epochs(epochs: int, count: int) -> list[int]:
    """``count`` epochs from 0 (the initial weights) to ``epochs``, spaced evenly in
    log(1 + epoch): early training, where everything moves, gets most of the snapshots."""
    import numpy as np

    raw = np.expm1(np.linspace(0.0, np.log1p(epochs), count))
    return sorted({int(round(e)) for e in raw} | {0, epochs})


def spiral_snapshots(arch: str = "2-100-2-5", activation: str = "relu", seed: int = 0,
                     epochs: int = 300, lr: float = 0.02, count: int = 40
                     ) -> tuple[Any, Dataset, list[tuple[int, dict[str, Any]]], Any]:
    """Train ``arch`` on the 5-class spiral for ``epochs`` (full batch, Adam), keeping a copy
    of the weights at the :func:`snapshot_epochs` (epoch 0 = the initial weights).

    Returns ``(model, data, [(epoch, state_dict), ...], history)``. Training is full batch,
    so ``history.loss[e]`` is the loss of the weights after e epochs (measured before epoch
    e+1's step), the same weights as snapshot e. With lr 0.02 the 2-100-2-5 ReLU net passes
    99% accuracy near epoch 150.
    """
    return _spiral_snapshots(arch, activation, seed, epochs, lr, count)


@lru_cache(maxsize=4)
def _spiral_snapshots(arch: str, activation: str, seed: int, epochs: int, lr: float,
                      count: int) -> tuple[Any, Dataset, list[tuple[int, dict[str, Any]]], Any]:
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    data = spiral_data()
    model = build(arch, activation, seed=seed)
    wanted = set(snapshot_epochs(epochs, count))

    def copy() -> dict[str, Any]:
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    snaps: list[tuple[int, dict[str, Any]]] = [(0, copy())]

    def keep(epoch: int, _epochs: int, _loss: float, _acc: float) -> None:
        if epoch in wanted:
            snaps.append((epoch, copy()))

    hist = train(model, data, lr=lr, epochs=epochs, target_accuracy=None, seed=seed,
                 progress=keep)
    return model.eval(), data, snaps, hist
