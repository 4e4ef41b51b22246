"""Shared pieces of the 3-D scenes: camera moves, view boxes, axes labels."""

from __future__ import annotations

import numpy as np

from spacefold.render.frame import Box, Camera, Label3D

TOP = Camera(azimuth=-90.0, elevation=90.0)   # x right, y up: the 2-D view
SIDE = Camera(azimuth=-60.0, elevation=22.0)


def lerp_camera(a: Camera, b: Camera, t: float) -> Camera:
    """Straight interpolation of the camera's angles and distance (t in [0, 1])."""
    def mix(x: float, y: float) -> float:
        return (1 - t) * x + t * y

    target = None
    if a.target is not None and b.target is not None:
        target = tuple(mix(x, y) for x, y in zip(a.target, b.target, strict=True))
    return Camera(mix(a.azimuth, b.azimuth), mix(a.elevation, b.elevation),
                  mix(a.distance, b.distance), target, mix(a.fov, b.fov))  # type: ignore[arg-type]


def orbit(cam: Camera, t: float, turns: float = 1.0) -> Camera:
    """``cam`` turned ``turns`` times around the vertical axis at t = 1."""
    return Camera(cam.azimuth + 360.0 * turns * t, cam.elevation, cam.distance, cam.target,
                  cam.fov)


def box_of(points: np.ndarray, margin: float = 0.1, origin: bool = True,
           min_span: float = 0.25) -> Box:
    """A view box around (N, 3) points (and the origin), each side at least ``min_span`` of the
    largest so a flat stage is not a sliver."""
    p = np.asarray(points, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    if origin:
        p = np.concatenate([p, np.zeros((1, 3))])
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    span = np.maximum(span, span.max() * min_span)
    c = (lo + hi) / 2
    half = span / 2 * (1 + margin)
    return (float(c[0] - half[0]), float(c[0] + half[0]), float(c[1] - half[1]),
            float(c[1] + half[1]), float(c[2] - half[2]), float(c[2] + half[2]))


def lerp_box(a: Box, b: Box, t: float) -> Box:
    return tuple((1 - t) * x + t * y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def axis_labels(box: Box, names: tuple[str, str, str] = ("x", "y", "z"),
                flat: bool = False) -> list[Label3D]:
    """Names at the positive ends of the axes through the origin (z omitted when ``flat``)."""
    x0, x1, y0, y1, z0, z1 = box
    out = [Label3D((x1, 0.0, 0.0), names[0], 12, "#c8c8d0", "left", "center"),
           Label3D((0.0, y1, 0.0), names[1], 12, "#c8c8d0", "center", "bottom")]
    if not flat:
        out.append(Label3D((0.0, 0.0, z1), names[2], 12, "#c8c8d0", "center", "bottom"))
    return out


def rgba(rgb: np.ndarray, alpha: float) -> np.ndarray:
    """(..., 3) RGB → (..., 4) RGBA with one alpha."""
    rgb = np.asarray(rgb, dtype=np.float64)
    a = np.full(rgb.shape[:-1] + (1,), alpha)
    return np.concatenate([rgb, a], axis=-1)
