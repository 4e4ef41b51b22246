"""The 3-D backend: a :class:`~spacefold.render.frame.Space3D` panel drawn with OpenGL
(moderngl on a headless EGL context; Mesa's llvmpipe renders it in software).

Two passes into one single-sampled framebuffer:

1. opaque: meshes, polylines (segments widened to screen-space quads in a geometry shader)
   and points (screen-aligned discs with a sphere shade), with depth writes;
2. translucent: every triangle of every translucent mesh, *sorted back to front per frame*
   by view depth and alpha-blended with depth test against the opaque pass. Sorting the
   triangles of all meshes together is what makes intersecting translucent surfaces read
   correctly (painter's order per surface, as mplot3d does, cannot);

then read back to an (H, W, 4) uint8 image, row 0 at the bottom, opaque wherever the
background is (the alpha channel composites as "over" too), ready to be copied into Agg.

Speed on llvmpipe is mostly per triangle (35k of ~20 px each in the reference frame): the
opaque pass and the sorted triangles go in a few flushed draws, so the rasterizer threads
work while this thread sorts, shades vertices and bins the rest; the CPU sort itself is a
linear-time radix sort of int16 depth keys (~1.5 ms for 35k triangles).

Edges are antialiased analytically, not by multisampling (4× MSAA costs about 3× the frame
on llvmpipe, measured): lines and point discs fade over their outermost pixel, and each mesh
triangle carries, per corner, whether the edge facing it is on the mesh's boundary, so the
fragment shader fades the last pixel inside a boundary (interior edges stay seamless).

The camera maths (:func:`camera_matrix`, :func:`project`) is plain numpy, so labels and tests
place things exactly where the pixels are.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from spacefold.colors import AXES, BACKGROUND, GRID, color_of
from spacefold.errors import RenderError
from spacefold.render.frame import Camera, Mesh, Space3D

GL_PACKAGES = "libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri"

# -- camera maths (numpy) -------------------------------------------------------------------


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
    up = np.cross(right, -eye)
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


# -- GL programs ---------------------------------------------------------------------------

_POINTS_VS = """
#version 330
uniform mat4 mvp;
uniform float size;
in vec3 in_pos;
in vec4 in_color;
out vec4 v_color;
out float v_radius;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    gl_PointSize = size;
    v_radius = size / 2.0;
    v_color = in_color;
}
"""
_POINTS_FS = """
#version 330
in vec4 v_color;
in float v_radius;
out vec4 f_color;
void main() {
    vec2 d = gl_PointCoord * 2.0 - 1.0;
    float r2 = dot(d, d);
    if (r2 > 1.0) discard;
    float shade = 0.72 + 0.28 * sqrt(max(1.0 - r2, 0.0));   // a sphere lit from the viewer
    float edge = clamp((1.0 - sqrt(r2)) * v_radius, 0.0, 1.0);  // 1 px soft rim
    f_color = vec4(v_color.rgb * shade, v_color.a * edge);
}
"""
_LINES_VS = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec4 in_color;
out vec4 g_color;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    g_color = in_color;
}
"""
_LINES_GS = """
#version 330
layout(lines) in;
layout(triangle_strip, max_vertices = 4) out;
uniform vec2 viewport;     // half the framebuffer, px
uniform float width;       // half the line's width, px
in vec4 g_color[];
out vec4 v_color;
noperspective out float v_dist;   // px from the centre line, across it
void main() {
    vec4 a = gl_in[0].gl_Position, b = gl_in[1].gl_Position;
    if (a.w <= 0.0 || b.w <= 0.0) return;
    vec2 sa = a.xy / a.w * viewport, sb = b.xy / b.w * viewport;
    vec2 d = sb - sa;
    float len = length(d);
    vec2 n = len > 1e-6 ? vec2(-d.y, d.x) / len : vec2(0.0, 1.0);
    float r = width + 1.0;                           // one more pixel to fade out in
    vec2 off = n * r / viewport;                     // NDC offset for half the quad
    gl_Position = vec4(a.xy + off * a.w, a.zw); v_color = g_color[0]; v_dist = r; EmitVertex();
    gl_Position = vec4(a.xy - off * a.w, a.zw); v_color = g_color[0]; v_dist = -r; EmitVertex();
    gl_Position = vec4(b.xy + off * b.w, b.zw); v_color = g_color[1]; v_dist = r; EmitVertex();
    gl_Position = vec4(b.xy - off * b.w, b.zw); v_color = g_color[1]; v_dist = -r; EmitVertex();
    EndPrimitive();
}
"""
_LINES_FS = """
#version 330
uniform float width;
in vec4 v_color;
noperspective in float v_dist;
out vec4 f_color;
void main() {
    // the pixel's coverage by a band of half-width `width`: a 1 px ramp centred on each
    // edge, so the ink across the line is exactly its width, also for hairlines
    float c = clamp(width + 0.5 - abs(v_dist), 0.0, 1.0);
    if (c <= 0.0) discard;
    f_color = vec4(v_color.rgb, v_color.a * c);
}
"""
_MESH_VS = """
#version 330
uniform mat4 mvp;
uniform vec3 eye;          // towards the viewer, normalised coordinates
uniform vec3 inv_scale;    // normals go from data to normalised coordinates by 1/scale
in vec3 in_pos;
in vec4 in_color;
in vec4 in_normal;         // xyz: data-space normal; w: 0 plain, 1 shaded, 2 argmax-coloured
in vec3 in_edge;           // per corner: 0 at the corner facing a boundary edge, 1 elsewhere
out vec4 v_color;
out vec3 v_edge;
out vec2 v_xy;
flat out float v_mode;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    vec3 n = in_normal.xyz * inv_scale;
    float len = length(n);
    float k = len > 0.0 ? 0.55 + 0.45 * abs(dot(n / len, eye)) : 1.0;
    v_color = vec4(in_color.rgb * (in_normal.w == 1.0 ? k : 1.0), in_color.a);
    v_edge = in_edge;
    v_xy = in_pos.xy;
    v_mode = in_normal.w;
}
"""
# v_edge's components are barycentric coordinates for the corners facing boundary edges and
# a constant 1 otherwise, so min(v_edge) / |its screen gradient| is the distance in pixels to
# the nearest boundary edge: the last pixel inside fades out (edge antialiasing that leaves
# the seams between a mesh's own triangles untouched).
_EDGE_AA = """
float edge_coverage(vec3 e) {
    float m = min(min(e.x, e.y), e.z);
    float g = length(vec2(dFdx(m), dFdy(m)));
    return g > 0.0 ? clamp(m / g, 0.0, 1.0) : 1.0;
}
"""
_MESH_FS = """
#version 330
in vec4 v_color;
in vec3 v_edge;
out vec4 f_color;
""" + _EDGE_AA + """
void main() { f_color = vec4(v_color.rgb, v_color.a * edge_coverage(v_edge)); }
"""
# The argmax colouring is its own program: on llvmpipe a fragment shader holding the class
# loop costs about twice as much per pixel even where the loop is skipped (measured), so the
# plain meshes never pay for it.
_ARGMAX_FS = """
#version 330
uniform int n_classes;
uniform vec3 wb[10];       // class k's score at (x, y): dot(wb[k].xy, (x, y)) + wb[k].z
uniform vec3 palette[10];
in vec4 v_color;
in vec3 v_edge;
in vec2 v_xy;
flat in float v_mode;
out vec4 f_color;
""" + _EDGE_AA + """
void main() {
    vec3 rgb = v_color.rgb;
    if (v_mode > 1.5) {
        int best = 0;
        float top = -3.0e38;
        for (int k = 0; k < n_classes; ++k) {
            float s = dot(wb[k].xy, v_xy) + wb[k].z;
            if (s > top) { top = s; best = k; }
        }
        rgb = palette[best];
    }
    f_color = vec4(rgb, v_color.a * edge_coverage(v_edge));
}
"""
MAX_ARGMAX_CLASSES = 10

