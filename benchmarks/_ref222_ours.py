"""Child process of bench_render.py: the reference workload through spacefold's public API.

Usage: python _ref222_ours.py CHECKPOINT.safetensors POINTS.npz OUT.mp4
"""

import sys

import numpy as np

import spacefold as sf

ckpt, points, out = sys.argv[1:4]
model = sf.load_network(ckpt)  # numpy weights: rendering a saved model needs no torch
x = np.load(points)["x"]
trace = sf.trace(model, x, grid=sf.GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=21, verts=200,
                                            regions=0))
# 6 stages (W1·x, +b1, ReLU, W2·x, +b2, sigmoid) x 50 frames = the reference's 300 frames
sf.render(trace, out, size=(1280, 720), fps=30, color_by="position", stage_seconds=50 / 30,
          hold_seconds=0, diagram=False, narrate=False)
