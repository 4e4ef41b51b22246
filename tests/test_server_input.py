"""Bad input to ``spacefold serve`` (issue 13): every case the outside probe found is a 422
with a one-line message, or an error message on the WebSocket with the session still usable
-- never a 400, a 500, a dropped session or a traceback."""

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
JSON = {"Content-Type": "application/json"}
SMALL = {"dataset": "xor", "n": 40, "arch": "2-4-2", "epochs": 200, "test": 0.0}

BIG_INT = "1" * 5000
BAD_BODIES = {
    "5000-digit int": ('{"n": ' + BIG_INT + "}").encode(),
    "5000-digit int in a list": ("[" + BIG_INT + "]").encode(),
    "5000-digit float": ('{"lr": 0.' + BIG_INT + "}").encode(),
    "nested 1k": ("[" * 1000 + "]" * 1000).encode(),
    "nested 20k": ('{"a":' * 20_000 + "1" + "}" * 20_000).encode(),
    "nested 100k": ("[" * 100_000 + "]" * 100_000).encode(),
    "nested 100k unclosed": ("{\"x\":" + "[" * 100_000).encode(),
    "invalid utf-8": b'{"dataset": "\xff\xfe spiral"}',
    "lone surrogate": b'{"dataset": "\xed\xa0\x80"}',
    "NaN": b'{"lr": NaN}',
    "1e999": b'{"lr": 1e999}',
    "a string": b'"spiral"',
    "null": b"null",
    "truncated": b'{"n": 10',
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=BASE, raise_server_exceptions=True) as c:
        yield c


@pytest.mark.parametrize("name", list(BAD_BODIES))
@pytest.mark.parametrize("path", ["/api/check", "/api/export", "/api/render/0123456789abcdef"])
def test_bad_bodies_are_422_with_one_line(client: TestClient, path: str, name: str) -> None:
    body = BAD_BODIES[name]
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail and len(detail) < 600


def test_an_export_too_big_to_train_is_422_at_once(client: TestClient) -> None:
    r = client.post("/api/export", json={"arch": "2-256-256-256-256-256-256-5"})
    assert r.status_code == 422
    assert "at most" in r.json()["detail"] and "weights" in r.json()["detail"]
    assert client.get("/api/jobs").json() == {"running": 0}


def _receive(ws: Any) -> dict:
    raw = ws.receive()
    if raw.get("bytes") is not None:
        return unpack(raw["bytes"])
    return json.loads(raw["text"])


def _until(ws: Any, pred: Any, limit: int = 500) -> dict:
    for _ in range(limit):
        m = _receive(ws)
        if pred(m):
            return m
    raise AssertionError("message never came")


def _still_usable(ws: Any) -> None:
    ws.send_text(json.dumps({"cmd": "config", "config": SMALL}))
    assert _until(ws, lambda m: m["type"] == "update")["trace"]["n"] == 40


@pytest.mark.parametrize("raw", [
    '{"cmd": "config", "config": {"n": ' + BIG_INT + "}}",
    '{"cmd": ' + BIG_INT + "}",
    '{"cmd": "config", "config": ' + '{"a":' * 20_000 + "1" + "}" * 20_000 + "}",
    "[" * 20_000,
    '{"cmd": "config", "config": {"lr": NaN}}',
    '{"cmd": "config", "config": [1, 2]}',
    '{"cmd": "config", "config": "spiral"}',
    '{"cmd": ["train"]}',
    '{"cmd": {"a": 1}}',
    "not json",
    '{"cmd": "edit", "add": [' + BIG_INT + ", 0, 1]}",
])
def test_bad_commands_are_messages_and_the_session_goes_on(client: TestClient,
                                                           raw: str) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        if "edit" in raw:
            _still_usable(ws)
        ws.send_text(raw)
        err = _until(ws, lambda m: m["type"] == "error")
        assert err["message"] and "\n" not in err["message"], err
        _still_usable(ws)


def test_a_binary_frame_is_a_message_and_the_session_goes_on(client: TestClient) -> None:
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_bytes(b'{"cmd": "train"}')
        assert "binary" in _until(ws, lambda m: m["type"] == "error")["message"]
        ws.send_bytes(b"\xff\x00\x01")
        assert "binary" in _until(ws, lambda m: m["type"] == "error")["message"]
        _still_usable(ws)


