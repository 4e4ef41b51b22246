"""Time to 99% training accuracy: spacefold's ``sf.train`` defaults vs the original videos' recipe.

Same data (spiral, 5 classes, 1000 points, noise 0.2, seed 0), same network (2-100-2-5 ReLU,
same initial weights), full batch, cross-entropy, Adam. The only difference is the recipe:

  (a) ``sf.train(model, data)`` with its defaults (learning rate and early stop);
  (b) Adam at lr 1e-3, run until the training accuracy reaches 99% (capped at 5000 epochs).

Runs are interleaved (a, b, a, b, ...) so load on a shared machine hits both alike; the
median of the repeats is reported.

    python benchmarks/bench_train.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import spacefold as sf
from spacefold.model.training import evaluate

TARGET = 0.99
CAP = 5000


def original_recipe(model: nn.Module, data: sf.Dataset) -> int:
    """Adam lr 1e-3, full batch, cross-entropy, until training accuracy ≥ 99%: epochs used."""
    x = torch.as_tensor(data.x)
    y = torch.as_tensor(data.y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for epoch in range(1, CAP + 1):
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # accuracy of this epoch's forward pass, the same bookkeeping as sf.train's
        if (out.detach().argmax(1) == y).float().mean() >= TARGET:
            return epoch
    return CAP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier timing)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)
    print(f"spiral 5 classes, {len(data)} points, noise 0.2 · 2-100-2-5 ReLU · "
          f"{args.repeats} interleaved repeats · torch {torch.__version__}, "
          f"{args.threads} thread(s)")
    # warm-up: the first Adam step pays one-off import costs
    sf.train(sf.build("2-100-2-5"), data, epochs=3, target_accuracy=None)

    runs: dict[str, list[tuple[int, float, float]]] = {"a": [], "b": []}
    for _ in range(args.repeats):
        for which in ("a", "b"):
            model = sf.build("2-100-2-5", activation="relu", seed=0)
            t0 = time.perf_counter()
            if which == "a":
                epochs = sf.train(model, data, seed=0).epochs
            else:
                epochs = original_recipe(model, data)
            seconds = time.perf_counter() - t0
            runs[which].append((epochs, seconds, evaluate(model, data)[1]))

    def summary(which: str) -> tuple[int, float, float]:
        rs = runs[which]
        return (int(statistics.median(r[0] for r in rs)), statistics.median(r[1] for r in rs),
                min(r[2] for r in rs))

    ea, sa, acc_a = summary("a")
    eb, sb, acc_b = summary("b")
    print(f"(a) sf.train defaults        : {ea:5d} epochs  {sa:7.3f} s  "
          f"final accuracy ≥ {acc_a:.3f}")
    capped = " (hit the cap)" if eb >= CAP else ""
    print(f"(b) Adam lr 1e-3 to 99%      : {eb:5d} epochs  {sb:7.3f} s  "
          f"final accuracy ≥ {acc_b:.3f}{capped}")
    print(f"speed-up (b / a): {sb / sa:.1f}x in time, {eb / ea:.1f}x in epochs "
          f"(target ≥ 5x){'  ✓' if sb / sa >= 5 else '  ✗'}")


if __name__ == "__main__":
    main()
