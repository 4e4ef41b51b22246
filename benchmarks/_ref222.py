"""The reference workload through spacefold's public API, shared by the bench_render children.

6 stages (W1·x, +b1, ReLU, W2·x, +b2, sigmoid) x 50 frames = the reference's 300 frames.
"""

from __future__ import annotations

import numpy as np

import spacefold as sf

SIZE, FPS = (1280, 720), 30
OPTIONS = {"color_by": "position", "stage_seconds": 50 / 30, "hold_seconds": 0,
           "diagram": False, "narrate": False}


def reference_trace(ckpt: str, points: str) -> sf.Trace:
    model = sf.load_network(ckpt)  # numpy weights: rendering a saved model needs no torch
    x = np.load(points)["x"]
    return sf.trace(model, x, grid=sf.GridSpec(extent=(-1.5, 1.5, -1.5, 1.5), lines=21,
                                               verts=200, regions=0))
