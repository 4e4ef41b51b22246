"""server/session.py, a tab's WebSocket: every command gets a reply that tells the truth -- a
job that could not start says so and nothing else, a finished run says it is finished, and a
command with a field of the wrong type (or an unknown field) is a one-line error with the
session still usable.

A reply that should not come is checked with a sentinel: an unknown command sent right after
is answered in order, so whatever came before its error is everything the first command got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import spacefold.limits as limits
from spacefold.export import unpack
from spacefold.server.app import create_app

BASE = "http://127.0.0.1:8765"
WS = "ws://127.0.0.1:8765/ws"
SAME = {"Origin": BASE}
SMALL = {"dataset": "xor", "n": 40, "arch": "2-4-2", "epochs": 20, "test": 0.0}
SENTINEL = {"cmd": "sentinel"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=BASE, raise_server_exceptions=True) as c:
        yield c


def _receive(ws: Any) -> dict:
    raw = ws.receive()
    if raw.get("bytes") is not None:
        return unpack(raw["bytes"])
    return json.loads(raw["text"])


def _until(ws: Any, pred: Any, limit: int = 2000) -> dict:
    for _ in range(limit):
        m = _receive(ws)
        if pred(m):
            return m
    raise AssertionError("message never came")


def _replies(ws: Any, command: dict | str) -> list[dict]:
    """The text replies to ``command`` (live updates left out): everything before the
    sentinel's error."""
    ws.send_text(command if isinstance(command, str) else json.dumps(command))
    ws.send_text(json.dumps(SENTINEL))
    out = []
    while True:
        m = _receive(ws)
        if m["type"] == "error" and "sentinel" in m["message"]:
            return out
        if m["type"] != "update":
            out.append(m)


def _configured(ws: Any, cfg: dict = SMALL) -> None:
    """A new network from ``cfg``: its config reply and its first picture came."""
    ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
    seen: set[str] = set()
    _until(ws, lambda m: seen.add(m["type"]) or {"config", "update"} <= seen)


def test_a_job_the_server_cannot_start_is_an_error_and_no_config_reply(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_JOBS", 0)
    with client.websocket_connect(WS, headers=SAME) as ws:
        got = _replies(ws, {"cmd": "config", "config": SMALL})
        assert [m["type"] for m in got] == ["error"], got
        assert "at once" in got[0]["message"]
        got = _replies(ws, {"cmd": "reset"})
        assert [m["type"] for m in got] == ["error"], got
        monkeypatch.setattr(limits, "MAX_JOBS", 12)
        _configured(ws)                                   # and the session goes on


def test_a_retune_that_cannot_start_its_job_is_an_error_and_not_kept(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        _configured(ws)
        monkeypatch.setattr(limits, "MAX_JOBS", 0)
        got = _replies(ws, {"cmd": "config", "config": {**SMALL, "lr": 0.02}})
        assert [m["type"] for m in got] == ["error"], got
        monkeypatch.setattr(limits, "MAX_JOBS", 12)
        _configured(ws)


def test_train_step_and_pause_after_the_run_is_done_say_it_is_finished(
        client: TestClient) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        _configured(ws)
        ws.send_text(json.dumps({"cmd": "train"}))
        _until(ws, lambda m: m["type"] == "status" and m["state"] == "done")
        for cmd in ({"cmd": "train"}, {"cmd": "step"}, {"cmd": "pause"},
                    {"cmd": "train", "until": 30}):
            got = _replies(ws, cmd)
            assert [m["type"] for m in got] == ["error"], (cmd, got)
            assert "finished" in got[0]["message"] and "20" in got[0]["message"], got
            assert "\n" not in got[0]["message"]
        # raising the epochs goes on from there
        ws.send_text(json.dumps({"cmd": "config", "config": {**SMALL, "epochs": 25}}))
        _until(ws, lambda m: m["type"] == "config" and m["kept"])
        ws.send_text(json.dumps({"cmd": "train"}))
        done = _until(ws, lambda m: m["type"] == "status" and m["state"] == "done")
        assert done["epoch"] == 25

