"""Training: cross-entropy + Adam, seeded, early stop at a target accuracy, divergence check.

>>> import spacefold as sf
>>> d = sf.dataset("xor", n=200, seed=0)
>>> m = sf.build("2-8-2", activation="tanh")
>>> h = sf.train(m, d, seed=0)
>>> h.accuracy[-1] > 0.9
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import torch
from torch import nn

from spacefold.data.datasets import Dataset, as_dataset
from spacefold.errors import DataError, DivergenceError, SpecError
from spacefold.limits import MAX_EPOCHS, MAX_SEED

Progress = Callable[[int, int, float, float], None]  # (epoch, epochs, loss, accuracy)
Interrupt = Callable[[], None]   # called between mini-batches; raises to end training
CHUNK_WORK = 2 ** 25    # rows x weights of one forward/backward piece when ``interrupt`` is
                        # given: a batch bigger than this is done in pieces (the gradients
                        # summed, the same update), so no single piece takes more than some
                        # tens of milliseconds and a stop is never far away


@dataclass
class History:
    """Per-epoch training metrics. ``stopped`` says why training ended."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    stopped: str = ""
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.loss)


def train(model: nn.Module, data: Dataset | str | tuple[Any, Any], *, epochs: int = 2000,
          lr: float = 0.02,
          batch_size: int | None = None, weight_decay: float = 0.0,
          target_accuracy: float | None = 0.995, seed: int = 0, test: Dataset | None = None,
          progress: Progress | None = None, loss_head: str = "logits",
          interrupt: Interrupt | None = None) -> History:
    """Train ``model`` on ``data`` in place with cross-entropy and Adam.

    Full batch when ``batch_size`` is None. Stops when the training accuracy reaches
    ``target_accuracy`` (None: run all epochs). Raises :class:`DivergenceError` naming the
    step and learning rate when the loss becomes NaN or inf. ``loss_head="probs"`` is for
    models whose output is already probabilities (a sigmoid / softmax head): the loss is then
    the negative log of the true class's probability.

    ``interrupt()`` (the live app's stop and pause) is called between mini-batches, and
    between the pieces of a batch larger than ``CHUNK_WORK`` rows x weights; an exception
    it raises ends training and propagates.
    """
    data = as_dataset(data, "train")
    _check_args(model, epochs, lr, batch_size, weight_decay, target_accuracy, seed)
    # Small networks train fastest on one thread: more OpenMP threads only contend (measured
    # 2-10x slower on 2 busy cores). The caller's setting is restored afterwards.
    small = sum(p.numel() for p in model.parameters()) < 1_000_000
    threads = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        return _train(model, data, epochs, lr, batch_size, weight_decay, target_accuracy,
                      seed, test, progress, loss_head, interrupt)
    finally:
        if small:
            torch.set_num_threads(threads)


def _whole(name: str, v: Any, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, Integral) or not lo <= int(v) <= hi:
        raise SpecError(f"train: {name} {v!r} must be a whole number in [{lo}, {hi}]")


def _check_args(model: Any, epochs: Any, lr: Any, batch_size: Any, weight_decay: Any,
                target_accuracy: Any, seed: Any) -> None:
    """train()'s arguments, each one line when wrong (the command line's checks; the ranges
    of lr and batch_size are _train's)."""
    if not isinstance(model, nn.Module):
        raise SpecError(f"train: model must be a torch nn.Module, got {type(model).__name__}")
    _whole("epochs", epochs, 1, MAX_EPOCHS)
    _whole("seed", seed, 0, MAX_SEED)
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, Integral)):
        raise SpecError(f"train: batch_size {batch_size!r} must be a whole number or None")
    for name, v, ok, rule in (
            ("lr", lr, lambda f: True, "(a learning rate)"),
            ("weight_decay", weight_decay, lambda f: 0.0 <= f <= 1.0, "in [0, 1]"),
            ("target_accuracy", target_accuracy, lambda f: 0.0 < f <= 1.0, "in (0, 1] or None")):
        if name == "target_accuracy" and v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, Real) or not ok(float(v)):
            raise SpecError(f"train: {name} {v!r} must be a number {rule}")


