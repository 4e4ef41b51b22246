"""The app's Render button: an MP4 of a job's network, made server-side in the background.

The video is what the CLI makes for a model (``spacefold render layers --model ...``): the
network as the page last showed it, traced on the job's data and told by the ``layers``
story through :func:`spacefold.scenes.api.render`. Nothing here knows HTTP.

Bounded (spacefold.limits): one render per job at a time, at most ``MAX_RENDERS`` in the
process (two cores), a size/fps/frame-count limit per request, and at most
``MAX_VIDEOS_KEPT`` finished files kept on disk (the oldest is deleted first).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

import spacefold.limits as limits
from spacefold.errors import SpacefoldError


class RenderRequest(BaseModel):
    """The video's options (the app's size and fps choices); strict types, as
    :class:`~spacefold.server.config.Config`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    width: int = Field(default=640, ge=limits.APP_VIDEO_MIN_SIDE,
                       le=limits.APP_VIDEO_MAX_SIZE[0])
    height: int = Field(default=360, ge=limits.APP_VIDEO_MIN_SIDE,
                        le=limits.APP_VIDEO_MAX_SIZE[1])
    fps: int = Field(default=24, ge=1, le=limits.APP_VIDEO_MAX_FPS)
    color_by: str = Field(default="class", pattern="^(class|position)$")

    @model_validator(mode="after")
    def _even(self) -> RenderRequest:
        if self.width % 2 or self.height % 2:
            raise ValueError(f"size {self.width}x{self.height}: an MP4 needs an even width "
                             f"and height")
        return self


class Busy(SpacefoldError):
    """A render is already running (for this job, or too many in the process)."""


@dataclass
class RenderTask:
    """One video being made (or made) for a job: polled by the page."""

    job: str
    request: RenderRequest
    epoch: int
    name: str
    state: str = "running"          # running | done | error
    frame: int = 0
    frames: int = 0
    message: str = ""
    path: Path | None = None
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    def status(self) -> dict[str, Any]:
        return {"job": self.job, "state": self.state, "frame": self.frame,
                "frames": self.frames, "epoch": self.epoch, "message": self.message,
                "name": self.name, "seconds": round(self.seconds, 2),
                "size": [self.request.width, self.request.height], "fps": self.request.fps}


_LOCK = threading.Lock()
TASKS: OrderedDict[str, RenderTask] = OrderedDict()     # job id → its latest render
_DIR: Path | None = None


def _folder() -> Path:
    global _DIR
    if _DIR is None or not _DIR.is_dir():
        _DIR = Path(tempfile.mkdtemp(prefix="spacefold-renders-"))
    return _DIR


def active() -> int:
    with _LOCK:
        return sum(1 for t in TASKS.values() if t.state == "running")


def task(job: str) -> RenderTask | None:
    with _LOCK:
        return TASKS.get(job)


def start(job: str, net: Any, data: Any, epoch: int, title: str,
          req: RenderRequest) -> RenderTask:
    """Start rendering ``net`` on ``data`` in a thread; the task to poll.

    Raises :class:`Busy` while this job's previous render runs or ``MAX_RENDERS`` are
    running, and :class:`SpacefoldError` when the video would have too many frames.
    """
    from spacefold.scenes.layers import layers
    from spacefold.trace import trace

    with _LOCK:
        old = TASKS.get(job)
        if old is not None and old.state == "running":
            raise Busy(f"a video of this network is already rendering "
                       f"(frame {old.frame}/{old.frames}); wait for it to finish")
        if sum(1 for t in TASKS.values() if t.state == "running") >= limits.MAX_RENDERS:
            raise Busy(f"{limits.MAX_RENDERS} videos are rendering on this server; try again when "
                       f"one has finished")
        safe = "".join(c if c.isascii() and c.isalnum() or c in "-." else "-" for c in title)
        t = RenderTask(job, req, epoch, f"spacefold-{safe}-epoch{epoch}.mp4")
        _forget(old)
        TASKS[job] = t
        TASKS.move_to_end(job)
        while len(TASKS) > limits.MAX_VIDEOS_KEPT:
            oldest = next(iter(TASKS))
            if TASKS[oldest].state == "running":
                break
            _forget(TASKS.pop(oldest))

    def run() -> None:
        from spacefold.scenes.api import render

        t0 = time.perf_counter()
        out = _folder() / f"{job}-{int(t.started * 1000)}.mp4"
        try:
            tl = layers(trace_=trace(net, data), color_by=req.color_by)
            t.frames = tl.n_frames(req.fps)
            if t.frames > limits.APP_VIDEO_MAX_FRAMES:
                raise SpacefoldError(f"the video would have {t.frames} frames at {req.fps} "
                                     f"fps; at most {limits.APP_VIDEO_MAX_FRAMES} here "
                                     f"(lower the fps)")

            def progress(i: int, n: int) -> None:
                t.frame, t.frames = i, n

            render(tl, out, size=(req.width, req.height), fps=req.fps, progress=progress)
            t.path = out
            t.state = "done"
        except SpacefoldError as e:
            t.state, t.message = "error", str(e)
        except Exception as e:  # pragma: no cover - reported, never a silent dead render
            t.state, t.message = "error", f"render failed: {type(e).__name__}: {e}"
        finally:
            t.seconds = time.perf_counter() - t0
            if t.state != "done":
                out.unlink(missing_ok=True)

    threading.Thread(target=run, name="spacefold-render", daemon=True).start()
    return t


def _forget(t: RenderTask | None) -> None:
    if t is not None and t.path is not None:
        t.path.unlink(missing_ok=True)


def cleanup() -> None:
    """Delete every finished video (the server is shutting down)."""
    global _DIR
    with _LOCK:
        TASKS.clear()
        if _DIR is not None:
            shutil.rmtree(_DIR, ignore_errors=True)
            _DIR = None
