"""A session's points: the training and held-out sets the page shows, and the user's edits
(ConvNetJS's click adds a point, shift-click removes the nearest), bounded by
``limits.APP_MAX_POINTS`` / ``APP_MIN_POINTS``.

The user's points are the last ``added`` of the training set; the page draws generated,
added and held-out points differently.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import spacefold.limits as limits
from spacefold.data import Dataset
from spacefold.errors import DataError

Sets = tuple[Dataset, Dataset | None, int]     # (training, held-out or None, user-added)


def shown(train: Dataset, test: Dataset | None) -> Dataset:
    """The points the page shows: the training points first, then the held-out ones."""
    if test is None:
        return train
    return Dataset(np.concatenate([train.x, test.x]), np.concatenate([train.y, test.y]),
                   train.name, max(train.classes, test.classes), train.params)


def edit(sets: Sets, classes: int, add: Any = None, remove: Any = None) -> Sets:
    """``sets`` with a point added to the training set (``add`` = [x, y, label], a label
    below ``classes``) or the point nearest ``remove`` = [x, y] taken out of whichever set
    holds it. Raises :class:`DataError` (one line) for bad numbers or past a bound."""
    train, test, added = sets
    total = len(train) + (len(test) if test is not None else 0)
    if train.dim != 2:
        raise DataError(f"points can only be added to or removed from a 2-D dataset "
                        f"({train.name} has {train.dim} inputs)")
    try:
        vals = [float(v) for v in (add if add is not None else remove)]
    except (TypeError, ValueError):
        raise DataError("edit needs add: [x, y, label] or remove: [x, y] numbers") from None
    if len(vals) != (3 if add is not None else 2) or \
            not all(math.isfinite(v) and abs(v) <= limits.APP_MAX_COORDINATE for v in vals):
        raise DataError(f"edit {vals}: need finite coordinates within "
                        f"±{limits.APP_MAX_COORDINATE:g} (and a label for add)")
    if add is not None:
        label = int(vals[2])
        if not (vals[2] == label and 0 <= label < classes):
            raise DataError(f"label {vals[2]:g} must be a class 0-{classes - 1}")
        if total >= limits.APP_MAX_POINTS:
            raise DataError(f"already {total} points; at most {limits.APP_MAX_POINTS}")
        x = np.concatenate([train.x, np.array([vals[:2]], dtype=train.x.dtype)])
        y = np.concatenate([train.y, np.array([label], dtype=train.y.dtype)])
        return (Dataset(x, y, train.name, max(train.classes, label + 1), train.params), test,
                added + 1)
    both = [train] + ([test] if test is not None else [])
    d2 = [((s.x - np.array(vals[:2])) ** 2).sum(axis=1) for s in both]
    which = int(np.argmin([d.min() for d in d2]))
    keep = np.ones(len(both[which]), dtype=bool)
    gone = int(np.argmin(d2[which]))
    keep[gone] = False
    added -= which == 0 and gone >= len(train) - added
    if keep.sum() < 2 or total - 1 < limits.APP_MIN_POINTS:
        raise DataError(f"cannot remove more points: at least {limits.APP_MIN_POINTS} "
                        f"stay, with 2 or more in each set")
    s = both[which]
    out = Dataset(s.x[keep], s.y[keep], s.name, s.classes, s.params)
    return (out, test, added) if which == 0 else (train, out, added)
