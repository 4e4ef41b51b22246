"""``spacefold serve``: the live app, bound to this machine unless told otherwise."""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated

import typer

from spacefold.cli.console import say, warn
from spacefold.cli.exits import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated
from spacefold.errors import SpecError


def serve_cmd(
    host: Annotated[str, typer.Option(
        "--host", help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port, 1-65535.")] = 8765,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", help="Another host name (or address) the app may be reached by, "
                             "e.g. this machine's name on the network; repeatable. Other "
                             "names get 400 (a DNS-rebinding guard).")] = None,
) -> None:
    """The live app: train a network in the browser and watch the plane unfold.

    Only pages served by this server may drive it (other origins get 403), and only its own
    host names are answered. Example: spacefold serve   (then open http://127.0.0.1:8765)
    """
    if not 1 <= port <= 65535:
        raise SpecError(f"--port {port} must be in 1-65535")
    hosts = tuple(host_name(h) for h in allow_host or ())
    from spacefold.server.app import serve

    if host.strip().strip("[]") in ("0.0.0.0", "::", ""):
        answered = ", ".join(hosts) if hosts else "none: add --allow-host NAME"
        warn(f"warning: --host {host} serves every network interface, and anyone who can "
             f"reach this machine can train on it; host names answered besides loopback: "
             f"{answered}")
    check_listen(host, port)
    shown = f"[{host.strip('[]')}]" if ":" in host else host     # an IPv6 address in a URL
    say(f"spacefold app on http://{shown}:{port}  (Ctrl-C stops it)")
    try:
        serve(host, port, hosts)
    except (Terminated, KeyboardInterrupt) as e:
        # serve has stopped every job and closed the connections; the interpreter's own
        # teardown with torch loaded takes another 1.5-3.5 s on a busy machine, so end here
        # (the signal must end the process within 2 s)
        term = isinstance(e, Terminated)
        sys.stdout.flush()
        sys.stderr.write(f"error: {'terminated' if term else 'interrupted'}\n")
        sys.stderr.flush()
        os._exit(EXIT_TERMINATED if term else EXIT_INTERRUPTED)


def host_name(name: str) -> str:
    """An ``--allow-host`` value: a bare host name or address (no scheme, path or port)."""
    bare = name.strip().lower()
    inner = bare.removeprefix("[").removesuffix("]")
    ok = re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]*:[0-9a-f:.]*", inner)
    if ok is None or len(inner) > 253:
        raise SpecError(f"--allow-host {name[:80]!r} is not a host name; give a bare name "
                        f"such as mybox.local or 192.168.1.20 (no scheme or port)")
    return inner


def check_listen(host: str, port: int) -> None:
    """Bind ``host:port`` once and let it go, as uvicorn will (SO_REUSEADDR), so a name that
    does not resolve, an address this machine does not have or a port in use is one line and
    exit 2 before the app starts (uvicorn logs it and exits 1 or 3, after the line that says
    the app is on)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as e:
        why = e.strerror if isinstance(e, socket.gaierror) else "not a host name"
        raise SpecError(f"--host {host[:80]!r}: {why}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise SpecError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
