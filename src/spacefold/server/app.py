"""``spacefold serve``: the local web app (FastAPI). The page is the built viewer plus the
controls (web/src/app.ts); training runs server-side and streams over a WebSocket.

    GET  /                  the app (state in the query string, so a view is shareable)
    GET  /static/viewer.js  the built viewer bundle
    GET  /api/options       datasets, activations and every bound, for the controls
    GET  /api/fields        the form: each config field's kind, label, bounds, default and
                            whether changing it retunes the running network (config.fields)
    POST /api/check         validate a config: 200, or 422 with a one-line message
    POST /api/export        train a config for ``epochs`` and download the HTML export
    POST /api/export/<job>  the HTML export of the job's network as last shown (its epoch)
    POST /api/upload        a CSV body (x, y, label) → a dataset id for the config
    POST /api/render/<job>  start an MP4 of the job's network as last shown ({width, height,
                            fps}; 202, 404 unknown job, 409 already rendering)
    GET  /api/render/<job>  the render's state: running (frame/frames) | done | error
    GET  /api/render/<job>/file   the finished MP4
    WS   /ws                commands {"cmd": "config"|"train"|"pause"|"step"|"reset"|"save"
                            |"edit", "add": [x, y, label] | "remove": [x, y]}
                            → {"type": "status"|"error"|"file", ...} as text, and live
                            updates {"type": "update", ...} as binary messages
                            (spacefold.export.pack: JSON header + raw arrays)

Every request is bounded (points, widths, depth, epochs; see spacefold.limits) and a client that
disconnects stops its training job. Only this server's own pages may open the WebSocket or
POST, and only its own host names are answered (guard.Guard: the CSRF, cross-site WebSocket
and DNS-rebinding guards). Bodies and commands are read by guard.parse_json (bounded size,
nesting and digits): bad input is a 422 or an error message on the socket, never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

import spacefold.limits as limits
from spacefold.errors import SpacefoldError
from spacefold.export import BUNDLE, STATIC, to_html
from spacefold.server import config, guard, renders, running, tracer, uploads
from spacefold.server.config import Config, parse_config, validation_message
from spacefold.server.exports import Export
from spacefold.server.guard import BadInput, parse_json
from spacefold.server.job import Job, find
from spacefold.server.renders import RenderRequest
from spacefold.server.session import Session

HOST = "127.0.0.1"
PORT = 8765
# uvicorn's WebSocket options for ``serve`` (and the benchmark). No permessage-deflate: the
# live updates are mostly raw float32 bytes (~320 KB; ~430 KB when they were base64), which
# zlib barely shrinks, and compressing them took the main process's GIL from the training
# thread on every update (measured, bench_viewer on 2 cores: ~6 → ~8 updates/s and ~15% more
# epochs/s without it).
# The transport takes a frame a little over the command limit, so a command over it gets the
# session's one-line error with the socket kept open (at the limit itself uvicorn closed
# the socket, 1009, and the tab's job with it); far larger ones still close it.
WS_OPTIONS: dict[str, Any] = {"ws_max_size": 4 * limits.MAX_MESSAGE,
                             "ws_per_message_deflate": False}


@contextlib.asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    renders.cleanup()          # the rendered videos live as long as the server


JSON_PATHS = ("/api/check", "/api/export", "/api/render/")   # POSTs that take JSON bodies


async def _body(request: Request, limit: int = limits.MAX_JSON) -> Any:
    """The request's JSON body, read within ``limit`` bytes (guard.parse_json's bounds)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BadInput(f"the body is more than {limit} bytes")
    return parse_json(bytes(raw)) if raw.strip() else {}


