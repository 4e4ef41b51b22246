"""The 3-D camera maths in plain numpy: normalised box coordinates, the camera basis, the
model-view-projection matrix, projecting points to pixels and ordering triangles back to front.
Labels and tests place things exactly where the GL renderer's pixels are."""

from __future__ import annotations

import math

import numpy as np

from spacefold.render.frame import Camera, Space3D


def normalizer(panel: Space3D) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre (3,), per-axis scale (3,), radius): data → normalised coordinates
    ``(p - centre) * scale``, in which the box has its shown proportions and half-diagonal
    ``radius``."""
    b = np.asarray(panel.box, dtype=np.float64).reshape(3, 2)
    ext = np.maximum(b[:, 1] - b[:, 0], 1e-9)
    shape = ext / ext.max() if panel.stretch is None else \
        np.asarray(panel.stretch, dtype=np.float64) / max(panel.stretch)
    scale = shape / ext
    cam = panel.camera
    centre = b.mean(axis=1) if cam.target is None else np.asarray(cam.target, np.float64)
    return centre, scale, 0.5 * float(np.linalg.norm(shape))


def camera_basis(cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eye direction, right, up) unit vectors; well defined at the top view too."""
    az, el = math.radians(cam.azimuth), math.radians(cam.elevation)
    eye = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.array([-math.sin(az), math.cos(az), 0.0])
    # up = right × (-eye), written out: np.cross costs ~40 µs on 3-vectors (~4 calls a frame)
    up = np.array([right[2] * eye[1] - right[1] * eye[2], right[0] * eye[2] - right[2] * eye[0],
                   right[1] * eye[0] - right[0] * eye[1]])
    return eye, right, up / np.linalg.norm(up)


def camera_matrix(panel: Space3D, aspect: float) -> np.ndarray:
    """The 4×4 matrix taking homogeneous data coordinates to clip space (OpenGL)."""
    centre, scale, r = normalizer(panel)
    cam = panel.camera
    eye_dir, right, up = camera_basis(cam)
    dist = cam.distance * r
    eye = eye_dir * dist
    norm = np.eye(4)
    norm[:3, :3] = np.diag(scale)
    norm[:3, 3] = -centre * scale
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = right, up, eye_dir
    view[:3, 3] = -view[:3, :3] @ eye
    near, far = max(dist - 3.0 * r, 0.02 * dist), dist + 3.0 * r
    f = 1.0 / math.tan(math.radians(cam.fov) / 2)
    proj = np.zeros((4, 4))
    proj[0, 0], proj[1, 1] = f / aspect, f
    proj[2, 2], proj[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    proj[3, 2] = -1.0
    return proj @ view @ norm


def project(panel: Space3D, xyz: np.ndarray, width: int, height: int) -> np.ndarray:
    """(M, 3) data points → (M, 3): pixel x, pixel y (from the bottom-left) and view depth
    (NDC z in [-1, 1], smaller is nearer)."""
    m = camera_matrix(panel, width / height)
    p = np.asarray(xyz, dtype=np.float64)
    clip = p @ m[:3, :3].T + m[:3, 3]
    w = p @ m[3, :3] + m[3, 3]
    ndc = clip / w[:, None]
    return np.stack([(ndc[:, 0] + 1) * width / 2, (ndc[:, 1] + 1) * height / 2, ndc[:, 2]], 1)


def sort_back_to_front(vertices: np.ndarray, triangles: np.ndarray, mvp: np.ndarray
                       ) -> np.ndarray:
    """Order of ``triangles`` (T, 3) from the farthest to the nearest (by centroid clip w,
    the distance along the view axis)."""
    w = vertices @ mvp[3, :3] + mvp[3, 3]          # (V,) view depth of each vertex
    t = triangles
    # (T,) as w[t].sum(axis=1) adds them, bit for bit (that gathers a (T, 3) copy and
    # reduces along its short rows, ~2x slower)
    depth = (w[t[:, 0]] + w[t[:, 1]]) + w[t[:, 2]]
    # Depths within 1/4096 of the range tie and keep their given order (mesh by mesh):
    # nearly coincident surfaces would otherwise swap triangle by triangle, in stripes.
    # (int16 keys: numpy's stable sort is then a radix sort, linear time)
    lo, hi = float(depth.min()), float(depth.max())
    q = ((hi - depth) * (4095.0 / max(hi - lo, 1e-300))).astype(np.int16)
    return np.argsort(q, kind="stable")