def _train(model: nn.Module, data: Dataset, epochs: int, lr: float, batch_size: int | None,
           weight_decay: float, target_accuracy: float | None, seed: int,
           test: Dataset | None, progress: Progress | None, loss_head: str,
           interrupt: Interrupt | None = None) -> History:
    if not 1 <= epochs <= MAX_EPOCHS:
        raise SpecError(f"epochs {epochs} must be in [1, {MAX_EPOCHS}]")
    if not (0.0 < lr <= 10.0):
        raise SpecError(f"learning rate {lr} must be in (0, 10]")
    if batch_size is not None and batch_size < 1:
        raise SpecError(f"batch size {batch_size} must be at least 1")
    x = torch.as_tensor(data.x, dtype=torch.float32)
    y = torch.as_tensor(data.y, dtype=torch.int64)
    out_dim = _out_features(model)
    in_dim = _in_features(model)
    if in_dim is not None and in_dim != data.dim:
        raise DataError(f"model takes {in_dim}-D input but dataset {data.name!r} is {data.dim}-D")
    if out_dim is not None and out_dim < data.classes:
        raise DataError(f"model has {out_dim} outputs but dataset {data.name!r} has "
                        f"{data.classes} classes")
    gen = torch.Generator().manual_seed(seed)
    opt = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    crit = _criterion(loss_head)
    hist = History()
    n = len(x)
    bs = n if batch_size is None else min(batch_size, n)
    t0 = time.perf_counter()
    step = 0
    weights = max(sum(p.numel() for p in model.parameters()), 1)
    piece = max(CHUNK_WORK // weights, 1) if interrupt is not None else None
    correct: int | None = None      # right answers, when a batch was done in pieces
    model.train()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=gen) if bs < n else None
        for start in range(0, n, bs):
            idx = order[start:start + bs] if order is not None else slice(None)
            if interrupt is not None:
                interrupt()
            if piece is not None and min(bs, n - start) > piece:
                step += 1
                opt.zero_grad(set_to_none=True)
                loss, correct = _in_pieces(model, x[idx], y[idx], crit, piece, interrupt,
                                           learn=True)
                _check_finite(loss, step, epoch, lr)
                opt.step()
                continue
            out = model(x[idx])
            loss = crit(out, y[idx])
            correct = None
            step += 1
            _check_finite(loss, step, epoch, lr)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            if bs < n and piece is not None and n > piece:   # the same, in pieces
                loss, correct = _in_pieces(model, x, y, crit, piece, interrupt, learn=False)
            elif bs < n:  # mini-batch: evaluate the whole set once per epoch
                out = model(x)
                loss = crit(out, y)
                correct = None
            if correct is not None:
                acc = correct / n
            else:
                acc = float((out.argmax(1) == y[idx] if bs == n else out.argmax(1) == y)
                            .float().mean())
        lv = float(loss.detach())
        if not math.isfinite(lv):
            raise DivergenceError(f"training diverged at step {step} (epoch {epoch}): loss is "
                                  f"{lv} with learning rate {lr}; try a smaller --lr")
        hist.loss.append(lv)
        hist.accuracy.append(acc)
        if test is not None:
            tl, ta = evaluate(model, test, loss_head)
            hist.test_loss.append(tl)
            hist.test_accuracy.append(ta)
        if progress is not None:
            progress(epoch, epochs, lv, acc)
        if target_accuracy is not None and acc >= target_accuracy:
            hist.stopped = f"reached accuracy {acc:.4f} >= {target_accuracy} at epoch {epoch}"
            break
    else:
        hist.stopped = f"ran all {epochs} epochs"
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


def _in_pieces(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               crit: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], piece: int,
               interrupt: Interrupt | None, learn: bool) -> tuple[torch.Tensor, int]:
    """``crit`` over the batch ``(x, y)`` from pieces of ``piece`` rows (each piece's mean
    loss weighted by its share: the batch's mean), ``interrupt`` called between pieces:
    (the batch's loss, how many rows it classified right). ``learn``: each piece's gradient
    is added up (the caller zeroes the gradients first and steps after)."""
    rows = len(y)
    total = torch.zeros(())
    correct = 0
    for c in range(0, rows, piece):
        if interrupt is not None and c:
            interrupt()
        out = model(x[c:c + piece])
        yc = y[c:c + piece]
        part = crit(out, yc) * (len(yc) / rows)
        if learn:
            part.backward()
        total += part.detach()
        correct += int((out.detach().argmax(1) == yc).sum())
    return total, correct


def _check_finite(loss: torch.Tensor, step: int, epoch: int, lr: float) -> None:
    """Training that diverges stops and says so, with the step and the learning rate."""
    if not torch.isfinite(loss):
        raise DivergenceError(
            f"training diverged at step {step} (epoch {epoch}): loss is {loss.item()} with "
            f"learning rate {lr}; try a smaller --lr, e.g. {lr / 10:g}")


class Adam:
    """Adam (Kingma & Ba 2015), the same update as ``torch.optim.Adam`` (no amsgrad; weight
    decay as L2 added to the gradient), written out because constructing torch's optimizer
    imports ``torch._dynamo`` — about 2 s of start-up for every ``spacefold train``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]   # first moments
        self.v = [torch.zeros_like(p) for p in self.params]   # second moments
        self.t = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g.add(p, alpha=self.weight_decay)
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(bc2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bc1)


def evaluate(model: nn.Module, data: Dataset, loss_head: str = "logits") -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` on ``data`` without touching the weights."""
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(data.x, dtype=torch.float32))
        y = torch.as_tensor(data.y, dtype=torch.int64)
        loss = float(_criterion(loss_head)(out, y))
        acc = float((out.argmax(1) == y).float().mean())
    model.train(was)
    return loss, acc


def accuracy(model: nn.Module, data: Dataset) -> float:
    return evaluate(model, data)[1]


def _criterion(loss_head: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if loss_head == "logits":
        return nn.functional.cross_entropy
    if loss_head == "probs":
        def nll_of_probs(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if p.shape[1] == 1:  # one sigmoid output: p is P(class 1)
                p = torch.cat([1 - p, p], dim=1)
            p = p / p.sum(1, keepdim=True).clamp_min(1e-12)
            return nn.functional.nll_loss(torch.log(p.clamp_min(1e-7)), y)
        return nll_of_probs
    raise SpecError(f"loss_head {loss_head!r} must be 'logits' or 'probs'")


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _in_features(model: nn.Module) -> int | None:
    ls = _linears(model)
    return ls[0].in_features if ls else None


def _out_features(model: nn.Module) -> int | None:
    ls = _linears(model)
    return ls[-1].out_features if ls else None


