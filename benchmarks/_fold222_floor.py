"""Child process of bench_fold222.py: the encode floor of `spacefold render fold-222`.

Runs the CLI's own command in this process with the encoder swapped for a list, so the frames
are exactly the ones `spacefold render fold-222` encodes (pacing, cross-fades and all, and its
REPEAT markers: a still frame is sent again, not converted again, in both); then pipes those
finished frames into the real encoder with the same settings and prints the seconds the
encoding took and the frame count.

Usage: python _fold222_floor.py WIDTHxHEIGHT OUT.mp4
"""

import sys
import time

import numpy as np

from spacefold.render import encode

size, out = sys.argv[1:3]
real = encode.write_mp4
held: list[np.ndarray] = []
settings: dict[str, object] = {}


def capture(path: object, frames: object, wh: tuple[int, int], fps: float, **kw: object) -> int:
    # a repeat marker stays one: the encoder is handed the very stream the command hands it
    held.extend(f if isinstance(f, encode.Repeat) else np.array(f, copy=True)
                for f in frames)   # type: ignore[attr-defined]
    settings.update(wh=wh, fps=fps, kw=kw)
    return len(held)


encode.write_mp4 = capture   # type: ignore[assignment]
from spacefold.cli import main  # noqa: E402

sys.argv = ["spacefold", "render", "fold-222", "-o", out, "--size", size]
try:
    main()
except SystemExit as e:
    if e.code:
        raise
t0 = time.perf_counter()
real(out, iter(held), settings["wh"], settings["fps"], **settings["kw"])  # type: ignore[arg-type]
print(f"{time.perf_counter() - t0:.4f} {len(held)}")
