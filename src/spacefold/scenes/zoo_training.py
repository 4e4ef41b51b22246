"""How the zoo's networks are made: their data, and one trainer per recipe kind of
:mod:`spacefold.scenes.zoo` (torch, through :mod:`spacefold.model`, imported only to train).
Run by ``scripts/train_zoo.py`` to make the shipped weights, by the zoo for a recipe that is
not shipped, and by ``tests/test_zoo.py`` to check the shipped weights against a fresh
training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.data.datasets import Dataset, dataset
from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec
from spacefold.scenes.zoo_store import Recipe, Record, Trained

# -- the data ----------------------------------------------------------------------------------

def spiral_data(classes: int = 5, n: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    return dataset("spiral", classes=classes, n=n, noise=noise, seed=seed)


def cloud_data(n: int = 1000) -> Dataset:
    return dataset("cloud", n=n, seed=222)


def digits_data(mnist: str | None = None, seed: int = 0, test: int = 400,
                mnist_n: int = 6000) -> tuple[Dataset, Dataset]:
    """The digits the digits network learns, split into ``(train, held out)``: the bundled
    8x8 digits, or ``mnist_n`` seeded MNIST images from the IDX files in the folder ``mnist``;
    ``test`` images held out (seeded split)."""
    if mnist is not None:
        from spacefold.data.mnist import load_mnist

        data = load_mnist(mnist, n=mnist_n, seed=seed)
    else:
        from spacefold.data.mnist import bundled_digits

        data = bundled_digits()                       # = dataset("digits"), minus the imports
    test = min(test, len(data) // 4)      # a small MNIST folder still gets a held-out split
    return data.split(test=test / len(data), seed=seed)


def snapshot_epochs(epochs: int, count: int) -> list[int]:
    """``count`` epochs from 0 (the initial weights) to ``epochs``, spaced evenly in
    log(1 + epoch): early training, where everything moves, gets most of the snapshots."""
    raw = np.expm1(np.linspace(0.0, np.log1p(epochs), count))
    return sorted({int(round(e)) for e in raw} | {0, epochs})


# -- the trainers ------------------------------------------------------------------------------


def network(model: Any, spec: ArchSpec) -> Network:
    """A copy of a trained ``nn.Sequential``'s weights as a numpy :class:`Network`."""
    return Network(spec, {k: v.detach().cpu().numpy().copy()
                          for k, v in model.state_dict().items()})


def record(hist: Any) -> Record:
    """The numbers of a ``model.training.History``."""
    return Record(tuple(map(float, hist.loss)), tuple(map(float, hist.accuracy)),
                  tuple(map(float, hist.test_loss)), tuple(map(float, hist.test_accuracy)),
                  str(hist.stopped))


def spiral(r: Recipe, arch: str, activation: str, seed: int, epochs: int, lr: float,
           target: float | None) -> Trained:
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    model = build(arch, activation, seed=seed)
    hist = train(model, spiral_data(), lr=lr, epochs=epochs, target_accuracy=target, seed=seed)
    return Trained(r, ((hist.epochs, network(model, ArchSpec.parse(arch, activation))),),
                   record(hist))


def digits(r: Recipe, mnist: str | None, seed: int, test: int, epochs: int, lr: float,
           batch_size: int, mnist_n: int) -> Trained:
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    train_set, test_set = digits_data(mnist, seed, test, mnist_n)
    arch, acts = f"{train_set.dim}-128-64-2-10", "relu,relu,identity"
    # the identity after the bottleneck adds no stage to a trace (nothing moves there)
    model = build(arch, acts, seed=seed)
    hist = train(model, train_set, lr=lr, epochs=epochs, batch_size=batch_size,
                 target_accuracy=None, seed=seed, test=test_set)
    return Trained(r, ((epochs, network(model.eval(), ArchSpec.parse(arch, acts))),),
                   record(hist))


def snapshots(r: Recipe, arch: str, activation: str, seed: int, epochs: int, lr: float,
              count: int) -> Trained:
    from spacefold.model.torch_build import build
    from spacefold.model.training import train

    spec = ArchSpec.parse(arch, activation)
    model = build(arch, activation, seed=seed)
    wanted = set(snapshot_epochs(epochs, count))
    snaps: list[tuple[int, Network]] = [(0, network(model, spec))]

    def keep(epoch: int, _epochs: int, _loss: float, _acc: float) -> None:
        if epoch in wanted:
            snaps.append((epoch, network(model, spec)))

    hist = train(model, spiral_data(), lr=lr, epochs=epochs, target_accuracy=None, seed=seed,
                 progress=keep)
    return Trained(r, tuple(snaps), record(hist))


def fold(r: Recipe, arch: str, seed: int, n: int, pieces: int, head: str | None) -> Trained:
    """Seeds from ``seed`` on until one separates the cloud (>= 99%) with the paper folded
    onto at least ``pieces`` pieces that each hold >= 5% of the points (a 2-unit ReLU layer
    can die at init); ``head`` is appended after training (the logits are trained)."""
    from spacefold.model.torch_build import build
    from spacefold.model.training import accuracy, train

    data = cloud_data(n)
    best: tuple[float, float, Any] = (-1.0, 0.0, None)
    for s in range(seed, seed + 12):
        m = build(arch, "relu", seed=s)
        train(m, data, lr=0.05, epochs=600, target_accuracy=0.995, seed=s)
        acc = accuracy(m, data)
        found = _pieces(m, data.x) if pieces else 0
        score = acc + (0.01 if found >= pieces else 0.0)
        if score > best[0]:
            best = (score, acc, m)
        if acc >= 0.99 and found >= pieces:
            break
    _, acc, m = best
    return Trained(r, ((600, network(m.eval(), ArchSpec.parse(arch, "relu", head))),),
                   Record(), {"accuracy": float(acc)})


def _pieces(model: Any, x: np.ndarray) -> int:
    """How many pieces of the paper (sign patterns of the first layer) hold >= 5% of ``x``."""
    lin = model[0]
    w, b = lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()
    codes = ((x @ w.T + b) > 0) @ (1 << np.arange(w.shape[0]))[::-1]
    return int((np.bincount(codes, minlength=1 << w.shape[0]) >= 0.05 * len(codes)).sum())


TRAINERS: dict[str, Callable[..., Trained]] = {"spiral": spiral, "digits": digits,
                                               "snapshots": snapshots, "fold": fold}