# One mesh vertex as uploaded (28 bytes; the triangles are de-indexed, three rows each, so a
# corner can carry its own edge flags): position, RGBA (u8), unit normal + mode (f16), edge
# flags (u8).
VERTEX = np.dtype([("pos", "f4", 3), ("color", "u1", 4), ("normal", "f2", 4),
                   ("edge", "u1", 4)])
VERTEX_FORMAT = "3f 4f1 4f2 3f1 1x"
BLEND = (0x0302, 0x0303, 0x0001, 0x0303)   # SRC_ALPHA, 1 - SRC_ALPHA; alpha: ONE, 1 - SRC_ALPHA


def _gl_flush() -> Callable[[], None] | None:
    """``glFlush`` of the current context (moderngl has none), or None where it can't be
    found. On llvmpipe it hands the commands so far to the rasterizer threads, which then
    work while this thread sorts, shades vertices and bins the rest."""
    try:
        egl = ctypes.CDLL("libEGL.so.1")
        egl.eglGetProcAddress.restype = ctypes.c_void_p
        egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
        addr = egl.eglGetProcAddress(b"glFlush")
    except (OSError, AttributeError):
        return None
    return ctypes.CFUNCTYPE(None)(addr) if addr else None


def _rgba(c: Any, alpha: float = 1.0) -> tuple[float, float, float, float]:
    r, g, b, a = color_of(c)
    return (r, g, b, a * alpha)


