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
background is (the alpha channel composites as "over" too), ready to be copied into the frame.

Speed on llvmpipe is mostly per triangle (35k of ~20 px each in the reference frame): the
opaque pass and the sorted triangles go in a few flushed draws, so the rasterizer threads
work while this thread sorts, shades vertices and bins the rest; the CPU sort itself is a
linear-time radix sort of int16 depth keys (~1.5 ms for 35k triangles).

Edges are antialiased analytically, not by multisampling (4× MSAA costs about 3× the frame
on llvmpipe, measured): lines and point discs fade over their outermost pixel, and each mesh
triangle carries, per corner, whether the edge facing it is on the mesh's boundary, so the
fragment shader fades the last pixel inside a boundary (interior edges stay seamless).

The camera maths is in :mod:`.camera`, the GLSL in :mod:`.shaders`, the meshes in
:mod:`.meshes` and the EGL context in :mod:`.context`; this module is the renderer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacefold.colors import BACKGROUND, color_of, theme
from spacefold.errors import RenderError
from spacefold.render import context, markers
from spacefold.render.camera import (
    camera_basis,
    camera_matrix,
    normalizer,
    project,
    sort_back_to_front,
)
from spacefold.render.context import GL_PACKAGES
from spacefold.render.frame import Mesh, Space3D
from spacefold.render.markers import marker_shapes
from spacefold.render.mesh_rows import Geometry
from spacefold.render.meshes import boundary_edges, colors4, surface, vertex_normals
from spacefold.render.shaders import (
    ARGMAX_CLASSES,
    ARGMAX_FS,
    BLEND,
    LINES_FS,
    LINES_GS,
    LINES_VS,
    MARKERS_FS,
    MARKERS_VS,
    MESH_FS,
    MESH_VS,
    POINTS_FS,
    POINTS_VS,
    VERTEX_FORMAT,
)

# the names scenes, tests and benchmarks use from here
__all__ = ["GL3D", "GL_PACKAGES", "boundary_edges", "camera_matrix", "project", "renderer",
           "sort_back_to_front", "surface", "vertex_normals"]


def _rgba(c: Any, alpha: float = 1.0) -> tuple[float, float, float, float]:
    r, g, b, a = color_of(c)
    return (r, g, b, a * alpha)