def test_removing_points_stops_at_the_minimum_and_the_session_goes_on(
        client: TestClient) -> None:
    cfg = {**SMALL, "n": limits.APP_MIN_POINTS + 3}
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        n = _until(ws, lambda m: m["type"] == "update")["trace"]["n"]
        messages = []
        for _ in range(n):                        # try to take them all away, down to 0
            ws.send_text(json.dumps({"cmd": "edit", "remove": [0.0, 0.0]}))
            m = _until(ws, lambda m: m["type"] in ("update", "error"))
            messages.append(m)
            if m["type"] == "error":
                break
        assert messages[-1]["type"] == "error", messages[-1]
        assert f"at least {limits.APP_MIN_POINTS}" in messages[-1]["message"]
        shown = [m["trace"]["n"] for m in messages if m["type"] == "update"]
        assert shown == list(range(n - 1, limits.APP_MIN_POINTS - 1, -1))
        ws.send_text(json.dumps({"cmd": "step"}))
        step = _until(ws, lambda m: m["type"] == "update" and m["epoch"] > 0)
        assert step["trace"]["n"] == limits.APP_MIN_POINTS


def test_a_session_on_an_upload_of_three_points_shows_it_or_says_why(
        client: TestClient) -> None:
    body = b"0.5,0.25,1\n0.1,0.2,0\n0.3,0.4,1\n"
    r = client.post("/api/upload", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    cfg = {"dataset": r.json()["dataset"], "arch": "2-8-8-2", "test": 0.0}
    with client.websocket_connect(WS, headers=SAME) as ws:
        ws.send_text(json.dumps({"cmd": "config", "config": cfg}))
        m = _until(ws, lambda m: m["type"] in ("update", "error"))
        assert m["type"] == "update" or "3 points" in m["message"], m
        _still_usable(ws)


LOOSE = {   # a value of the wrong JSON type for the field (pydantic's lax mode took them)
    "a string for an int": {"n": "100"},
    "a float for an int": {"seed": 1.0},
    "a bool for an int": {"epochs": True},
    "a list for an int": {"classes": [2]},
    "a string for a float": {"lr": "0.1"},
    "a bool for a float": {"noise": False},
    "a number for a string": {"arch": 242},
}
LOOSE_RENDER = {
    "a float for an int": {"width": 64.0},
    "a string for an int": {"fps": "24"},
    "a bool for an int": {"height": True},
    "a list for a string": {"color_by": ["class"]},
}


@pytest.mark.parametrize("path", ["/api/check", "/api/export"])
@pytest.mark.parametrize("name", list(LOOSE))
def test_a_config_field_of_the_wrong_type_is_422(client: TestClient, path: str,
                                                 name: str) -> None:
    body = {**SMALL, **LOOSE[name]}
    r = client.post(path, json=body)
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    field = next(iter(LOOSE[name]))
    assert r.json()["detail"].startswith(f"{field}: "), r.text


@pytest.mark.parametrize("name", list(LOOSE_RENDER))
def test_a_render_field_of_the_wrong_type_is_422(client: TestClient, name: str) -> None:
    r = client.post("/api/render/0123456789abcdef", json=LOOSE_RENDER[name])
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    assert r.json()["detail"].startswith(f"{next(iter(LOOSE_RENDER[name]))}: "), r.text


@pytest.mark.parametrize("path, ctype", [("/api/upload", b"text/csv"),
                                         ("/api/check", b"application/json"),
                                         ("/api/export", b"application/json"),
                                         ("/api/render/0123456789abcdef", b"application/json")])
def test_a_client_gone_in_the_middle_of_a_body_ends_the_request_quietly(
        path: str, ctype: bytes) -> None:
    """The body stops after its first chunk (the client went away): the app returns without
    raising, which uvicorn would log as a traceback ("Exception in ASGI application")."""
    app = create_app()
    messages = [{"type": "http.request", "body": b"0.1,0.2,0\n", "more_body": True}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8765),
             "client": ("127.0.0.1", 50000),
             "headers": [(b"host", b"127.0.0.1:8765"), (b"content-type", ctype),
                         (b"content-length", b"100000")]}
    asyncio.run(app(scope, receive, send))
    assert all(m.get("status") != 500 for m in sent), sent
