"""server/uploads.py: an uploaded CSV becomes a dataset named ``upload:<id>`` (its bytes'
hash), is refused in one line past a bound, and the oldest is forgotten first."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import spacefold.limits as limits
from spacefold.errors import DataError
from spacefold.server import uploads
from spacefold.server.uploads import UPLOAD_PREFIX, add_upload, is_upload, uploaded


@pytest.fixture(autouse=True)
def _own_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test fills its own store: the server's uploads of other tests stay as they were."""
    monkeypatch.setattr(uploads, "UPLOADS", OrderedDict())


def _csv(n: int, classes: int = 2, offset: float = 0.0) -> bytes:
    return "".join(f"{i / n + offset},{(i * 7 % n) / n},{i % classes}\n"
                   for i in range(n)).encode()


def test_an_upload_is_kept_under_its_hash_and_named_in_a_config() -> None:
    raw = _csv(40, 3)
    first, _ = add_upload(raw)
    key, d = add_upload(raw)
    assert len(key) == 12 and key == first          # the same bytes, the same id
    assert d.dim == 2 and len(d) == 40 and d.classes == 3 and d.name == "upload"
    assert is_upload(UPLOAD_PREFIX + key) and not is_upload("spiral")
    assert uploaded(UPLOAD_PREFIX + key) is d and uploaded("spiral") is None
    assert uploaded(UPLOAD_PREFIX + "000000000000") is None
    np.testing.assert_allclose(d.x[1], [1 / 40, 7 / 40], rtol=1e-6)


@pytest.mark.parametrize("raw, says", [
    (b"x" * (limits.MAX_UPLOAD + 1), f"at most {limits.MAX_UPLOAD}"),
    (b"0,1,2,0\n1,2,3,1\n", "3 feature columns"),
    (_csv(limits.APP_MAX_POINTS + 1), f"at most {limits.APP_MAX_POINTS}"),
    (_csv(60, limits.APP_MAX_CLASSES + 1), f"at most {limits.APP_MAX_CLASSES}"),
    (b"0,nan,1\n1,1,0\n", "upload"),
])
def test_bad_uploads_are_one_line(raw: bytes, says: str) -> None:
    with pytest.raises(DataError, match=says) as e:
        add_upload(raw)
    assert "\n" not in str(e.value) and "/tmp" not in str(e.value)
    assert uploads.UPLOADS == {}


def test_the_oldest_upload_is_forgotten_first() -> None:
    first, _ = add_upload(_csv(30, offset=1000.0))
    for i in range(limits.MAX_UPLOADS):
        add_upload(_csv(30, offset=float(i)))
    assert len(uploads.UPLOADS) == limits.MAX_UPLOADS
    assert uploaded(UPLOAD_PREFIX + first) is None
