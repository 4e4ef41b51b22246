"""model/training.py: ``train`` reaches its targets, is seeded and stops on divergence; the
written-out Adam equals torch.optim.Adam step for step."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

import spacefold as sf
from spacefold.errors import DataError, DivergenceError, SpecError
from spacefold.model.training import Adam, evaluate


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """These networks are too small to gain from a second thread, and on a busy machine
    two OpenMP threads can make training ten times slower; restored after each test."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


@pytest.fixture(scope="module")
def spiral() -> sf.Dataset:
    return sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)


def test_spiral_reaches_99_percent_with_the_defaults(spiral: sf.Dataset) -> None:
    """The reference run of the videos: 5 arms, 1000 points, 2-100-2-5 ReLU."""
    model = sf.build("2-100-2-5", activation="relu")
    hist = sf.train(model, spiral, seed=0)
    loss, acc = evaluate(model, spiral)
    assert acc >= 0.99, hist.stopped
    assert hist.epochs < 2000 and hist.stopped.startswith("reached accuracy")
    assert len(hist.loss) == len(hist.accuracy) == hist.epochs and hist.seconds > 0
    assert hist.loss[-1] < hist.loss[0]
    assert not model.training  # left in eval mode


def test_train_is_seeded(spiral: sf.Dataset) -> None:
    def run(seed: int, batch_size: int | None) -> nn.Sequential:
        model = sf.build("2-16-5", activation="tanh", seed=0)
        sf.train(model, spiral, epochs=5, batch_size=batch_size, seed=seed,
                 target_accuracy=None)
        return model

    for bs in (None, 64):
        a, b = run(0, bs), run(0, bs)
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)
    c, d = run(0, 64), run(1, 64)  # the seed drives the mini-batch order
    assert not torch.equal(next(c.parameters()), next(d.parameters()))


def test_mini_batch_training_learns() -> None:
    data = sf.dataset("gauss", classes=3, n=300, noise=0.2, seed=0)
    model = sf.build("2-16-3", activation="relu")
    hist = sf.train(model, data, batch_size=32, epochs=50, lr=0.01, seed=0)
    assert evaluate(model, data)[1] >= 0.95
    assert hist.epochs <= 50


def test_history_tracks_a_test_set_and_progress() -> None:
    train_set, test_set = sf.dataset("moons", n=200, seed=0).split(0.25)
    calls: list[tuple[int, int]] = []
    hist = sf.train(sf.build("2-16-2", activation="tanh"), train_set, test=test_set, epochs=20,
                    target_accuracy=None, progress=lambda e, n, loss, acc: calls.append((e, n)))
    assert hist.epochs == 20 and len(hist.test_loss) == len(hist.test_accuracy) == 20
    assert calls == [(e, 20) for e in range(1, 21)]
    assert hist.stopped == "ran all 20 epochs"


def test_probabilities_head_trains_with_probs_loss() -> None:
    data = sf.dataset("gauss", classes=3, n=150, noise=0.2, seed=0)
    model = sf.build("2-8-3", activation="relu", head="softmax")
    sf.train(model, data, epochs=200, lr=0.05, loss_head="probs")
    assert evaluate(model, data, loss_head="probs")[1] >= 0.9
    one = sf.build("2-8-1", activation="tanh", head="sigmoid")
    moons = sf.dataset("moons", n=150, seed=0)
    with pytest.raises(DataError, match="1 outputs"):
        sf.train(one, moons, loss_head="probs")


def test_divergence_on_inf_inputs_names_step_and_learning_rate() -> None:
    d = sf.dataset("moons", n=50, seed=0)
    x = d.x.copy()
    x[3, 0] = np.inf
    bad = sf.Dataset(x, d.y, "moons", 2)
    with pytest.raises(DivergenceError) as e:
        sf.train(sf.build("2-4-2", activation="identity"), bad, lr=0.02)
    msg = _one_line(e)
    assert "step 1" in msg and "learning rate 0.02" in msg


class Exp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


def test_divergence_at_a_large_learning_rate() -> None:
    """lr=10 pushes the weights until exp overflows: stopped a few steps in, not at step 1."""
    data = sf.dataset("moons", n=100, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), Exp(), nn.Linear(8, 2), Exp())
    with pytest.raises(DivergenceError) as e:
        sf.train(model, data, lr=10.0, epochs=500, target_accuracy=None)
    msg = _one_line(e)
    assert "learning rate 10" in msg
    step = int(msg.split("step ")[1].split()[0])
    assert step > 1


@pytest.mark.parametrize("kwargs, exc, bad", [
    ({"epochs": 0}, SpecError, "epochs 0"),
    ({"lr": 0.0}, SpecError, "learning rate 0.0"),
    ({"lr": 11.0}, SpecError, "learning rate 11.0"),
    ({"batch_size": 0}, SpecError, "batch size 0"),
    ({"loss_head": "mse"}, SpecError, "'mse'"),
])
def test_train_rejects_bad_settings(kwargs: dict[str, object], exc: type[Exception],
                                    bad: str) -> None:
    data = sf.dataset("moons", n=20, seed=0)
    with pytest.raises(exc) as e:
        sf.train(sf.build("2-4-2"), data, **kwargs)  # type: ignore[arg-type]
    assert bad in _one_line(e)


def test_train_rejects_a_model_that_does_not_fit_the_data() -> None:
    with pytest.raises(DataError, match="3-D input"):
        sf.train(sf.build("3-4-2"), sf.dataset("moons", n=20))
    with pytest.raises(DataError, match="2 outputs .* 5 classes"):
        sf.train(sf.build("2-4-2"), sf.dataset("spiral", classes=5, n=50))


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_torch(weight_decay: float) -> None:
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    b = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    b.load_state_dict(a.state_dict())
    ours = Adam(a.parameters(), lr=0.03, weight_decay=weight_decay)
    ref = torch.optim.Adam(b.parameters(), lr=0.03, weight_decay=weight_decay)
    x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    for _ in range(25):
        for model, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
