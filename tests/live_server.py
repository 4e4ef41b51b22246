"""Shared by the tests that drive the app over the network: a free local port, and the app
served by uvicorn on one, in a thread, for as long as the ``with`` block lasts."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(make_app: Callable[[int], Any]) -> Iterator[str]:
    """``make_app(port)`` served on 127.0.0.1:port; yields its URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(make_app(port), host="127.0.0.1", port=port,
                                        log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        srv.should_exit = True
        th.join(10)
