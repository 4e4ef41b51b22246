"""The GLSL programs of the 3-D renderer (points, widened lines, shaded and argmax-coloured
meshes) and the vertex layout they read."""

from __future__ import annotations

import numpy as np

# What every vertex shader here starts with: the camera and a coloured vertex.
_VERTEX = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec4 in_color;
"""
POINTS_VS = _VERTEX + """
uniform float size;
out vec4 v_color;
out float v_radius;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    gl_PointSize = size;
    v_radius = size / 2.0;
    v_color = in_color;
}
"""
POINTS_FS = """
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
# Class marker shapes (markers="shapes"): the outline table of render/markers.py as uniforms;
# a fragment at signed distance d px from its point's outline is covered clamp(0.5 - d, 0, 1),
# as the 2-D kernels cover it; flat colour (a lit sphere reads as a disc). The sprite is grown
# to hold the farthest vertex.
MARKERS_VS = _VERTEX + """
uniform float size;        // a disc's diameter, px
uniform float grow;        // the sprite's size over the disc's
in float in_shape;
out vec4 v_color;
out float v_radius;
out float v_half;
flat out int v_shape;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    gl_PointSize = size * grow + 1.0;
    v_radius = size / 2.0;
    v_half = gl_PointSize / 2.0;
    v_color = in_color;
    v_shape = int(in_shape + 0.5);
}
"""
MARKERS_FS = """
#version 330
uniform vec2 polys[64];    // outline vertices, in radii, y down
uniform int starts[17];    // outline s is polys[starts[s] .. starts[s + 1])
uniform int n_shapes;
in vec4 v_color;
in float v_radius;
in float v_half;
flat in int v_shape;
out vec4 f_color;
void main() {
    vec2 p = (gl_PointCoord * 2.0 - 1.0) * v_half;     // px from the centre, y down
    int s = v_shape % max(n_shapes, 1);
    int a = starts[s], b = starts[s + 1];
    float d;
    if (b - a < 3) {
        d = length(p) - v_radius;
    } else {
        float best = 1e30;
        bool inside = false;
        for (int k = a, j = b - 1; k < b; j = k++) {
            vec2 va = polys[j] * v_radius, vb = polys[k] * v_radius;
            vec2 e = vb - va, f = p - va;
            float t = clamp(dot(f, e) / max(dot(e, e), 1e-12), 0.0, 1.0);
            best = min(best, dot(f - t * e, f - t * e));
            if ((va.y > p.y) != (vb.y > p.y) && p.x < va.x + (p.y - va.y) * e.x / e.y)
                inside = !inside;
        }
        d = inside ? -sqrt(best) : sqrt(best);
    }
    float cover = clamp(0.5 - d, 0.0, 1.0);
    if (cover <= 0.0) discard;
    f_color = vec4(v_color.rgb, v_color.a * cover);
}
"""
LINES_VS = _VERTEX + """
out vec4 g_color;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    g_color = in_color;
}
"""
LINES_GS = """
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
LINES_FS = """
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
MESH_VS = _VERTEX + """
uniform vec3 eye;          // towards the viewer, normalised coordinates
uniform vec3 inv_scale;    // normals go from data to normalised coordinates by 1/scale
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
EDGE_AA = """
float edge_coverage(vec3 e) {
    float m = min(min(e.x, e.y), e.z);
    float g = length(vec2(dFdx(m), dFdy(m)));
    return g > 0.0 ? clamp(m / g, 0.0, 1.0) : 1.0;
}
"""
MESH_FS = """
#version 330
in vec4 v_color;
in vec3 v_edge;
out vec4 f_color;
""" + EDGE_AA + """
void main() { f_color = vec4(v_color.rgb, v_color.a * edge_coverage(v_edge)); }
"""
# The argmax colouring is its own program: on llvmpipe a fragment shader holding the class
# loop costs about twice as much per pixel even where the loop is skipped (measured), so the
# plain meshes never pay for it.
ARGMAX_FS = """
#version 330
uniform int n_classes;
uniform vec3 wb[10];       // class k's score at (x, y): dot(wb[k].xy, (x, y)) + wb[k].z
uniform vec3 palette[10];
in vec4 v_color;
in vec3 v_edge;
in vec2 v_xy;
flat in float v_mode;
out vec4 f_color;
""" + EDGE_AA + """
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
ARGMAX_CLASSES = 10     # the argmax shader's class table (a GLSL array size)

# One mesh vertex as uploaded (28 bytes; the triangles are de-indexed, three rows each, so a
# corner can carry its own edge flags): position, RGBA (u8), unit normal + mode (f16), edge
# flags (u8).
VERTEX = np.dtype([("pos", "f4", 3), ("color", "u1", 4), ("normal", "f2", 4),
                   ("edge", "u1", 4)])
VERTEX_FORMAT = "3f 4f1 4f2 3f1 1x"
BLEND = (0x0302, 0x0303, 0x0001, 0x0303)   # SRC_ALPHA, 1 - SRC_ALPHA; alpha: ONE, 1 - SRC_ALPHA
