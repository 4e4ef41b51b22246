"""What keeps other web pages and other host names from driving ``spacefold serve``.

A page on any other origin can make the browser open ``ws://127.0.0.1:PORT/ws`` or POST to
the server (the browser sends neither a preflight for a WebSocket nor for a ``text/plain``
POST), and a DNS-rebinding page can even make ``http://attacker.test:PORT`` resolve to
127.0.0.1. :class:`Guard` (ASGI middleware) answers only:

- requests whose ``Host`` names this server: the host it is bound to, the loopback names
  (``localhost``, ``127.0.0.1``, ``[::1]``) and the names given by ``--allow-host``;
  anything else is 400;
- WebSocket handshakes whose ``Origin`` is this server's own origin (``http://NAME:PORT`` for
  those names and the port served); a missing or foreign Origin is 403;
- POST/PUT/PATCH/DELETE whose ``Origin``, when the client sends one (browsers always do on a
  POST), is that same origin; the JSON endpoints also need ``Content-Type: application/json``
  (which a foreign page cannot send without a CORS preflight, and we answer none): 403.

Refusals carry a one-line reason. :func:`parse_json` reads a request body or a WebSocket
command with bounds on size, nesting and digits, so bad input is a message, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import spacefold.limits as limits
from spacefold.errors import SpacefoldError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class BadInput(SpacefoldError):
    """A body or command that is not the bounded JSON object expected (422 / a message)."""


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or origin authority, lower case, without brackets
    or port: ``"[::1]:8765"`` → ``"::1"``, ``"LocalHost:80"`` → ``"localhost"``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    name, sep, port = value.rpartition(":")
    if sep and port.isdigit():
        return name
    return value if ":" not in value else ""


def _authority(name: str) -> str:
    return f"[{name}]" if ":" in name else name


class Guard:
    """ASGI middleware: trusted ``Host``, same-origin WebSockets and POSTs, JSON types.

    ``host``/``port``: as bound (port 0 or None: the port each connection arrived on).
    ``allow_hosts``: extra host names to answer (for ``--host 0.0.0.0``). ``json_paths``:
    path prefixes whose POSTs must be ``application/json``.
    """

    def __init__(self, app: ASGIApp, host: str, port: int | None,
                 allow_hosts: Iterable[str] = (), json_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.port = port or None
        names = set(LOOPBACK)
        bound = host.strip().lower().removeprefix("[").removesuffix("]")
        if bound not in ANY_ADDRESS:
            names.add(bound)
        names.update(h.strip().lower().removeprefix("[").removesuffix("]")
                     for h in allow_hosts)
        names.discard("")
        self.names = frozenset(names)
        self.json_paths = tuple(json_paths)

    def origins(self, port: int) -> frozenset[str]:
        """The origins this server's own pages have when served on ``port``."""
        out = {f"http://{_authority(n)}:{port}" for n in self.names}
        if port == 80:
            out |= {f"http://{_authority(n)}" for n in self.names}
        return frozenset(out)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, one-line reason) when this request must be refused, else None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        host = headers.get("host", "")
        if host_name(host) not in self.names:
            shown = repr(host[:80]) if host else "an empty Host header"
            return 400, (f"host {shown} is not served here (a DNS-rebinding guard); use "
                         f"http://127.0.0.1:PORT, or start the server with --allow-host NAME")
        port = self.port or int((scope.get("server") or ("", 0))[1] or 0)
        origin = headers.get("origin")
        kind = scope["type"]
        if kind == "websocket":
            if origin is None:
                return 403, ("a WebSocket without an Origin header is refused: open the app's "
                             "page from this server")
            if origin not in self.origins(port):
                return 403, (f"origin {origin[:80]!r} may not open this server's WebSocket; "
                             f"only pages from this server may")
            return None
        method = scope.get("method", "GET").upper()
        if method in SAFE_METHODS:
            return None
        if origin is not None and origin not in self.origins(port):
            return 403, (f"origin {origin[:80]!r} may not send {method} requests to this "
                         f"server; only pages from this server may")
        path = scope.get("path", "")
        if any(path.startswith(p) for p in self.json_paths):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                got = repr(ctype) if ctype else "none"
                return 403, (f"{path} takes Content-Type: application/json (got {got})")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, reason = refused
        body = json.dumps({"detail": reason}).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()                               # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            await send({"type": "websocket.http.response.start", "status": status,
                        "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:                                         # the server answers 403
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})


def _depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (strings skipped), stopping early
    once it passes MAX_JSON_DEPTH: json.loads would recurse that deep."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limits.MAX_JSON_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _number(text: str) -> int:
    digits = sum(c.isdigit() for c in text)
    if digits > limits.MAX_JSON_DIGITS:
        raise BadInput(f"a number with {digits} digits is too long (at most "
                       f"{limits.MAX_JSON_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    if sum(c.isdigit() for c in text) > limits.MAX_JSON_DIGITS + 10:
        raise BadInput(f"the number {text[:20]}... has too many digits")
    return float(text)


def _constant(text: str) -> Any:
    raise BadInput(f"{text} is not a number JSON allows; send a finite value")


def parse_json(raw: bytes | str, what: str = "the body", limit: int = limits.MAX_JSON) -> Any:
    """``raw`` as JSON, within ``limit`` bytes, ``MAX_JSON_DEPTH`` levels and ``MAX_JSON_DIGITS``
    digits per number (spacefold.limits), strict UTF-8 and no NaN/Infinity; else
    :class:`BadInput` with one line."""
    if len(raw) > limit:
        raise BadInput(f"{what} is {len(raw)} bytes; at most {limit}")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadInput(f"{what} is not UTF-8 text (byte {e.start})") from None
    else:
        text = raw
    if _depth(text) > limits.MAX_JSON_DEPTH:
        raise BadInput(f"{what} nests deeper than {limits.MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_number, parse_float=_float,
                          parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise BadInput(f"{what} is not JSON: {e.msg} at character {e.pos}") from None
    except RecursionError:      # pragma: no cover - the depth check comes first
        raise BadInput(f"{what} nests too deep") from None