class _Geometry:
    """The meshes of one pass as uploaded: de-indexed vertex rows on the GL side, the view
    depth data for sorting on the numpy side."""

    def __init__(self, key: tuple[Any, ...], meshes: list[Mesh], rows: np.ndarray,
                 pos: np.ndarray, tris: np.ndarray, vbo: Any) -> None:
        self.key, self.meshes = key, meshes
        self.pos = pos           # (V, 3) float64 shared vertices, for the depth sort
        self.tris = tris         # (T, 3) indices into pos
        self.n = len(tris)
        self.rows = rows
        self.vbo = vbo


class GL3D:
    """A headless OpenGL renderer of :class:`Space3D` panels; one per process is enough
    (see :func:`renderer`)."""

    def __init__(self) -> None:
        try:
            import moderngl
        except ImportError as e:  # pragma: no cover - a declared dependency
            raise RenderError(f"3-D rendering needs moderngl (pip install moderngl): {e}") \
                from None
        try:
            # the sonames of Debian's libgl1 / libegl1: no -dev symlinks or ldconfig needed
            egl: dict[str, Any] = {"backend": "egl", "libgl": "libGL.so.1",
                                   "libegl": "libEGL.so.1"}
            self.ctx = moderngl.create_standalone_context(**egl)
        except Exception as e:
            raise RenderError(f"3-D rendering needs OpenGL through EGL: "
                              f"apt-get install {GL_PACKAGES} ({e})") from None
        self.mgl = moderngl
        ctx = self.ctx
        self.points: Any = ctx.program(vertex_shader=_POINTS_VS, fragment_shader=_POINTS_FS)
        self.lines: Any = ctx.program(vertex_shader=_LINES_VS, geometry_shader=_LINES_GS,
                                      fragment_shader=_LINES_FS)
        self.mesh: Any = ctx.program(vertex_shader=_MESH_VS, fragment_shader=_MESH_FS)
        self.mesh_argmax: Any = ctx.program(vertex_shader=_MESH_VS,
                                            fragment_shader=_ARGMAX_FS)
        self._fbos: dict[tuple[int, int], Any] = {}
        self._buffers: dict[str, Any] = {}
        self._geometry: dict[str, _Geometry] = {}   # last uploaded meshes per pass
        self._edges: dict[tuple[int, bytes], np.ndarray] = {}   # boundary flags by topology
        self.flush = _gl_flush()
        # the sorted triangles go in this many draws, flushed one by one, so rasterizing the
        # far ones overlaps binning the near ones (0: one draw, no flushes)
        self.chunks = 4

    # -- resources ----------------------------------------------------------------------------
    def _fbo(self, w: int, h: int) -> Any:
        if (w, h) not in self._fbos:
            ctx = self.ctx
            if len(self._fbos) > 4:
                for fbo in self._fbos.values():
                    fbo.release()
                self._fbos.clear()
            self._fbos[(w, h)] = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer((w, h), 4)],
                depth_attachment=ctx.depth_renderbuffer((w, h)))
        return self._fbos[(w, h)]

    def _buffer(self, name: str, raw: bytes | np.ndarray) -> Any:
        """A dynamic GL buffer holding ``raw``, reused (grown when needed) between frames."""
        size = raw.nbytes if isinstance(raw, np.ndarray) else len(raw)
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            if buf is not None:
                buf.release()
            buf = self.ctx.buffer(reserve=max(size, 1024), dynamic=True)
            self._buffers[name] = buf
        buf.write(raw)
        return buf

    def _draw(self, name: str, prog: Any, data: np.ndarray, mode: int) -> None:
        """Draw interleaved float32 rows (pos 3, colour 4)."""
        vbo = self._buffer(name, np.ascontiguousarray(data, dtype="f4"))
        vao = self.ctx.vertex_array(prog, [(vbo, "3f 4f", "in_pos", "in_color")])
        vao.render(mode, vertices=len(data))
        vao.release()

    # -- drawing ------------------------------------------------------------------------------
    def render(self, panel: Space3D, width: int, height: int, scale: float = 1.0,
               background: Any = BACKGROUND, out: np.ndarray | None = None) -> np.ndarray:
        """The panel as an (height, width, 4) uint8 image, row 0 at the bottom (into ``out``
        when given: a C-contiguous array of that shape)."""
        w, h = max(int(width), 1), max(int(height), 1)
        ctx, mgl = self.ctx, self.mgl
        fbo = self._fbo(w, h)
        fbo.use()
        fbo.clear(*_rgba(background))
        mvp = camera_matrix(panel, w / h)
        mvp_bytes = mvp.T.astype("f4").tobytes()      # GL wants column-major
        ctx.enable_only(mgl.DEPTH_TEST | mgl.BLEND | mgl.PROGRAM_POINT_SIZE)
        # colour: "over"; alpha: "over" too, so the image stays opaque over an opaque
        # background and goes into the frame as it is
        ctx.blend_func = BLEND  # type: ignore[assignment]  # stubs know only the 2-tuple
        ctx.depth_func = "<="

        solid = [bool(np.all(np.asarray(m.colors)[:, 3] >= 1.0)) for m in panel.meshes]
        opaque = [m for m, o in zip(panel.meshes, solid, strict=True) if o]
        clear = [m for m, o in zip(panel.meshes, solid, strict=True) if not o]
        # 1. opaque: meshes, lines, points (depth written)
        if opaque:
            self._draw_meshes("opaque", opaque, panel, mvp_bytes, mvp, sort=False)
        segs = self._segments(panel)
        if len(segs):
            self.lines["mvp"].write(mvp_bytes)
            self.lines["viewport"].value = (w / 2, h / 2)
            for lw, data in segs:
                self.lines["width"].value = 0.5 * lw * scale
                self._draw("lines", self.lines, data, mgl.LINES)
        if panel.points is not None and len(panel.points):
            pts = np.asarray(panel.points, dtype=np.float64)
            cols = _colors4(panel.colors, len(pts))
            # back to front, so each disc's soft rim blends over the discs behind it
            order = np.argsort(-(pts @ mvp[3, :3]), kind="stable")
            pts, cols = pts[order], cols[order]
            self.points["mvp"].write(mvp_bytes)
            self.points["size"].value = 2.0 * panel.point_size * scale
            self._draw("points", self.points, np.concatenate([pts, cols], 1), mgl.POINTS)
        # 2. translucent: all triangles of all meshes, back to front
        if clear and self.chunks and self.flush is not None:
            self.flush()               # the opaque pass rasterizes while the CPU sorts
        if clear:
            fbo.depth_mask = False     # test against the opaque pass, never write
            self._draw_meshes("sorted", clear, panel, mvp_bytes, mvp, sort=True)
            fbo.depth_mask = True
        # 3. read back
        img = np.empty((h, w, 4), dtype=np.uint8) if out is None else out
        if img.shape != (h, w, 4) or img.dtype != np.uint8 or not img.flags.c_contiguous:
            raise ValueError(f"out: a C-contiguous ({h}, {w}, 4) uint8 array is needed")
        fbo.read_into(img, components=4, alignment=1)
        return img

    def _upload(self, name: str, meshes: list[Mesh]) -> _Geometry:
        """The meshes' geometry on the GL side, uploaded again only when it changed."""
        key = tuple((id(m.vertices), id(m.triangles), id(m.colors), id(m.normals), m.shade,
                     m.argmax is None) for m in meshes)
        hit = self._geometry.get(name)
        if hit is not None and hit.key == key and all(
                a is b for a, b in zip(hit.meshes, meshes, strict=True)):
            return hit
        verts, tris, rows, off = [], [], [], 0
        for m in meshes:
            v = np.asarray(m.vertices, dtype=np.float64).reshape(-1, 3)
            t = np.asarray(m.triangles, dtype=np.int64).reshape(-1, 3)
            nrm = np.asarray(m.normals if m.normals is not None else vertex_normals(v, t),
                             dtype=np.float64)
            nrm = nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-300)
            r = np.empty(len(v), dtype=VERTEX)          # (V,) one row per shared vertex
            r["pos"] = v
            r["color"] = np.rint(np.clip(_colors4(m.colors, len(v)), 0, 1) * 255)
            r["normal"][:, :3] = nrm
            r["normal"][:, 3] = 2.0 if m.argmax is not None else 1.0 if m.shade else 0.0
            rows.append(r[t])                            # (T, 3) de-indexed corners
            verts.append(v)
            tris.append(t + off)
            off += len(v)
        pos = np.concatenate(verts)
        index = np.concatenate(tris)
        data = np.concatenate(rows)                      # (T, 3)
        edge = np.ones((len(index), 3, 4), dtype=np.uint8)
        bnd = self._boundary(meshes, pos, index)         # (T, 3) corner faces a boundary
        # corner j's flag k: barycentric (j == k) on a boundary edge k, else a constant 1
        bary = np.eye(3, dtype=np.uint8)[None]           # (1, 3 corners, 3 edges)
        edge[..., :3] = np.where(bnd[:, None, :], bary, 1) * 255
        data["edge"] = edge
        vbo = self._buffer(name + ".vbo", data)
        g = _Geometry(key, list(meshes), data, pos, index, vbo)
        self._geometry[name] = g
        return g

    def _boundary(self, meshes: list[Mesh], pos: np.ndarray, index: np.ndarray) -> np.ndarray:
        """(T, 3) bool: whether the edge facing each corner is on a boundary: in one
        triangle only, counting the triangles of every mesh of the pass (an edge two meshes
        share, matched by position, is a seam, not a boundary)."""
        flags = []
        for m in meshes:
            t = np.asarray(m.triangles, dtype=np.int64).reshape(-1, 3)
            n = len(np.asarray(m.vertices).reshape(-1, 3))
            key = (n, t.tobytes())
            if key not in self._edges:
                if len(self._edges) > 64:
                    self._edges.clear()
                self._edges[key] = boundary_edges(t, n)
            flags.append(self._edges[key])
        bnd = np.concatenate(flags)                      # (T, 3)
        # boundary edges of one mesh that another mesh also has: seams between meshes
        ti, k = np.nonzero(bnd)
        if len(ti) and len(meshes) > 1:
            ends = np.concatenate([pos[index[ti, (k + 1) % 3]], pos[index[ti, (k + 2) % 3]]])
            ends = np.ascontiguousarray(ends.astype(np.float32) + np.float32(0.0))  # no -0
            _, ids = np.unique(ends.view(np.dtype((np.void, 12))).ravel(),
                               return_inverse=True)
            ids = ids.reshape(2, -1).astype(np.int64)    # (2, E) position ids of the ends
            keys = ids.min(0) * (int(ids.max()) + 1) + ids.max(0)
            _, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
            shared = cnt[inv] > 1
            bnd[ti[shared], k[shared]] = False
        return bnd

    def _draw_meshes(self, name: str, meshes: list[Mesh], panel: Space3D, mvp_bytes: bytes,
                     mvp: np.ndarray, sort: bool) -> None:
        g = self._upload(name, meshes)
        order = sort_back_to_front(g.pos, g.tris, mvp) if sort else np.arange(g.n)
        # the de-indexed corners of the triangles in drawing order
        index = (3 * order[:, None] + np.arange(3)).astype(np.int32)   # (T, 3)
        ibo = self._buffer(name + ".ibo", index)
        _, scale, _ = normalizer(panel)
        colouring = next((m.argmax for m in meshes if m.argmax is not None), None)
        prog = self.mesh if colouring is None else self.mesh_argmax
        prog["mvp"].write(mvp_bytes)
        prog["eye"].value = tuple(float(x) for x in camera_basis(panel.camera)[0])
        prog["inv_scale"].value = tuple(float(x) for x in 1.0 / scale)
        if colouring is not None:
            w, b, rgb = (np.asarray(a, dtype=np.float64) for a in colouring)
            k = len(b)
            if not 1 <= k <= MAX_ARGMAX_CLASSES:
                raise RenderError(f"argmax colouring of {k} classes; 1 to "
                                  f"{MAX_ARGMAX_CLASSES} are drawn")
            wb = np.zeros((MAX_ARGMAX_CLASSES, 3), dtype="f4")
            wb[:k, :2], wb[:k, 2] = w, b
            pal = np.zeros((MAX_ARGMAX_CLASSES, 3), dtype="f4")
            pal[:k] = rgb[:, :3]
            prog["n_classes"].value = k
            prog["wb"].write(wb.tobytes())
            prog["palette"].write(pal.tobytes())
        vao = self.ctx.vertex_array(prog, [(g.vbo, VERTEX_FORMAT, "in_pos", "in_color",
                                            "in_normal", "in_edge")],
                                    index_buffer=ibo, index_element_size=4)
        n = len(index)
        if sort and self.chunks > 1 and self.flush is not None and n >= 1024 * self.chunks:
            cuts = np.linspace(0, n, self.chunks + 1).astype(int)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                vao.render(self.mgl.TRIANGLES, vertices=3 * int(b - a), first=3 * int(a))
                self.flush()
        else:
            vao.render(self.mgl.TRIANGLES, vertices=index.size)
        vao.release()

    def _segments(self, panel: Space3D) -> list[tuple[float, np.ndarray]]:
        """Line segments grouped by width: [(width px, (2S, 7) rows of pos + colour)]."""
        groups: dict[float, list[np.ndarray]] = {}

        def add(xyz: np.ndarray, color: Any, width: float) -> None:
            p = np.asarray(xyz, dtype=np.float64)
            if p.ndim == 2:
                p = p[None]
            if p.shape[1] < 2:
                return
            seg = np.stack([p[:, :-1], p[:, 1:]], axis=2).reshape(-1, 3)   # (2S, 3)
            col = np.broadcast_to(np.asarray(color, dtype=np.float64), (len(seg), 4))
            groups.setdefault(width, []).append(np.concatenate([seg, col], 1))

        if panel.axes:
            x0, x1, y0, y1, z0, z1 = panel.box
            for a in ([[x0, 0, 0], [x1, 0, 0]], [[0, y0, 0], [0, y1, 0]],
                      [[0, 0, z0], [0, 0, z1]]):
                add(np.array(a, dtype=np.float64), _rgba(AXES), 1.2)
        if panel.grid is not None and len(panel.grid):
            add(panel.grid, _rgba(GRID, panel.grid_alpha / 0.9), 1.5)
        for ln in panel.lines:
            add(ln.xyz, _rgba(ln.color), ln.width)
        return [(w, np.concatenate(g)) for w, g in groups.items()]

    def close(self) -> None:
        self.ctx.release()


