"""server/points.py: the user's clicks add a training point or remove the nearest point of
either set, keep count of the user's points, and stop at the bounds with one line."""

from __future__ import annotations

import numpy as np
import pytest

import spacefold.limits as limits
from spacefold.data import Dataset
from spacefold.errors import DataError
from spacefold.server.points import edit, shown


def _sets(n_train: int = 30, n_test: int = 10) -> tuple[Dataset, Dataset, int]:
    rng = np.random.default_rng(0)
    mk = lambda n: Dataset(rng.uniform(-1, 1, (n, 2)).astype(np.float32),  # noqa: E731
                           np.arange(n, dtype=np.int64) % 2, "moons", 2, {"n": n})
    return mk(n_train), mk(n_test), 0


def test_the_shown_points_are_training_then_held_out() -> None:
    train, test, _ = _sets()
    both = shown(train, test)
    np.testing.assert_array_equal(both.x, np.concatenate([train.x, test.x]))
    np.testing.assert_array_equal(both.y, np.concatenate([train.y, test.y]))
    assert shown(train, None) is train


def test_an_added_point_comes_last_and_may_open_a_class() -> None:
    train, test, _ = _sets()
    t2, s2, added = edit((train, test, 0), 3, add=[0.25, -0.5, 2])
    assert added == 1 and s2 is test and len(t2) == len(train) + 1
    np.testing.assert_array_equal(t2.x[-1], np.float32([0.25, -0.5]))
    assert t2.y[-1] == 2 and t2.classes == 3
    np.testing.assert_array_equal(t2.x[:-1], train.x)


def test_removing_takes_the_nearest_point_of_either_set() -> None:
    train, test, _ = _sets()
    target = test.x[4] + np.float32(1e-3)
    t2, s2, added = edit((train, test, 0), 2, remove=target.tolist())
    assert t2 is train and len(s2) == len(test) - 1 and added == 0
    assert not (np.abs(s2.x - test.x[4]).sum(axis=1) == 0).any()
    # removing one of the user's own points counts it off
    t3, s3, added = edit((train, test, 0), 2, add=[0.9, 0.9, 1])
    t4, _, added = edit((t3, s3, added), 2, remove=[0.9, 0.9])
    assert added == 0 and len(t4) == len(train)


@pytest.mark.parametrize("add, remove, says", [
    ([0.1, 0.2, 2], None, "must be a class 0-1"),
    ([0.1, 0.2, 0.5], None, "must be a class"),
    ([0.1, 0.2], None, "a label for add"),
    ([limits.APP_MAX_COORDINATE * 2, 0, 1], None, f"±{limits.APP_MAX_COORDINATE:g}"),
    (None, [float("nan"), 0], "finite"),
    (None, "xy", "numbers"),
])
def test_bad_edits_are_one_line(add: object, remove: object, says: str) -> None:
    with pytest.raises(DataError, match=says):
        edit(_sets(), 2, add=add, remove=remove)


def test_the_point_bounds_hold() -> None:
    train, test, _ = _sets(limits.APP_MIN_POINTS - 5, 5)       # at the minimum already
    with pytest.raises(DataError, match=f"at least {limits.APP_MIN_POINTS}"):
        edit((train, test, 0), 2, remove=[0, 0])
    train, test, _ = _sets(limits.APP_MAX_POINTS - 5, 5)       # at the maximum already
    with pytest.raises(DataError, match=f"at most {limits.APP_MAX_POINTS}"):
        edit((train, test, 0), 2, add=[0, 0, 1])
    digits = Dataset(np.zeros((30, 64), np.float32), np.zeros(30, np.int64), "digits", 10)
    with pytest.raises(DataError, match="2-D dataset"):
        edit((digits, None, 0), 10, add=[0, 0, 1])
