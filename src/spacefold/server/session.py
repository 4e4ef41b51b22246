"""One browser tab's WebSocket (``/ws``): its commands, and its job's messages sent back with
the newest update winning when the client is slow.

Commands ``{"cmd": "config"|"train"|"pause"|"step"|"reset"|"save"|"edit", ...}``; a config that
changes only what the running network can take on (config.RETUNABLE) retunes it, any other
makes a new network. Bad commands get a one-line error message, never a closed socket.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import json
from collections import deque
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

import spacefold.limits as limits
from spacefold.errors import SpacefoldError
from spacefold.server import running
from spacefold.server.commands import parse_command
from spacefold.server.config import Config, parse_config, same_network
from spacefold.server.guard import BadInput, parse_json
from spacefold.server.job import Job


class Session:
    """One browser tab: at most one job; the newest update wins when the client is slow."""

    open = 0        # sessions running in this process (MAX_SESSIONS)

    def __init__(self, sock: WebSocket) -> None:
        self.sock = sock
        self.job: Job | None = None
        self.cfg: Config | None = None
        self.control: deque[dict[str, Any]] = deque(maxlen=100)
        self.latest: dict[str, Any] | None = None
        self.wake = asyncio.Event()

    def _emit_from(self, loop: asyncio.AbstractEventLoop, job_id: int) -> Any:
        def emit(msg: dict[str, Any]) -> None:
            def put() -> None:
                if self.job is None or id(self.job) != job_id:
                    return            # a stale job's last words
                if msg["type"] == "update":
                    self.latest = msg
                else:
                    self.control.append(msg)
                self.wake.set()
            try:
                loop.call_soon_threadsafe(put)
            except RuntimeError:          # the server has shut down: nobody to tell
                pass
        return emit

    async def _sender(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.control or self.latest is not None:
                msg: dict[str, Any]
                if self.control:
                    msg = self.control.popleft()
                elif self.latest is not None:
                    msg, self.latest = self.latest, None
                if "bin" in msg:          # a packed live update (export.pack)
                    await self.sock.send_bytes(msg["bin"])
                    continue
                try:
                    text = json.dumps(msg, allow_nan=False, default=str)
                except ValueError:        # a NaN slipped in: say so rather than send bad JSON
                    text = json.dumps({"type": "error", "message": "non-finite values in the "
                                       "network's output; training diverged"})
                await self.sock.send_text(text)

    def _say(self, msg: dict[str, Any]) -> None:
        self.control.append(msg)
        self.wake.set()

    async def _new_job(self, cfg: Config, **kw: Any) -> bool:
        """Replace this session's job with a new one from ``cfg``; False (the error said)
        when it could not start, and then the session has no job."""
        await self._stop_job()
        if running.CLOSING.is_set():
            self._say({"type": "error", "message": "the server is shutting down"})
            return False
        # the place is taken before building: sessions configuring at once all await the
        # build, and a job counts itself only once its threads start (then the place stops
        # counting: running.Place)
        with running.slot() as place:
            if place is None:
                self._say({"type": "error", "message": running.busy_message()})
                return False
            loop = asyncio.get_running_loop()
            self.cfg = cfg
            try:
                # build (data + initial weights) off the event loop: it imports torch once
                job = await running.off_loop(lambda: Job(cfg, lambda m: None, **kw))
            except SpacefoldError as e:
                self._say({"type": "error", "message": str(e)})
                return False
            place.job = job
            self.job = job
            job.emit = self._emit_from(loop, id(job))
            await running.off_loop(job.start)
            return True

    async def _retune(self, old: Job, cfg: Config) -> None:
        """Learning rate, batch size, L2 or epochs changed: the running network goes on with
        them (its weights, epoch and edited points kept; Adam's moments start afresh)."""
        resume, left = old.state == "training", old._budget   # left > 0: a Step's epochs
        old.cancel()
        await running.off_loop(old.stop)
        net, epoch = copy.deepcopy(old.net), old.epoch
        if not await self._new_job(cfg, edited=(old.train_data, old.test_data, old.added),
                                   net=net, epoch=epoch):
            return
        self._say({"type": "config", "kept": True, "epoch": epoch})
        if resume and self.job is not None:
            if 0 < left <= self.job.budget:
                self.job.train(until=epoch + left)
            else:
                self.job.train()

    async def _stop_job(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.cancel()        # first, synchronously: even if this task is being cancelled
            if running.CLOSING.is_set():
                return          # the process is exiting: its daemon threads end with it
            await running.off_loop(functools.partial(running.end, job))   # runs on if cancelled

    async def _handle(self, raw: str) -> None:
        """One command; a bad one raises :class:`SpacefoldError` (the caller says it)."""
        if len(raw) > limits.MAX_MESSAGE:
            raise BadInput(f"message of {len(raw)} bytes is too large "
                           f"(at most {limits.MAX_MESSAGE})")
        c = parse_command(parse_json(raw, "the command", limits.MAX_MESSAGE))
        if c.cmd in ("config", "reset"):
            cfg = parse_config(c.config or {}, "config") \
                if c.cmd == "config" or self.cfg is None else self.cfg
            old = self.job
            if c.cmd == "config" and old is not None and self.cfg is not None and \
                    same_network(self.cfg, cfg):
                await self._retune(old, cfg)
            elif await self._new_job(cfg):
                self._say({"type": "config", "kept": False})
            return
        job = self.job
        if job is None or self.cfg is None:
            raise BadInput("no network yet: send a config first")
        if c.cmd == "train":
            job.train(until=c.until)
        elif c.cmd == "pause":
            job.pause()
        elif c.cmd == "step":
            job.step()
        elif c.cmd == "save":
            blob = await running.off_loop(job.checkpoint)
            self._say({"type": "file", "name": f"spacefold-{job.spec.arch}-epoch{job.epoch}"
                                               f".safetensors",
                       "b64": base64.b64encode(blob).decode("ascii")})
        elif c.cmd == "edit":
            data = job.edited(add=c.add, remove=c.remove)
            resume = job.state == "training"
            job.cancel()
            await running.off_loop(job.stop)
            net, epoch = copy.deepcopy(job.net), job.epoch
            # a fresh budget of the config's epochs from here (the old one may be spent)
            if await self._new_job(self.cfg, edited=data, net=net, epoch=epoch,
                                   budget=self.cfg.epochs) and resume and self.job is not None:
                self.job.train()

    async def run(self) -> None:
        await self.sock.accept()
        sender = asyncio.create_task(self._sender())
        Session.open += 1
        try:
            while True:
                try:
                    got = await self.sock.receive()
                except (WebSocketDisconnect, RuntimeError):   # the socket is gone
                    break
                if got["type"] == "websocket.disconnect":
                    break
                if got.get("text") is None:
                    self._say({"type": "error", "message": "binary messages are not commands: "
                                                           "send each command as JSON text"})
                    continue
                try:
                    await self._handle(got["text"])
                except SpacefoldError as e:
                    self._say({"type": "error", "message": one_line(str(e))})
                except Exception as e:
                    # a case no bound caught (torch's errors are RuntimeErrors): say so in one
                    # line and keep the session, neither a traceback nor a socket closed
                    # without a word
                    self._say({"type": "error", "message": one_line(
                        f"the command failed: {type(e).__name__}: {e}")})
        finally:
            Session.open -= 1
            sender.cancel()
            await self._stop_job()


def one_line(text: str, limit: int = 500) -> str:
    """``text`` on one line (a library's message may span several), at most ``limit``
    characters."""
    return " ".join(text.split())[:limit]
