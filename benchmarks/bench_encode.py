"""The video encoder's settings side by side: libx264 CPU time, file size and SSIM against
the frames it was given, for the settings spacefold uses and the ones it was chosen over.

    python benchmarks/bench_encode.py [--scene fold-232] [--frames 300] [--rounds 2]

A scene's frames (1280x720, 30 fps, its holds included) are drawn once and converted to
YUV 4:2:0 as the renderer does, into a temp file; each setting then encodes that file
``--rounds`` times, each round taking the settings in turn (the fastest round counts: these
machines are noisy). CPU time is ffmpeg's user + sys; SSIM is ffmpeg's, the video decoded
against the frames. The ratios to the first setting are what to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from spacefold.render import backend as render_backend
from spacefold.render import rasterize
from spacefold.render.encode import CRF, PRESET, X264_PARAMS, Repeat
from spacefold.render.stream import video_frames
from spacefold.scenes import build_scene

SIZE, FPS = (1280, 720), 30
SETTINGS = {                                    # name: -x264-params
    "veryfast": "",
    f"veryfast + {X264_PARAMS} (used)": X264_PARAMS,
    f"veryfast + {X264_PARAMS}, 1 thread (tour)": f"{X264_PARAMS}:threads=1",
}


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def frames_to_file(scene: str, limit: int, path: Path) -> int:
    """The scene's first ``limit`` video frames as raw YUV 4:2:0 in ``path``."""
    tl = build_scene(scene).paced(1.0, None)
    be = render_backend(None, SIZE)
    buf = np.empty(SIZE[0] * SIZE[1] * 3 // 2, dtype=np.uint8)
    n = 0
    with open(path, "wb") as fh:
        last = b""
        for f in video_frames(tl, be.draw, FPS, 9):
            if not isinstance(f, Repeat):
                last = rasterize.yuv420(f, buf).tobytes()
            fh.write(last)
            n += 1
            if n == limit:
                break
    return n


def encode(exe: str, raw: Path, out: Path, params: str) -> float:
    """ffmpeg's CPU seconds to encode ``raw`` with ``params``."""
    c0 = children_cpu()
    subprocess.run([exe, "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", str(raw), "-an",
                    "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-preset", PRESET,
                    "-crf", str(CRF), *(["-x264-params", params] if params else []),
                    str(out)], check=True)
    return children_cpu() - c0


def ssim(exe: str, video: Path, raw: Path) -> float:
    r = subprocess.run([exe, "-i", str(video), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                        "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", str(raw),
                        "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
                       capture_output=True, text=True, check=True)
    m = re.search(r"All:([\d.]+)", r.stderr)
    return float(m.group(1)) if m else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scene", default="fold-232")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "frames.yuv"
        n = frames_to_file(args.scene, args.frames, raw)
        cpu: dict[str, float] = {}
        for _ in range(args.rounds):
            for i, (name, params) in enumerate(SETTINGS.items()):
                t = encode(exe, raw, Path(d) / f"{i}.mp4", params)
                cpu[name] = min(cpu.get(name, t), t)
        load = os.getloadavg()
        print(f"libx264 on {n} frames of {args.scene} at {SIZE[0]}x{SIZE[1]} (preset {PRESET}, "
              f"crf {CRF}); best of {args.rounds}; load average {load[0]:.2f} {load[1]:.2f}")
        first = next(iter(SETTINGS))
        for i, name in enumerate(SETTINGS):
            video = Path(d) / f"{i}.mp4"
            size = video.stat().st_size
            print(f"  {name:44s} CPU {cpu[name]:6.2f} s ({cpu[name] / cpu[first]:.2f}x)  "
                  f"{size / 1e6:6.2f} MB ({size / (Path(d) / '0.mp4').stat().st_size:.2f}x)  "
                  f"SSIM {ssim(exe, video, raw):.5f}")


if __name__ == "__main__":
    main()
