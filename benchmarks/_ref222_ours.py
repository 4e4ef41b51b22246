"""Child process of bench_render.py: the reference workload through spacefold's public API.

Usage: python _ref222_ours.py CHECKPOINT.safetensors POINTS.npz OUT.mp4
"""

import sys

from _ref222 import FPS, OPTIONS, SIZE, reference_trace

import spacefold as sf

ckpt, points, out = sys.argv[1:4]
sf.render(reference_trace(ckpt, points), out, size=SIZE, fps=FPS, **OPTIONS)
