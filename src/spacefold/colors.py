"""Colours shared by every backend (plain numpy; no drawing library)."""

from __future__ import annotations

import numpy as np

BACKGROUND = "#1a1a1f"
FOREGROUND = "#e8e8ee"
GRID = (0.35, 0.55, 0.85, 0.9)
AXES = (1.0, 1.0, 1.0, 0.22)
POSITIVE = "#4fb3ff"   # positive weights
NEGATIVE = "#ff7a59"   # negative weights

# Distinct, bright on dark: class k gets CLASS_COLORS[k % len].
CLASS_COLORS = np.array([
    [0.98, 0.78, 0.20], [0.25, 0.72, 0.98], [0.98, 0.36, 0.44], [0.45, 0.88, 0.47],
    [0.76, 0.52, 0.98], [0.98, 0.58, 0.22], [0.30, 0.90, 0.85], [0.95, 0.50, 0.80],
    [0.70, 0.75, 0.40], [0.60, 0.65, 0.98],
])


def class_colors(labels: np.ndarray) -> np.ndarray:
    """(N,) int labels → (N, 3) RGB floats in [0, 1]."""
    return CLASS_COLORS[np.asarray(labels, dtype=np.int64) % len(CLASS_COLORS)]


def position_colors(x: np.ndarray) -> np.ndarray:
    """A 2-D colour map: hue from the angle, brightness from the radius of the start position.

    (N, 2) → (N, 3) RGB in [0, 1]; you can see where each point of the plane went.
    """
    x = np.asarray(x, dtype=np.float64)[:, :2]
    c = x - np.median(x, axis=0)
    scale = np.percentile(np.hypot(c[:, 0], c[:, 1]), 95) or 1.0
    ang = (np.arctan2(c[:, 1], c[:, 0]) + np.pi) / (2 * np.pi)
    r = np.clip(np.hypot(c[:, 0], c[:, 1]) / scale, 0.25, 1.0)
    h6 = ang * 6.0
    rgb = np.stack([np.clip(np.abs(h6 - 3) - 1, 0, 1),
                    np.clip(2 - np.abs(h6 - 2), 0, 1),
                    np.clip(2 - np.abs(h6 - 4), 0, 1)], axis=1)
    return np.clip(0.35 + 0.65 * rgb * r[:, None], 0, 1)
