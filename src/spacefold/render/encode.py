"""The only module that touches codecs: MP4 (H.264 via imageio-ffmpeg), GIF and PNG (Pillow).

Every writer works on a temp file beside the target and renames it on success, so an error
never leaves a half-written output.
"""

from __future__ import annotations

import functools
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from spacefold._atomic import atomic_path
from spacefold.errors import RenderError
from spacefold.limits import MAX_FPS, MIN_FPS

VIDEO_SUFFIXES = (".mp4", ".gif")
GIF_MAX_FPS = 50         # a GIF's delays are hundredths of a second, and browsers need 2
IMAGE_SUFFIXES = (".png",)


class Repeat:
    """The type of :data:`REPEAT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REPEAT"


REPEAT = Repeat()
"""In a stream of frames, "the previous frame again": the writers send what they sent for it
(an MP4 its converted bytes, a GIF its image) without drawing or converting anything."""



def check_fps(fps: float) -> float:
    """A frame rate the encoders take: a real number in [1, 120]."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) \
            or not MIN_FPS <= float(fps) <= MAX_FPS:
        raise RenderError(f"fps {fps!r} must be a number in [{MIN_FPS:g}, {MAX_FPS:g}]")
    return float(fps)


# libx264's settings: the "veryfast" preset with superfast's motion search (diamond) and
# subpixel refinement (1). Measured on nine catalogue scenes (their flat colours and thin
# lines): the encoder costs 16-30 % less CPU for files 5-19 % larger (~10 % typically), SSIM
# within 0.0005 of veryfast's (python benchmarks/bench_encode.py --scene NAME). superfast
# itself also drops the macroblock tree: files twice as large.
PRESET, CRF, X264_PARAMS = "veryfast", 23, "subme=1:me=dia"

THREADS: int | None = None
"""libx264's threads (None: its own choice, several for each core). A process that shares the
cores with others busy as well (a tour worker) sets 1: threading costs CPU time that the
other processes would have used."""


