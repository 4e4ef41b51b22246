"""Child process of bench_render.py: the encode floor — the same 300 finished frames that
_ref222_ours.py renders, held in memory, then piped into the same encoder settings; only the
encoding is timed (printed in seconds).

Usage: python _encode_floor.py CHECKPOINT.safetensors POINTS.npz OUT.mp4
"""

import sys
import time

from _ref222 import FPS, OPTIONS, SIZE, reference_trace

from spacefold.render import backend as render_backend
from spacefold.render.encode import write_mp4
from spacefold.scenes.api import to_timeline

ckpt, points, out = sys.argv[1:4]
tl = to_timeline(reference_trace(ckpt, points), **OPTIONS)
backend = render_backend(None, SIZE)
frames = [backend.draw(f).copy() for f in tl.frames(FPS)]
t0 = time.perf_counter()
write_mp4(out, iter(frames), SIZE, FPS)
print(f"{time.perf_counter() - t0:.4f}")
