"""Child process of bench_render.py: the encode floor — the same 300 finished frames that
_ref222_ours.py renders, held in memory, then piped into the same encoder settings; only the
encoding is timed (printed in seconds).

Usage: python _encode_floor.py CHECKPOINT.safetensors POINTS.npz OUT.mp4
"""

import sys
import time

import numpy as np

import spacefold as sf
from spacefold.render.encode import write_mp4
from spacefold.render.raster import RasterBackend
from spacefold.scenes.api import to_timeline

ckpt, points, out = sys.argv[1:4]
model = sf.load_network(ckpt)  # numpy weights: rendering a saved model needs no torch
x = np.load(points)["x"]
trace = sf.trace(model, x, grid=sf.GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=21, verts=200,
                                            regions=0))
tl = to_timeline(trace, color_by="position", stage_seconds=50 / 30, hold_seconds=0,
                 diagram=False, narrate=False)
backend = RasterBackend((1280, 720))
frames = [backend.draw(f).copy() for f in tl.frames(30)]
t0 = time.perf_counter()
write_mp4(out, iter(frames), (1280, 720), 30)
print(f"{time.perf_counter() - t0:.4f}")