def create_app(host: str = HOST, port: int | None = None,
               allow_hosts: tuple[str, ...] = ()) -> FastAPI:
    """The app. ``host``/``port`` as bound decide the origin and host names it answers
    (port None: the port each connection came in on); ``allow_hosts``: more host names
    (``spacefold serve --allow-host``)."""
    app = FastAPI(title="spacefold", docs_url="/api/docs", redoc_url=None, lifespan=_lifespan)
    app.add_middleware(guard.Guard, host=host, port=port, allow_hosts=allow_hosts,
                       json_paths=JSON_PATHS)
    app.add_middleware(Closing)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc)}, status_code=422)

    @app.exception_handler(SpacefoldError)
    async def _bad(_: Request, exc: SpacefoldError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> Response:
        """The client went away while sending its body (an upload cut short): nobody reads
        the answer, and it is no error of ours to log."""
        return Response(status_code=499)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse((STATIC / "app.html").read_text(encoding="utf-8"))

    @app.get("/static/viewer.js")
    def viewer() -> FileResponse:
        return FileResponse(BUNDLE, media_type="text/javascript")

    @app.get("/api/options")
    def options() -> dict[str, Any]:
        return {"datasets": list(config.APP_DATASETS), "activations": config.activations(),
                "data": config.dataset_info(),
                "defaults": Config().model_dump(),
                "limits": {"points": limits.APP_MAX_POINTS, "width": limits.APP_MAX_WIDTH,
                           "hidden_layers": limits.APP_MAX_HIDDEN,
                           "epochs": limits.APP_MAX_EPOCHS}}

    @app.get("/api/fields")
    def fields() -> list[dict[str, Any]]:
        """The app's form, from the Config model (config.fields): the page builds its
        controls, URL state and retune rule from this."""
        return config.fields()

    @app.post("/api/check")
    async def check(request: Request) -> dict[str, Any]:
        """Validate a config (the JSON body): 200, or 422 with a one-line message."""
        cfg = parse_config(await _body(request))
        return {"ok": True, "config": cfg.model_dump()}

    @app.post("/api/export")
    async def export(request: Request) -> Response:
        """Train the config (JSON body) for its ``epochs`` and return the HTML export: a
        bounded job, counted in /api/jobs, that a disconnect cancels."""
        cfg = parse_config(await _body(request))
        if cfg.epochs > limits.EXPORT_MAX_EPOCHS:
            raise SpacefoldError(f"epochs {cfg.epochs}: an export trains at most "
                                 f"{limits.EXPORT_MAX_EPOCHS}")
        ex = Export(cfg)                   # DataError (422) when over the bound
        if running.count() >= limits.MAX_JOBS:
            raise HTTPException(429, running.busy_message())
        ex.start()
        try:
            while not ex.done.is_set():
                if await request.is_disconnected():
                    ex.cancel()
                    return Response(status_code=499)   # nobody reads it
                await asyncio.sleep(0.05)
        finally:
            ex.cancel()                    # a no-op once done; the server shutting down
        if ex.page is None:
            raise SpacefoldError(ex.error or "the export failed")
        from spacefold.model.spec import parse_arch

        arch = "-".join(map(str, parse_arch(cfg.arch)))     # as read: widths, no spaces
        name = f"spacefold-{cfg.dataset}-{arch}.html"
        return Response(ex.page, media_type="text/html",
                        headers=attachment(name))

    @app.post("/api/export/{key}")
    def export_shown(key: str) -> Response:
        """The page's "download HTML": the network as shown, at its epoch (no retraining)."""
        job = _job(key)
        if job.shown is None:
            raise HTTPException(409, "the network has not been shown yet; try again")
        net, epoch = job.shown
        from spacefold.trace import trace

        title = f"{job.cfg.dataset} · {job.spec.arch} · epoch {epoch}"
        with running.slot() as place:       # a page of a wide network takes seconds and GBs
            if place is None:
                raise HTTPException(429, running.busy_message())
            tr = trace(net, job.data)
            page = to_html(tr, title=title, groups=job.groups())
        name = f"spacefold-{job.cfg.dataset}-{job.spec.arch}-epoch{epoch}.html"
        return Response(page, media_type="text/html",
                        headers=attachment(name))

    @app.post("/api/upload")
    async def upload(request: Request) -> dict[str, Any]:
        """A CSV body (x, y, label per row) → ``{"dataset": "upload:<id>", ...}``."""
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > limits.MAX_UPLOAD:
            raise SpacefoldError(f"upload of {size} bytes is too large "
                                 f"(at most {limits.MAX_UPLOAD})")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limits.MAX_UPLOAD:
                raise SpacefoldError(f"upload is too large (at most {limits.MAX_UPLOAD} bytes)")
        key, data = uploads.add_upload(raw)
        return {"dataset": uploads.UPLOAD_PREFIX + key, "n": len(data), "classes": data.classes}

    def _job(key: str) -> Job:
        found = find(key)
        if found is None:
            raise HTTPException(404, f"no job {key[:40]!r} on this server: a job lives while "
                                     f"its page is open; reload the page")
        return found

    @app.post("/api/render/{key}", status_code=202)
    async def render_start(key: str, request: Request) -> dict[str, Any]:
        """Start an MP4 of the job's shown network (JSON body: width, height, fps)."""
        body = await _body(request)
        if not isinstance(body, dict):
            raise BadInput(f"the body must be a JSON object, not {type(body).__name__}")
        try:
            req = RenderRequest.model_validate(body)
        except ValidationError as e:
            raise BadInput(validation_message(e)) from None
        job = _job(key)
        shown = job.shown
        if shown is None:
            raise HTTPException(409, "the network has not been shown yet; try again")
        net, epoch = shown
        try:
            t = renders.start(key, net, job.data, epoch, f"{job.cfg.dataset}-{job.spec.arch}",
                              req)
        except renders.Busy as e:
            raise HTTPException(409, str(e)) from None
        return t.status()

    @app.get("/api/render/{key}")
    def render_status(key: str) -> dict[str, Any]:
        t = renders.task(key)
        if t is None:
            _job(key)
            return {"job": key, "state": "idle"}
        return t.status()

    @app.get("/api/render/{key}/file")
    def render_file(key: str) -> FileResponse:
        t = renders.task(key)
        if t is None:
            _job(key)
            raise HTTPException(404, "no video of this job yet: start one with POST "
                                     "api/render/<job>")
        if t.state != "done" or t.path is None or not t.path.is_file():
            raise HTTPException(409, f"the video is not ready (state {t.state})")
        return FileResponse(t.path, media_type="video/mp4", filename=t.name)

    @app.get("/api/jobs")
    def running_jobs() -> dict[str, int]:
        return {"running": running.count()}

    @app.websocket("/ws")
    async def ws(sock: WebSocket) -> None:
        if Session.open >= limits.MAX_SESSIONS:
            await sock.send_denial_response(JSONResponse(
                {"detail": f"{Session.open} sessions are open on this server, the most it "
                           f"takes ({limits.MAX_SESSIONS}); close a tab and try again"},
                status_code=429))
            return
        await Session(sock).run()

    return app


EXIT_GRACE = 1.5   # seconds from SIGTERM/SIGINT to a forced exit if shutdown has not ended
GRACEFUL = 1       # seconds uvicorn waits for requests in flight (exports, a session building
                   # its network) before it cancels them; sessions end at once, not waiting
                   # for their jobs' threads, so this bounds only work that is truly stuck


def serve(host: str = HOST, port: int = PORT, allow_hosts: tuple[str, ...] = ()) -> None:
    """Run the app with uvicorn until Ctrl-C or SIGTERM.

    A signal first stops every job (each honours it within a mini-batch; running.close),
    then uvicorn closes the connections, waiting at most ``GRACEFUL`` seconds for requests in
    flight; sessions do not wait for their jobs' threads (an update traced in this process
    cannot be interrupted: they are daemon threads, and end with it), and the tracing
    processes are killed. If the process is still here ``EXIT_GRACE`` seconds after the
    signal, it exits anyway.
    """
    import os
    import signal
    import threading
    import time
    from types import FrameType

    import uvicorn

    class Server(uvicorn.Server):
        deadline_started = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            running.close()
            super().handle_exit(sig, frame)
            if not self.deadline_started:
                self.deadline_started = True
                threading.Thread(target=deadline, args=(sig,), name="spacefold-exit",
                                 daemon=True).start()

    def deadline(sig: int) -> None:
        time.sleep(EXIT_GRACE)
        tracer.kill_workers()
        renders.cleanup()
        os._exit(128 + sig if sig in (signal.SIGTERM, signal.SIGINT) else 1)

    config = uvicorn.Config(create_app(host, port, allow_hosts), host=host, port=port,
                            log_level="warning", timeout_graceful_shutdown=GRACEFUL,
                            **WS_OPTIONS)
    try:
        Server(config).run()
    finally:
        running.cancel_all()
        if running.CLOSING.is_set():
            tracer.kill_workers()
        else:
            tracer.close_workers()


class Closing:
    """ASGI middleware: a request or session that uvicorn cancels because the server is
    exiting (its ``GRACEFUL`` wait is over) ends quietly, a 503 if nothing was answered yet,
    instead of a CancelledError traceback in the log."""

    def __init__(self, app: guard.ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: guard.Scope, receive: guard.Receive,
                       send: guard.Send) -> None:
        started = False

        async def sending(message: guard.Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if not running.CLOSING.is_set():
                raise
            if scope["type"] == "http" and not started:
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.start", "status": 503,
                                "headers": [(b"content-length", b"0")]})
                    await send({"type": "http.response.body", "body": b""})


def attachment(name: str) -> dict[str, str]:
    """The download header for ``name``: ASCII letters, digits, '.', '_' and '-' only (an
    architecture or dataset as typed may hold spaces, control or other scripts' characters,
    which a header cannot carry)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "spacefold"
    return {"Content-Disposition": f'attachment; filename="{safe}"'}