def sort_back_to_front(vertices: np.ndarray, triangles: np.ndarray, mvp: np.ndarray
                       ) -> np.ndarray:
    """Order of ``triangles`` (T, 3) from the farthest to the nearest (by centroid clip w,
    the distance along the view axis)."""
    w = vertices @ mvp[3, :3] + mvp[3, 3]          # (V,) view depth of each vertex
    depth = w[triangles].sum(axis=1)               # (T,)
    # Depths within 1/4096 of the range tie and keep their given order (mesh by mesh):
    # nearly coincident surfaces would otherwise swap triangle by triangle, in stripes.
    # (int16 keys: numpy's stable sort is then a radix sort, linear time)
    lo, hi = float(depth.min()), float(depth.max())
    q = ((hi - depth) * (4095.0 / max(hi - lo, 1e-300))).astype(np.int16)
    return np.argsort(q, kind="stable")


def boundary_edges(triangles: np.ndarray, n_vertices: int) -> np.ndarray:
    """(T, 3) bool: whether the edge facing each corner of ``triangles`` (T, 3) belongs to
    that triangle alone (the mesh's boundary)."""
    t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    a, b = t[:, [1, 2, 0]], t[:, [2, 0, 1]]              # corner k faces edge (k+1, k+2)
    key = np.minimum(a, b) * max(int(n_vertices), 1) + np.maximum(a, b)
    _, inv, cnt = np.unique(key.ravel(), return_inverse=True, return_counts=True)
    return (cnt[inv] == 1).reshape(-1, 3)