def write_mp4(path: str | Path, frames: Iterable[np.ndarray | Repeat], size: tuple[int, int],
              fps: float, preset: str = PRESET, crf: int = CRF,
              x264_params: str = X264_PARAMS) -> int:
    """Pipe RGBA frames (H, W, 4) into libx264 (yuv420p, BT.709); returns the frame count.
    :data:`REPEAT` sends the previous frame's bytes again (a still stretch of a video is
    neither drawn nor converted again).

    Frames are converted to YUV 4:2:0 by the compiled kernel as they come (ffmpeg's own
    conversion and a pipe 2.7x wider cost more; it is the fallback without the extension,
    fed copies of the frames, as backends reuse their buffer). A second thread feeds the pipe
    while the caller draws the next frame. Converting here rather than in that thread saves
    copying every RGBA frame: ~5 % of a render's CPU time, which the encoder, using both
    cores, would otherwise lose.

    The encoder dies with its parent (``PR_SET_PDEATHSIG``) and is killed when drawing fails
    or is interrupted; a non-zero exit status or an error it prints (a full disk's "Error
    writing trailer") fails the call, and the partial file is removed.
    """
    from spacefold.render import rasterize

    w, h = size
    if w % 2 or h % 2:
        raise RenderError(f"MP4 needs an even width and height, got {w}x{h}")
    fps = check_fps(fps)
    # our YUV conversion when compiled (1.5 bytes a pixel down the pipe); numpy's takes ~20 ms a
    # 720p frame, ffmpeg's own conversion of RGBA less
    own_yuv = rasterize.DEFAULT is rasterize.COMPILED
    count = 0
    with atomic_path(path) as tmp:
        enc = _Encoder(tmp, (w, h), fps, yuv_in=own_yuv,
                       output_params=["-preset", preset, "-crf", str(crf),
                                      *_x264_params(x264_params),
                                      "-movflags",
                                      "+faststart", *([] if own_yuv else _RGB_TO_BT709),
                                      *_BT709])
        ok = False
        try:
            pipe = _Pump(enc)
            # YUV frames go round a ring of buffers, one more than can be queued or being
            # written (fresh 1.4 MB arrays each frame cost the kernel's page clearing); RGBA
            # for ffmpeg is copied (backends reuse their buffer)
            # (a repeat queues its frame's buffer again and takes no slot: a slot is reused
            # only after depth + 1 other frames were queued, so after its last send)
            ring = [np.empty(w * h * 3 // 2, dtype=np.uint8) for _ in range(pipe.depth + 2)]
            sent: np.ndarray | None = None
            slot = 0
            try:
                for f in frames:
                    if isinstance(f, Repeat):
                        if sent is None:
                            raise RenderError("the first frame cannot be a repeat")
                    elif own_yuv:
                        sent = rasterize.yuv420(f, ring[slot % len(ring)])
                        slot += 1
                    else:
                        sent = np.array(f, copy=True)
                    pipe.put(sent)
                    count += 1
            finally:
                pipe.close()
            if count == 0:
                raise RenderError("no frames to write")
            enc.finish()
            ok = True
        finally:
            if not ok:
                enc.kill()
    return count


def _x264_params(params: str) -> list[str]:
    """``-x264-params`` for ``params`` and :data:`THREADS`."""
    opts = [p for p in (params, f"threads={THREADS}" if THREADS else "") if p]
    return ["-x264-params", ":".join(opts)] if opts else []


def _dying_with_parent(cmd: list[str]) -> list[str]:
    """``cmd`` run so the kernel SIGKILLs it when the thread that started it dies
    (``PR_SET_PDEATHSIG``, through util-linux's ``setpriv``, which then execs ``cmd``: the
    same process). Not a ``preexec_fn``: Python code run between fork and exec in a threaded
    process can deadlock (the child frees objects other threads held, e.g. a PyAV scaler
    joining threads the child does not have). Without ``setpriv`` the encoder still ends when
    its parent does: its stdin closes, it reads the end of its input."""
    setpriv = _setpriv()
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd


@functools.cache
def _setpriv() -> str | None:
    """util-linux's ``setpriv`` where it has ``--pdeathsig`` (2.33, 2018, and later)."""
    exe = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if "--pdeathsig" in r.stdout else None


class _Encoder:
    """One ffmpeg process reading raw frames on stdin; its messages go to a temp file."""

    def __init__(self, path: str, size: tuple[int, int], fps: float, *, yuv_in: bool,
                 output_params: list[str]) -> None:
        import imageio_ffmpeg

        w, h = size
        rate = str(Fraction(fps).limit_denominator())   # a rational, as imageio-ffmpeg passes
        self.cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-f", "rawvideo", "-vcodec",
                    "rawvideo", "-s", f"{w}x{h}",
                    "-pix_fmt", "yuv420p" if yuv_in else "rgba", "-r", rate,
                    *(_BT709 if yuv_in else []), "-i", "-", "-an", "-vcodec", "libx264",
                    "-pix_fmt", "yuv420p", "-v", "error", *output_params, path]
        self.log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(_dying_with_parent(self.cmd), stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=self.log)
        except OSError as e:
            self.log.close()
            raise RenderError(f"cannot start the video encoder: {e.strerror or e}") from None
        assert self.proc.stdin is not None
        self.stdin = self.proc.stdin
        _widen(self.stdin.fileno())

    def send(self, frame: np.ndarray) -> None:
        try:
            self.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, ValueError):   # the encoder quit: its message says why
            self.proc.wait()
            raise RenderError(self._failure()) from None

    def _messages(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def _failure(self) -> str:
        text = self._messages()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        rc = self.proc.returncode
        why = lines[-1] if lines else f"exit status {rc}"
        if not lines and rc is not None and rc < 0:
            try:
                why = f"killed by {signal.Signals(-rc).name}"
            except ValueError:
                pass
        if any("No space left" in ln for ln in lines):
            why = "No space left on device"
        return f"the video encoder failed: {why} (the output was not written)"

    def finish(self) -> None:
        """Close stdin, wait for the encoder; fail on its exit status or its errors."""
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait()
        text = self._messages()
        if rc != 0 or "Error writing trailer" in text or "No space left" in text:
            raise RenderError(self._failure())
        self.log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        if not self.log.closed:
            self.log.close()


def _widen(fd: int) -> None:
    """A pipe of 1 MiB where Linux allows it: the default 64 KiB one takes a 720p frame in ~21
    writes, each waking the encoder to read it (fold-222: 9927 -> 1447 voluntary context
    switches in our process, 12532 -> 5485 in ffmpeg)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass            # another system, or a lower limit: the default pipe works too


# RGB -> YUV with the BT.709 matrix (the kernel's; for the fallback ffmpeg's scaler is told so),
# and the stream tagged with it: untagged HD video is read as BT.709 by browsers and players.
_RGB_TO_BT709 = ["-vf", "scale=out_color_matrix=bt709:out_range=tv"]
_BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
          "-color_range", "tv"]


class _Pump:
    """Sends frames to an imageio-ffmpeg writer from a thread, a few frames behind."""

    def __init__(self, enc: _Encoder, depth: int = 3) -> None:
        self.enc = enc
        self.depth = depth          # frames queued at most, besides the one being written
        self.queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="spacefold-mp4", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (f := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.enc.send(f)
                except BaseException as e:  # re-raised in the caller's thread
                    self.error = e

    def put(self, frame: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(frame)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def write_gif(path: str | Path, frames: Iterable[np.ndarray | Repeat], fps: float) -> int:
    """Frames as an animated GIF (one shared palette from the first frames, no dithering);
    :data:`REPEAT` repeats the previous image."""
    from PIL import Image

    images: list[Any] = []
    palette: Any = None
    for f in frames:
        if isinstance(f, Repeat):
            if not images:
                raise RenderError("the first frame cannot be a repeat")
            images.append(images[-1])
            continue
        im = Image.fromarray(np.ascontiguousarray(f[..., :3]))
        if palette is None:
            palette = im.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        images.append(im.quantize(palette=palette, dither=Image.Dither.NONE))
    if not images:
        raise RenderError("no frames to write")
    fps = check_fps(fps)
    if fps > GIF_MAX_FPS:
        raise RenderError(f"a GIF shows at most {GIF_MAX_FPS} frames a second (its delays are "
                          f"hundredths of a second, 2 at least); use an fps up to "
                          f"{GIF_MAX_FPS}, or .mp4")
    # each frame's delay in whole hundredths, rounded from where it starts and ends, so the
    # GIF lasts as long as its frames at fps (33.3 ms frames: 30, 40, 30, ...)
    ends = [round((i + 1) * 100.0 / fps) for i in range(len(images))]
    delays = [10 * (b - a) for a, b in zip([0, *ends], ends, strict=False)]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=delays, loop=0, optimize=False, disposal=1)
    return len(images)


def write_png(path: str | Path, image: np.ndarray) -> None:
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(image[..., :3])).save(tmp, format="PNG")


def contact_sheet(images: list[np.ndarray], cols: int | None = None, gap: int = 6,
                  background: tuple[int, int, int] = (0x1a, 0x1a, 0x1f)) -> np.ndarray:
    """Tile equal-size RGB(A) images into rows of ``cols`` (default: up to 3 per row)."""
    if not images:
        raise RenderError("no stages to draw")
    n = len(images)
    cols = cols or min(3, n)
    rows = -(-n // cols)
    h, w = images[0].shape[:2]
    sheet = np.empty((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), np.uint8)
    sheet[:] = background
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = im[..., :3]
    return sheet


def check_suffix(path: str | Path, allowed: Iterable[str]) -> str:
    suffix = Path(path).suffix.lower()
    allowed = tuple(allowed)
    if suffix not in allowed:
        raise RenderError(f"output {str(path)!r}: unknown format {suffix or '(none)'!r}; "
                          f"use one of: {', '.join(allowed)}")
    return suffix


def copying(frames: Iterable[np.ndarray | Repeat]) -> Iterable[np.ndarray | Repeat]:
    """Copies of frames for writers that keep them (GIF); a backend reuses its canvas."""
    for f in frames:
        yield f if isinstance(f, Repeat) else f.copy()


Progress = Callable[[int, int], None]  # (frames done, frames total)
