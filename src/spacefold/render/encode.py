"""The only module that touches codecs: MP4 (H.264 via imageio-ffmpeg), GIF and PNG (Pillow).

Every writer works on a temp file beside the target and renames it on success, so an error
never leaves a half-written output.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from spacefold._atomic import atomic_path
from spacefold.errors import RenderError

VIDEO_SUFFIXES = (".mp4", ".gif")
IMAGE_SUFFIXES = (".png",)


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: float,
              preset: str = "veryfast", crf: int = 23) -> int:
    """Pipe RGBA frames (H, W, 4) into libx264 (yuv420p, BT.709); returns the frame count.

    Frames are converted to YUV 4:2:0 by the compiled kernel as they come (ffmpeg's own
    conversion and a pipe 2.7x wider cost more; it is the fallback without the extension,
    fed copies of the frames, as backends reuse their buffer). A second thread feeds the pipe
    while the caller draws the next frame. Converting here rather than in that thread saves
    copying every RGBA frame: ~5 % of a render's CPU time, which the encoder, using both
    cores, would otherwise lose.
    """
    import imageio_ffmpeg

    from spacefold.render import rasterize

    w, h = size
    if w % 2 or h % 2:
        raise RenderError(f"MP4 needs an even width and height, got {w}x{h}")
    own_yuv = rasterize.AVAILABLE
    count = 0
    with atomic_path(path) as tmp:
        gen = imageio_ffmpeg.write_frames(
            tmp, (w, h), fps=fps, codec="libx264", pix_fmt_in="yuv420p" if own_yuv else "rgba",
            pix_fmt_out="yuv420p", quality=None, macro_block_size=2, ffmpeg_log_level="error",
            input_params=_BT709 if own_yuv else [],   # already converted: nothing to do
            output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart",
                           *([] if own_yuv else _RGB_TO_BT709), *_BT709])
        gen.send(None)
        pipe = _Pump(gen)
        # YUV frames go round a ring of buffers, one more than can be queued or being written
        # (fresh 1.4 MB arrays each frame cost the kernel's page clearing); RGBA for ffmpeg
        # is copied (backends reuse their buffer)
        ring = [np.empty(w * h * 3 // 2, dtype=np.uint8) for _ in range(pipe.depth + 2)]
        try:
            for f in frames:
                if own_yuv:
                    pipe.put(rasterize.yuv420(f, ring[count % len(ring)]))
                else:
                    pipe.put(np.array(f, copy=True))
                count += 1
        finally:
            pipe.close()
            gen.close()
    return count


# RGB -> YUV with the BT.709 matrix (the kernel's; for the fallback ffmpeg's scaler is told so),
# and the stream tagged with it: untagged HD video is read as BT.709 by browsers and players.
_RGB_TO_BT709 = ["-vf", "scale=out_color_matrix=bt709:out_range=tv"]
_BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
          "-color_range", "tv"]


class _Pump:
    """Sends frames to an imageio-ffmpeg writer from a thread, a few frames behind."""

    def __init__(self, gen: Any, depth: int = 3) -> None:
        self.gen = gen
        self.depth = depth          # frames queued at most, besides the one being written
        self.queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="spacefold-mp4", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (f := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.gen.send(f)
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


def write_gif(path: str | Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Frames as an animated GIF (one shared palette from the first frames, no dithering)."""
    from PIL import Image

    images: list[Any] = []
    palette: Any = None
    for f in frames:
        im = Image.fromarray(np.ascontiguousarray(f[..., :3]))
        if palette is None:
            palette = im.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        images.append(im.quantize(palette=palette, dither=Image.Dither.NONE))
    if not images:
        raise RenderError("no frames to write")
    duration = max(20, int(round(1000.0 / fps)))  # GIF delays are 10 ms units; 20 ms minimum
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=duration, loop=0, optimize=False, disposal=1)
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


def copying(frames: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    """Copies of frames for writers that keep them (GIF); the raster backend reuses buffers."""
    for f in frames:
        yield f.copy()


Progress = Callable[[int, int], None]  # (frames done, frames total)