class GL3D:
    """A headless OpenGL renderer of :class:`Space3D` panels; one per process is enough
    (see :func:`renderer`)."""

    def __init__(self) -> None:
        moderngl, self.ctx = context.create()
        self.mgl = moderngl
        ctx = self.ctx
        self.points: Any = ctx.program(vertex_shader=POINTS_VS, fragment_shader=POINTS_FS)
        self.markers: Any = ctx.program(vertex_shader=MARKERS_VS, fragment_shader=MARKERS_FS)
        polys, starts = np.zeros((64, 2), "f4"), np.full(17, markers.STARTS[-1], "i4")
        polys[:len(markers.POLYS)], starts[:len(markers.STARTS)] = markers.POLYS, markers.STARTS
        self.markers["polys"].write(polys.tobytes())          # the shaders' table sizes
        self.markers["starts"].write(starts.tobytes())
        self.markers["n_shapes"].value = len(markers.SHAPES)
        self.markers["grow"].value = markers.FARTHEST
        self.lines: Any = ctx.program(vertex_shader=LINES_VS, geometry_shader=LINES_GS,
                                      fragment_shader=LINES_FS)
        self.mesh: Any = ctx.program(vertex_shader=MESH_VS, fragment_shader=MESH_FS)
        self.mesh_argmax: Any = ctx.program(vertex_shader=MESH_VS,
                                            fragment_shader=ARGMAX_FS)
        self._fbos: dict[tuple[int, int], Any] = {}
        self._buffers: dict[str, Any] = {}
        self._geometry: dict[str, Geometry] = {}   # last uploaded meshes per pass
        self._edges: dict[tuple[int, bytes], np.ndarray] = {}   # boundary flags by topology
        self.flush = context.gl_flush()
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

    def _draw(self, name: str, prog: Any, data: np.ndarray, mode: int, layout: str = "3f 4f",
              *more: str) -> None:
        """Draw interleaved float32 rows (pos 3, colour 4, then ``more`` attributes)."""
        vbo = self._buffer(name, np.ascontiguousarray(data, dtype="f4"))
        vao = self.ctx.vertex_array(prog, [(vbo, layout, "in_pos", "in_color", *more)])
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
        ctx.blend_func = BLEND      # (the stubs know only the 2-tuple form)
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
            cols = colors4(panel.colors, len(pts))
            # back to front, so each disc's soft rim blends over the discs behind it
            order = np.argsort(-(pts @ mvp[3, :3]), kind="stable")
            pts, cols = pts[order], cols[order]
            shape = marker_shapes(panel.classes, len(pts))
            prog = self.points if shape is None else self.markers
            prog["mvp"].write(mvp_bytes)
            prog["size"].value = 2.0 * panel.point_size * scale
            if shape is None:
                self._draw("points", prog, np.concatenate([pts, cols], 1), mgl.POINTS)
            else:
                rows = np.concatenate([pts, cols, shape[order, None]], 1)
                self._draw("points", prog, rows, mgl.POINTS, "3f 4f 1f", "in_shape")
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

    def _upload(self, name: str, meshes: list[Mesh]) -> Geometry:
        """The meshes' geometry on the GL side, uploaded again only when it changed; when
        only their vertices, normals or colours changed (the same triangles: a fade, planes
        rising), only those are gathered again (see :mod:`.mesh_rows`)."""
        hit = self._geometry.get(name)
        # the cached meshes keep their arrays alive, so `is` cannot see a recycled object
        if hit is not None and hit.same(meshes):
            if hit.update(meshes):
                hit.vbo.write(hit.rows)
            return hit
        g = Geometry(meshes, self._boundary(meshes), None)
        g.vbo = self._buffer(name + ".vbo", g.rows)
        self._geometry[name] = g
        return g

    def _boundary(self, meshes: list[Mesh]) -> np.ndarray:
        """(T, 3) bool: whether the edge facing each corner is on its mesh's boundary (in
        one triangle only); cached by topology."""
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
        return np.concatenate(flags) if flags else np.zeros((0, 3), dtype=bool)

    def _draw_meshes(self, name: str, meshes: list[Mesh], panel: Space3D, mvp_bytes: bytes,
                     mvp: np.ndarray, sort: bool) -> None:
        g = self._upload(name, meshes)
        order = sort_back_to_front(g.pos, g.tris, mvp) if sort else np.arange(g.n)
        # the de-indexed corners of the triangles in drawing order (T, 3)
        index = np.empty((len(order), 3), dtype=np.int32)
        np.multiply(order, 3, out=index[:, 0], casting="unsafe")
        np.add(index[:, 0], 1, out=index[:, 1])
        np.add(index[:, 0], 2, out=index[:, 2])
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
            if not 1 <= k <= ARGMAX_CLASSES:
                raise RenderError(f"argmax colouring of {k} classes; 1 to "
                                  f"{ARGMAX_CLASSES} are drawn")
            wb = np.zeros((ARGMAX_CLASSES, 3), dtype="f4")
            wb[:k, :2], wb[:k, 2] = w, b
            pal = np.zeros((ARGMAX_CLASSES, 3), dtype="f4")
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
        """Line segments grouped by width: [(width px, (2S, 7) float32 rows of pos +
        colour)]."""
        groups: dict[float, list[np.ndarray]] = {}

        def add(xyz: np.ndarray, color: Any, width: float) -> None:
            p = np.asarray(xyz, dtype=np.float64)
            if p.ndim == 2:
                p = p[None]
            if p.shape[1] < 2:
                return
            # (polylines, segments, 2 ends, pos + colour) made float32 as they are drawn
            rows = np.empty((len(p), p.shape[1] - 1, 2, 7), dtype=np.float32)
            rows[:, :, 0, :3], rows[:, :, 1, :3] = p[:, :-1], p[:, 1:]
            rows[..., 3:] = np.asarray(color, dtype=np.float64)
            groups.setdefault(width, []).append(rows.reshape(-1, 7))

        th = theme()
        if panel.axes:
            x0, x1, y0, y1, z0, z1 = panel.box
            for a in ([[x0, 0, 0], [x1, 0, 0]], [[0, y0, 0], [0, y1, 0]],
                      [[0, 0, z0], [0, 0, z1]]):
                add(np.array(a, dtype=np.float64), _rgba(th.axes), 1.2)
        if panel.grid is not None and len(panel.grid):
            add(panel.grid, _rgba(th.grid, panel.grid_alpha / 0.9), 1.5)
        for ln in panel.lines:
            add(ln.xyz, th.ink(_rgba(ln.color)), ln.width)
        return [(w, g[0] if len(g) == 1 else np.concatenate(g)) for w, g in groups.items()]

    def close(self) -> None:
        self.ctx.release()


_RENDERER: GL3D | None = None


def renderer() -> GL3D:
    """The process's GL renderer (made on first use: creating a context takes ~0.5 s)."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = GL3D()
    return _RENDERER
