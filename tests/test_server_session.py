"""server/session.py, a tab's WebSocket: every command gets a reply that tells the truth -- a
job that could not start says so and nothing else, a finished run says it is finished, and a
command with a field of the wrong type (or an unknown field) is a one-line error with the
session still usable.

A reply that should not come is checked with a sentinel: an unknown command sent right after
is answered in order, so whatever came before its error is everything the first command got.
"""

from __future__ import annotations

import asyncio
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


def _id(command: dict) -> str:
    """A test id: the command, its config shown as what differs from SMALL."""
    cfg = command.get("config")
    if isinstance(cfg, dict):
        command = {**command, "config": {k: v for k, v in cfg.items()
                                      if repr(SMALL.get(k)) != repr(v)}}
    return json.dumps(command)


BAD_FIELDS = [     # (command, words the error must hold)
    ({"cmd": "config", "config": {**SMALL, "n": "40"}}, ["n", "integer"]),
    ({"cmd": "config", "config": {**SMALL, "n": 40.0}}, ["n", "integer"]),
    ({"cmd": "config", "config": {**SMALL, "seed": True}}, ["seed"]),
    ({"cmd": "config", "config": {**SMALL, "epochs": [20]}}, ["epochs"]),
    ({"cmd": "config", "config": {**SMALL, "lr": "0.1"}}, ["lr", "number"]),
    ({"cmd": "config", "config": {**SMALL, "lr": True}}, ["lr", "number"]),
    ({"cmd": "config", "config": {**SMALL, "noise": [0.1]}}, ["noise"]),
    ({"cmd": "config", "config": {**SMALL, "batch_size": 8.0}}, ["batch_size"]),
    ({"cmd": "config", "config": {**SMALL, "dataset": ["xor"]}}, ["dataset"]),
    ({"cmd": "config", "config": {**SMALL, "arch": 242}}, ["arch"]),
    ({"cmd": "config", "config": SMALL, "extra": 1}, ["extra"]),
    ({"cmd": "train", "until": "30"}, ["until"]),
    ({"cmd": "train", "until": 30.0}, ["until"]),
    ({"cmd": "train", "until": True}, ["until"]),
    ({"cmd": "train", "until": [30]}, ["until"]),
    ({"cmd": "train", "epochs": 5}, ["epochs", "train"]),
    ({"cmd": "step", "n": 5}, ["'n'", "step"]),
    ({"cmd": "pause", "now": True}, ["now", "pause"]),
    ({"cmd": "reset", "config": SMALL}, ["config", "reset"]),
    ({"cmd": "save", "name": "x"}, ["name", "save"]),
    ({"cmd": "edit", "add": "0,0,1"}, ["add"]),
    ({"cmd": "edit", "add": "123"}, ["add"]),
    ({"cmd": "edit", "add": [0.5, 0.5, 1.0]}, ["label"]),
    ({"cmd": "edit", "add": [0.5, 0.5, True]}, ["label"]),
    ({"cmd": "edit", "add": [True, 0.5, 1]}, ["add"]),
    ({"cmd": "edit", "add": ["0.5", 0.5, 1]}, ["add"]),
    ({"cmd": "edit", "add": [[0.5], 0.5, 1]}, ["add"]),
    ({"cmd": "edit", "add": {"x": 0.5, "y": 0.5, "label": 1}}, ["add"]),
    ({"cmd": "edit", "remove": [0.5, "0.5"]}, ["remove"]),
    ({"cmd": "edit", "remove": 0.5}, ["remove"]),
    ({"cmd": "edit", "remove": [0.5, 0.5], "add": [0.5, 0.5, 1]}, ["add", "remove"]),
    ({"cmd": "edit"}, ["add", "remove"]),
    ({"cmd": "edit", "add": None}, ["add"]),
]


@pytest.mark.parametrize("command, words", BAD_FIELDS,
                         ids=[_id(c) for c, _ in BAD_FIELDS])
def test_a_field_of_the_wrong_type_is_a_one_line_error_and_the_session_goes_on(
        client: TestClient, command: dict, words: list[str]) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        _configured(ws)
        got = _replies(ws, command)
        assert [m["type"] for m in got] == ["error"], got
        message = got[0]["message"]
        assert "\n" not in message and len(message) < 600, message
        for word in words:
            assert word in message, (word, message)
        _configured(ws, {**SMALL, "seed": 1})


@pytest.mark.parametrize("command", [{"cmd": "train", "until": None},
                                     {"cmd": "edit", "add": [0, 1, 1]},
                                     {"cmd": "edit", "remove": [0, 0]},
                                     {"cmd": "config"}])
def test_the_forms_the_page_sends_are_accepted(client: TestClient, command: dict) -> None:
    """Whole numbers for coordinates (JSON has no float type of its own), null for an
    optional field, and a config command without a config (the defaults)."""
    with client.websocket_connect(WS, headers=SAME) as ws:
        _configured(ws)
        got = _replies(ws, command)
        assert not [m for m in got if m["type"] == "error"], got



class _Socket:
    """A tab's WebSocket played by a script: its commands, then a disconnect once the
    sentinel's reply has been sent (everything before it has been, too)."""

    def __init__(self, commands: list[dict]) -> None:
        self.commands = [json.dumps(c) for c in [*commands, SENTINEL]]
        self.sent: list[dict] = []
        self.answered = asyncio.Event()

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict:
        if self.commands:
            return {"type": "websocket.receive", "text": self.commands.pop(0)}
        await asyncio.wait_for(self.answered.wait(), 120)    # only against a hang
        return {"type": "websocket.disconnect"}

    async def send_text(self, text: str) -> None:
        m = json.loads(text)
        if m["type"] == "error" and "sentinel" in m["message"]:
            self.answered.set()
        else:
            self.sent.append(m)

    async def send_bytes(self, blob: bytes) -> None:
        pass


def test_an_unexpected_failure_is_a_one_line_error_and_the_session_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """torch reports its errors as RuntimeErrors over several lines; the session once took
    one for its socket closing and ended without a word (and without closing the socket)."""
    from spacefold.server.job import Job
    from spacefold.server.session import Session

    def broken(self: Job) -> bytes:
        raise RuntimeError("storage is shared\n  with another tensor")

    monkeypatch.setattr(Job, "checkpoint", broken)
    sock = _Socket([{"cmd": "config", "config": SMALL}, {"cmd": "save"}, {"cmd": "step"}])
    asyncio.run(Session(sock).run())             # type: ignore[arg-type]
    errors = [m["message"] for m in sock.sent if m["type"] == "error"]
    assert errors == ["the command failed: RuntimeError: storage is shared with another "
                      "tensor"], sock.sent
    assert {"type": "status", "state": "training", "epoch": 0} in sock.sent   # the step