def vertex_normals(v: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(V, 3) unit normals: the area-weighted sum of the faces around each vertex."""
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])     # (T, 3)
    n = np.stack([np.bincount(t.ravel(), np.repeat(fn[:, j], 3), minlength=len(v))
                  for j in range(3)], 1)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)


def _colors4(colors: np.ndarray | None, n: int) -> np.ndarray:
    if colors is None:
        return np.ones((n, 4))
    c = np.asarray(colors, dtype=np.float64)
    if c.ndim == 1:
        c = np.broadcast_to(c, (n, len(c)))
    if c.shape[1] == 3:
        c = np.concatenate([c, np.ones((len(c), 1))], 1)
    return c


_RENDERER: GL3D | None = None


def renderer() -> GL3D:
    """The process's GL renderer (made on first use: creating a context takes ~0.5 s)."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = GL3D()
    return _RENDERER


def surface(x: np.ndarray, y: np.ndarray, z: np.ndarray, colors: np.ndarray,
            shade: bool = True) -> Mesh:
    """A height field as a mesh: ``x``, ``y``, ``z`` (R, C) sample grids, ``colors`` (R, C, 4)
    or one RGBA for all."""
    r, c = z.shape
    verts = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    i = np.arange(r * c).reshape(r, c)
    a, b, d, e = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    tris = np.concatenate([np.stack([a, b, e], 1), np.stack([a, e, d], 1)])
    col = np.asarray(colors, dtype=np.float64)
    col = np.array(np.broadcast_to(col, (r, c, col.shape[-1])).reshape(-1, col.shape[-1]))
    # normals from the grid's tangents (cheaper than summing face normals)
    p = np.stack([x, y, z], axis=-1).astype(np.float64)
    du = np.gradient(p, axis=1)
    dv = np.gradient(p, axis=0)
    nrm = np.cross(du, dv).reshape(-1, 3)
    return Mesh(verts, tris, _colors4(col, len(verts)), shade, nrm)
