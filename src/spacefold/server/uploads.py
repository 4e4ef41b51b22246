"""Uploaded CSV data for the app: validated once, kept in memory (bounded), named in a config
as ``upload:<id>`` until the server restarts."""

from __future__ import annotations

import hashlib
import tempfile
from collections import OrderedDict
from pathlib import Path

import spacefold.limits as limits
from spacefold.data import Dataset
from spacefold.errors import DataError

UPLOAD_PREFIX = "upload:"
UPLOADS: OrderedDict[str, Dataset] = OrderedDict()    # id → dataset, oldest first


def add_upload(raw: bytes) -> tuple[str, Dataset]:
    """Validate a CSV upload (2 feature columns + an integer label): its id and dataset.

    Raises :class:`DataError` with a one-line message for text, NaN, wrong columns, too many
    bytes, points or classes (``limits.MAX_UPLOAD``, ``APP_MAX_POINTS``, ``APP_MAX_CLASSES``).
    """
    from spacefold.data.files import from_csv

    if len(raw) > limits.MAX_UPLOAD:
        raise DataError(f"upload of {len(raw)} bytes is too large (at most {limits.MAX_UPLOAD})")
    key = hashlib.sha256(raw).hexdigest()[:12]
    with tempfile.TemporaryDirectory(prefix="spacefold-upload-") as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(raw)
        try:
            data = from_csv(path)
        except DataError as e:
            raise DataError(str(e).replace(repr(str(path)), "upload")) from None
    data = Dataset(data.x, data.y, "upload", data.classes, {})
    if data.dim != 2:
        raise DataError(f"upload has {data.dim} feature columns; the app needs 2 (x, y) "
                        f"plus a label column")
    if len(data) > limits.APP_MAX_POINTS:
        raise DataError(f"upload has {len(data)} points; at most {limits.APP_MAX_POINTS}")
    if data.classes > limits.APP_MAX_CLASSES:
        raise DataError(f"upload has {data.classes} classes; at most {limits.APP_MAX_CLASSES}")
    UPLOADS[key] = data
    UPLOADS.move_to_end(key)
    while len(UPLOADS) > limits.MAX_UPLOADS:
        UPLOADS.popitem(last=False)
    return key, data


def is_upload(dataset: str) -> bool:
    """Does a config's ``dataset`` name an upload (``upload:<id>``)?"""
    return dataset.startswith(UPLOAD_PREFIX)


def uploaded(dataset: str) -> Dataset | None:
    """The dataset an ``upload:<id>`` names, None when this server has none by that id."""
    return UPLOADS.get(dataset[len(UPLOAD_PREFIX):]) if is_upload(dataset) else None
