"""The catalogue's default networks: trained from their recipes, shipped with the package.

A scene given ``model=`` tells about that network; these are what it tells about otherwise.
Every network is trained, seeded, from the registered datasets — no hand-set numbers. The
ones the catalogue uses by default (:func:`shipped`) were trained once by
``scripts/train_zoo.py`` and ship as safetensors in ``zoo_weights/``, recipe and training
record inside; they load as torch-free numpy :class:`~spacefold.model.network.Network` s, so a
scene built on them neither trains nor imports torch (importing it was ~1 s of every render).
A recipe that is not shipped (another seed, MNIST) is trained here through
:mod:`spacefold.model` on first use. ``tests/test_zoo.py`` retrains every shipped recipe and
checks the shipped network agrees with it.

Each function returns the network (a ``Network``; ``.to_torch()`` gives the ``nn.Sequential``),
its data and what training reported (:class:`Record`).
"""

from __future__ import annotations

from functools import lru_cache

from spacefold.data.datasets import Dataset
from spacefold.model.network import Network
from spacefold.scenes.zoo_store import Recipe, Record, Trained, load_shipped, recipe
from spacefold.scenes.zoo_training import (
    TRAINERS,
    cloud_data,
    digits_data,
    snapshot_epochs,
    spiral_data,
)

__all__ = ["Record", "Recipe", "Trained", "cloud_data", "digits_data", "digits_net", "fold_222_net",
           "fold_232_net", "get", "shipped", "snapshot_epochs", "spiral_data", "spiral_net",
           "spiral_snapshots", "train"]


@lru_cache(maxsize=16)
def get(r: Recipe) -> Trained:
    """``r``'s network: the shipped one, else trained now (once per process)."""
    return load_shipped(r) or train(r)


def train(r: Recipe) -> Trained:
    """Train ``r`` from scratch (torch, through :mod:`spacefold.model`)."""
    return TRAINERS[r.kind](r, **dict(r.params))


# -- the recipes -------------------------------------------------------------------------------

def spiral_net(arch: str = "2-100-5", activation: str = "relu", seed: int = 0,
               epochs: int = 2000, lr: float = 0.02,
               target: float | None = 0.995) -> tuple[Network, Dataset, Record]:
    """A network trained on the 5-class spiral (1000 points, noise 0.2, seed 0): Adam, full
    batch, until ``target`` accuracy."""
    t = get(recipe("spiral", arch=arch, activation=activation, seed=seed, epochs=epochs,
                   lr=lr, target=target))
    return t.network, spiral_data(), t.record


def digits_net(mnist: str | None = None, seed: int = 0, test: int = 400,
               epochs: int | None = None, lr: float = 0.002, batch_size: int = 32,
               mnist_n: int = 6000) -> tuple[Network, Dataset, Dataset, Record]:
    """A D-128-64-2-10 network on handwritten digits: ReLU hidden layers, then a *linear*
    2-unit bottleneck (a ReLU there folds the 10 clusters onto the axes and cost 3-10 points
    of held-out accuracy here), so the last layer cuts that plane with straight lines.

    The data are :func:`digits_data` (D = 64 for the bundled digits, 784 for MNIST).
    Mini-batches of 32 with Adam, 40 epochs (15 on MNIST): seeds 0-3 reach 92-95% held-out
    accuracy on the 8x8 digits. Returns ``(network, train_set, test_set, record)``;
    ``record.test_accuracy`` per epoch.
    """
    epochs = (15 if mnist is not None else 40) if epochs is None else epochs
    t = get(recipe("digits", mnist=None if mnist is None else str(mnist), seed=seed,
                   test=test, epochs=epochs, lr=lr, batch_size=batch_size, mnist_n=mnist_n))
    return (t.network, *digits_data(mnist, seed, test, mnist_n), t.record)


def spiral_snapshots(arch: str = "2-100-2-5", activation: str = "relu", seed: int = 0,
                     epochs: int = 300, lr: float = 0.02, count: int = 40
                     ) -> tuple[Network, Dataset, list[tuple[int, Network]], Record]:
    """``arch`` trained on the 5-class spiral for ``epochs`` (full batch, Adam), with its
    weights at the :func:`snapshot_epochs` (epoch 0 = the initial weights).

    Returns ``(network, data, [(epoch, network), ...], record)``. Training is full batch,
    so ``record.loss[e]`` is the loss of the weights after e epochs (measured before epoch
    e+1's step), the same weights as snapshot e. With lr 0.02 the 2-100-2-5 ReLU net passes
    99% accuracy near epoch 150.
    """
    t = get(recipe("snapshots", arch=arch, activation=activation, seed=seed, epochs=epochs,
                   lr=lr, count=count))
    return t.network, spiral_data(), list(t.snapshots), t.record


def fold_222_net(seed: int = 2, n: int = 1000) -> tuple[Network, Dataset, float]:
    """A 2-2-2 ReLU network trained (seeded) on the ``cloud`` wedge until it separates it.

    Seeds are tried from ``seed`` on until one separates the wedge (>= 99%); with torch 2.13,
    seeds 0 and 1 get stuck at 91% (a dead ReLU unit) and seed 2 succeeds, hence the default.

    Returns ``(network_with_sigmoid_head, data, accuracy)``. The logits are trained with
    cross-entropy; the sigmoid head is then appended, which squashes into the unit square and
    keeps every decision (sigmoid is monotone, so argmax is unchanged).
    """
    t = get(recipe("fold", arch="2-2-2", seed=seed, n=n, pieces=0, head="sigmoid"))
    return t.network, cloud_data(n), t.facts["accuracy"]


def fold_232_net(seed: int = 7, n: int = 1000) -> tuple[Network, Dataset, float]:
    """A 2-3-2 ReLU network trained (seeded) on the ``cloud`` wedge, as fold-222's data.

    Seeds are tried from ``seed`` on until one separates the wedge (≥ 99%) with the paper
    folded onto at least three pieces that each hold ≥ 5% of the points (an obvious fold).
    With torch 2.13 seed 7 does (pieces: the plane, two coordinate planes and an axis).
    """
    t = get(recipe("fold", arch="2-3-2", seed=seed, n=n, pieces=3, head=None))
    return t.network, cloud_data(n), t.facts["accuracy"]


def shipped() -> list[Recipe]:
    """The recipes whose weights ship: every network a catalogue scene uses by default (the
    spiral scenes', with ``spiral.EXTRAPOLATORS``' sine network; surfaces and
    linear-regions use the 2-100-2-5)."""
    spiral = [("2-100-5", "relu", {}), ("2-100-2-5", "relu", {}),
              ("2-2-100-5", "sin", {"seed": 2, "lr": 0.05})]
    spiral_defaults = {"seed": 0, "epochs": 2000, "lr": 0.02, "target": 0.995}
    return [*(recipe("spiral", arch=a, activation=act, **{**spiral_defaults, **kw})
              for a, act, kw in spiral),
            recipe("digits", mnist=None, seed=0, test=400, epochs=40, lr=0.002,
                   batch_size=32, mnist_n=6000),
            recipe("snapshots", arch="2-100-2-5", activation="relu", seed=0, epochs=300,
                   lr=0.02, count=40),
            recipe("fold", arch="2-2-2", seed=2, n=1000, pieces=0, head="sigmoid"),
            recipe("fold", arch="2-3-2", seed=7, n=1000, pieces=3, head=None)]
