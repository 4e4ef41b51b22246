/* Antialiased discs and polylines drawn straight into an RGBA buffer (spacefold.render.rasterize).
 *
 * Buffers are (H, W, 4) uint8, straight (non-premultiplied) RGBA, row 0 at the top: the layout of
 * Matplotlib's Agg canvas. Coordinates are buffer pixels, x right, y down, pixel (col, row)
 * centred at (col + 0.5, row + 0.5). A clip rectangle is (col0, row0, col1, row1), half-open.
 *
 * Coverage is the distance approximation GPU line renderers use: a pixel whose centre lies d
 * inside a shape's edge is covered clamp(d + 0.5, 0, 1). Polylines are filled as one shape: the
 * coverage of all their segments is max-combined (as one Agg path would fill them) into a
 * scratch mask of one byte per pixel, and each covered pixel is then blended once, by its
 * largest coverage. The mask is zero between calls: a call clears what it wrote (each row's
 * touched column span) as it blends.
 *
 * The loops run with the GIL released. Argument checking (shapes, dtypes, contiguity) is done by
 * the Python wrapper; here only sizes are checked against the buffers' lengths.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1    /* compiled for AVX2 apart, chosen at run time */
#endif

#define PIECE_PX 16.0
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch((p), 1)
#else
#define PREFETCH(p) ((void)(p))
#endif

typedef unsigned int u32;

static inline void blend(unsigned char *p, double r, double g, double b, double a)
{
    if (p[3] == 255) {          /* opaque destination (every video frame): no division */
        double k = 1.0 - a;
        p[0] = (unsigned char)(r * 255.0 * a + p[0] * k + 0.5);
        p[1] = (unsigned char)(g * 255.0 * a + p[1] * k + 0.5);
        p[2] = (unsigned char)(b * 255.0 * a + p[2] * k + 0.5);
        return;
    }
    double da = p[3] / 255.0;
    double k = da * (1.0 - a);
    double oa = a + k;
    if (oa <= 0.0)
        return;
    double s = 255.0 / oa;
    p[0] = (unsigned char)((r * a + p[0] / 255.0 * k) * s + 0.5);
    p[1] = (unsigned char)((g * a + p[1] / 255.0 * k) * s + 0.5);
    p[2] = (unsigned char)((b * a + p[2] / 255.0 * k) * s + 0.5);
    p[3] = (unsigned char)(oa * 255.0 + 0.5);
}

/* Opaque destination, 8-bit colour, alpha in 0..256: the common case, in integers. */
static inline void blend8(unsigned char *p, int r8, int g8, int b8, int a256)
{
    int k = 256 - a256;
    p[0] = (unsigned char)((r8 * a256 + p[0] * k + 128) >> 8);
    p[1] = (unsigned char)((g8 * a256 + p[1] * k + 128) >> 8);
    p[2] = (unsigned char)((b8 * a256 + p[2] * k + 128) >> 8);
}

static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int ifloor(double x) { int i = (int)x; return i - (x < i); }  /* no libm call */
static inline int iceil(double x) { int i = (int)x; return i + (x > i); }
static inline double dmax(double a, double b) { return a > b ? a : b; }   /* inlined, unlike */
static inline double dmin(double a, double b) { return a < b ? a : b; }   /* libm's fmax/fmin */

static int clip_box(double lo_x, double lo_y, double hi_x, double hi_y, const int *clip,
                    int *xa, int *ya, int *xb, int *yb)
{
    /* pixel range of a float box, clipped; avoids int overflow for far-away coordinates */
    if (!(hi_x > clip[0] && lo_x < clip[2] && hi_y > clip[1] && lo_y < clip[3]))
        return 0;
    *xa = imax((int)floor(dmax(lo_x, clip[0] - 1.0)), clip[0]);
    *xb = imin((int)ceil(dmin(hi_x, clip[2] + 1.0)), clip[2]);
    *ya = imax((int)floor(dmax(lo_y, clip[1] - 1.0)), clip[1]);
    *yb = imin((int)ceil(dmin(hi_y, clip[3] + 1.0)), clip[3]);
    return *xa < *xb && *ya < *yb;
}

#define DISCS_AHEAD 4   /* points */

/* Ask for the cache lines of a disc's box: the points are scattered over a frame larger than
 * the L2 cache, each a few pixels on a few rows. */
static inline void prefetch_box(unsigned char *buf, int w, double cx, double cy, double reach,
                                const int *clip)
{
    int xa, ya, xb, yb;
    if (!(isfinite(cx) && isfinite(cy)) ||
        !clip_box(cx - reach, cy - reach, cx + reach, cy + reach, clip, &xa, &ya, &xb, &yb))
        return;
    for (int row = ya; row < yb; row++) {
        unsigned char *line = buf + (size_t)row * w * 4;
        PREFETCH(line + (size_t)xa * 4);
        PREFETCH(line + (size_t)(xb - 1) * 4);
    }
}

/* Points, drawn in order: antialiased discs (a pixel centre at distance d from the centre is
   covered clamp(reach - d, 0, 1)), or with shape != NULL class markers: point i is polygon
   shape[i] of the table (vertices polys[starts[s]..starts[s+1]) in units of the radius, y down),
   a disc where the polygon is empty. A pixel centre at signed distance d from an outline
   (negative inside) is covered clamp(0.5 - d, 0, 1): the disc rule (reach - |p| =
   0.5 - (|p| - r)) applied to the polygon's exact distance. */
static void markers(unsigned char *buf, int w, const double *xy, const double *rgba, Py_ssize_t n,
                    double radius, const int *shape, const double *polys, const int *starts,
                    int n_shapes, const int *clip)
{
    double reach = radius + 0.5, out2 = reach * reach;
    double in = reach - 1.0 > 0.0 ? reach - 1.0 : 0.0, in2 = in * in;
    for (Py_ssize_t i = 0; i < n; i++) {
        double cx = xy[2 * i], cy = xy[2 * i + 1];
        const double *c = rgba + 4 * i;
        if (i + DISCS_AHEAD < n)   /* (a marker shape reaching farther: its middle rows) */
            prefetch_box(buf, w, xy[2 * (i + DISCS_AHEAD)], xy[2 * (i + DISCS_AHEAD) + 1], reach,
                         clip);
        int s = shape ? shape[i] : -1, xa, ya, xb, yb;
        if (!isfinite(cx) || !isfinite(cy) || c[3] <= 0.0)
            continue;
        int v0 = (s >= 0 && s < n_shapes) ? starts[s] : 0;
        int nv = (s >= 0 && s < n_shapes) ? starts[s + 1] - v0 : 0;
        const double *poly = polys + 2 * (Py_ssize_t)v0;
        double far = 1.0;
        for (int k = 0; k < nv; k++)
            far = dmax(far, sqrt(poly[2 * k] * poly[2 * k] + poly[2 * k + 1] * poly[2 * k + 1]));
        double box = radius * far + 0.5;
        if (!clip_box(cx - box, cy - box, cx + box, cy + box, clip, &xa, &ya, &xb, &yb))
            continue;
        int r8 = (int)(dmin(dmax(c[0], 0.0), 1.0) * 255.0 + 0.5);
        int g8 = (int)(dmin(dmax(c[1], 0.0), 1.0) * 255.0 + 0.5);
        int b8 = (int)(dmin(dmax(c[2], 0.0), 1.0) * 255.0 + 0.5);
        for (int row = ya; row < yb; row++) {
            double dy = row + 0.5 - cy;
            unsigned char *line = buf + ((size_t)row * w) * 4;
            for (int col = xa; col < xb; col++) {
                double dx = col + 0.5 - cx, cov;
                if (nv < 3) {
                    double d2 = dx * dx + dy * dy;
                    if (d2 >= out2)
                        continue;
                    cov = d2 <= in2 ? 1.0 : reach - sqrt(d2);
                } else {
                    double best = 1e300;
                    int inside = 0;
                    for (int k = 0, j = nv - 1; k < nv; j = k++) {
                        double ax = radius * poly[2 * j], ay = radius * poly[2 * j + 1];
                        double bx = radius * poly[2 * k], by = radius * poly[2 * k + 1];
                        double ex = bx - ax, ey = by - ay, fx = dx - ax, fy = dy - ay;
                        double ee = ex * ex + ey * ey;
                        double t = ee > 0.0 ? dmin(dmax((fx * ex + fy * ey) / ee, 0.0), 1.0) : 0.0;
                        double gx = fx - t * ex, gy = fy - t * ey;
                        best = dmin(best, gx * gx + gy * gy);
                        if ((ay > dy) != (by > dy) && dx < ax + (dy - ay) * ex / ey)
                            inside = !inside;
                    }
                    double d = sqrt(best);
                    cov = dmin(dmax(0.5 + (inside ? d : -d), 0.0), 1.0);
                    if (cov <= 0.0)
                        continue;
                }
                unsigned char *px_ = line + (size_t)col * 4;
                if (px_[3] == 255)
                    blend8(px_, r8, g8, b8, (int)(c[3] * cov * 256.0 + 0.5));
                else
                    blend(px_, c[0], c[1], c[2], c[3] * cov);
            }
        }
    }
}

/* Liang-Barsky: the parameter range [t0, t1] of a->b inside the rectangle. */
static int clip_segment(double ax, double ay, double bx, double by, const double *r,
                        double *t0, double *t1)
{
    double dx = bx - ax, dy = by - ay;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {ax - r[0], r[2] - ax, ay - r[1], r[3] - ay};
    *t0 = 0.0;
    *t1 = 1.0;
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0.0) {
            if (q[k] < 0.0)
                return 0;
        } else {
            double t = q[k] / p[k];
            if (p[k] < 0.0) {
                if (t > *t1)
                    return 0;
                if (t > *t0)
                    *t0 = t;
            } else {
                if (t < *t0)
                    return 0;
                if (t < *t1)
                    *t1 = t;
            }
        }
    }
    return 1;
}

/* Stroke of the style every segment of one polyline set shares. */
typedef struct {
    unsigned char *buf;
    unsigned char *mask;    /* coverage 0..255 per pixel (stride w), zero outside the spans */
    int *lo, *hi;           /* per row: the columns [lo, hi) the mask may be non-zero in */
    int w;
    double r, g, b, alpha;  /* colour; alpha at full coverage */
    double reach;           /* half the width plus half a pixel */
    int r8, g8, b8;         /* the colour in 8 bits */
    int a256[256];          /* alpha * coverage / 255 in 0..256, by 8-bit coverage */
    uint64_t a256x4[256];   /* the same in four 16-bit lanes (a pixel's channels) */
} Stroke;

#define AHEAD 3     /* rows of prefetch */

/* A capsule's shape, relative to its start a. */
typedef struct {
    double ax, ex, ey, ee, inv_ee;   /* a's x, a->b, |a->b|^2 and its inverse (0 if a = b) */
    double reach, out2, in2;         /* reach, its square, (reach - 1)^2: full coverage within */
#if defined(__SSE2__)
    __m128d v_ax, v_ex, v_ey, v_ee, v_inv_ee, v_reach, v_out2, v_in2;   /* the same, twice */
    int single;                      /* whether quad_coverage may be used: */
    __m128 f_ex, f_ey, f_ee, f_inv_ee, f_reach, f_out2, f_in2;   /* the same, 4 floats */
    __m128 f_tol;                    /* a bound on its rounding, in units of the coverage */
#endif
} Geom;

/* The 8-bit coverage of a pixel centre at distance d from the segment, clamp(reach - d, 0, 1):
 * px is its x less a's, pey, pex, pyy, qyy its row's py * ey, py * ex, py^2, (py - ey)^2 with
 * py its y less a's. */
static inline u32 pixel_coverage(const Geom *g, double px, double pey, double pex, double pyy,
                                 double qyy)
{
    double dot = px * g->ex + pey, d2;
    if (dot <= 0.0) {                       /* beyond a: distance to a */
        d2 = px * px + pyy;
    } else if (dot >= g->ee) {              /* beyond b: distance to b */
        double qx = px - g->ex;
        d2 = qx * qx + qyy;
    } else {                                /* beside the segment */
        double cr = px * g->ey - pex;
        d2 = cr * cr * g->inv_ee;
    }
    return d2 >= g->out2 ? 0u : d2 <= g->in2 ? 255u : (u32)((g->reach - sqrt(d2)) * 255.0 + 0.5);
}

#if defined(__SSE2__)
/* pixel_coverage's squared distance d2 and value (reach - d) * 255 + 0.5 in SIMD lanes, written
 * once for both widths: S the intrinsics' suffix (pd: two doubles, ps: four floats), F the
 * prefix of the Geom fields of that width (v, f), V the vector type. */
#define LANE_EDGE(S, F, V, g, px, pey, pex, pyy, qyy, d2, edge)                                  \
    do {                                                                                        \
        V dot_ = _mm_add_##S(_mm_mul_##S(px, (g)->F##_ex), pey);                                 \
        V da_ = _mm_add_##S(_mm_mul_##S(px, px), pyy);                 /* to a */              \
        V qx_ = _mm_sub_##S(px, (g)->F##_ex);                                                    \
        V db_ = _mm_add_##S(_mm_mul_##S(qx_, qx_), qyy);               /* to b */              \
        V cr_ = _mm_sub_##S(_mm_mul_##S(px, (g)->F##_ey), pex);                                  \
        V dm_ = _mm_mul_##S(_mm_mul_##S(cr_, cr_), (g)->F##_inv_ee);  /* beside */             \
        V beyond_b = _mm_cmpge_##S(dot_, (g)->F##_ee);                                           \
        V beyond_a = _mm_cmple_##S(dot_, _mm_setzero_##S());                                     \
        d2 = _mm_or_##S(_mm_and_##S(beyond_b, db_), _mm_andnot_##S(beyond_b, dm_));              \
        d2 = _mm_or_##S(_mm_and_##S(beyond_a, da_), _mm_andnot_##S(beyond_a, d2));               \
        edge = _mm_add_##S(_mm_mul_##S(_mm_sub_##S((g)->F##_reach, _mm_sqrt_##S(d2)),             \
                                       _mm_set1_##S(255.0)), _mm_set1_##S(0.5));                \
    } while (0)

/* pixel_coverage of two pixels (px of each): the same operations, so the same bits, as int32
 * in the low two lanes */
static inline __m128i pair_coverage(const Geom *g, __m128d px, __m128d vpey, __m128d vpex,
                                    __m128d vpyy, __m128d vqyy)
{
    __m128d d2, edge;
    LANE_EDGE(pd, v, __m128d, g, px, vpey, vpex, vpyy, vqyy, d2, edge);
    __m128i c8 = _mm_cvttpd_epi32(edge);                            /* low two lanes */
    __m128i inside = _mm_castpd_si128(_mm_cmple_pd(d2, g->v_in2));
    __m128i near = _mm_castpd_si128(_mm_cmplt_pd(d2, g->v_out2));
    /* the 64-bit masks' low halves, to the two 32-bit lanes */
    inside = _mm_shuffle_epi32(inside, _MM_SHUFFLE(3, 3, 2, 0));
    near = _mm_shuffle_epi32(near, _MM_SHUFFLE(3, 3, 2, 0));
    c8 = _mm_or_si128(_mm_and_si128(inside, _mm_set1_epi32(255)), _mm_andnot_si128(inside, c8));
    return _mm_and_si128(c8, near);
}

/* pixel_coverage of four pixels in single precision: the same coverage, bit for bit, wherever
 * single precision can tell which way the double value (reach - d) * 255 + 0.5 truncates: its
 * fraction farther than g->f_tol (a bound on all rounding here) from 0 and 1. The lanes where it
 * cannot are returned in *redo, to be done in double. Near the thresholds in2 and out2 the
 * value is near 255.5 and 0.5, so the two agree there too. */
static inline __m128i quad_coverage(const Geom *g, __m128 px, __m128 pey, __m128 pex,
                                    __m128 pyy, __m128 qyy, int *redo)
{
    __m128 d2, edge;
    LANE_EDGE(ps, f, __m128, g, px, pey, pex, pyy, qyy, d2, edge);
    __m128i c8 = _mm_cvttps_epi32(edge);
    __m128 inside = _mm_cmple_ps(d2, g->f_in2), near = _mm_cmplt_ps(d2, g->f_out2);
    __m128 frac = _mm_sub_ps(edge, _mm_cvtepi32_ps(c8));
    __m128 close = _mm_or_ps(_mm_cmplt_ps(frac, g->f_tol),
                             _mm_cmpgt_ps(frac, _mm_sub_ps(_mm_set1_ps(1.0f), g->f_tol)));
    *redo = _mm_movemask_ps(_mm_andnot_ps(inside, _mm_and_ps(near, close)));
    __m128i in_ = _mm_castps_si128(inside);
    c8 = _mm_or_si128(_mm_and_si128(in_, _mm_set1_epi32(255)), _mm_andnot_si128(in_, c8));
    return _mm_and_si128(c8, _mm_castps_si128(near));
}

/* Raise 4 mask bytes by 4 coverages (int32 in 0..255). */
static inline void raise4(unsigned char *m, __m128i c4)
{
    int32_t word;
    c4 = _mm_packus_epi16(_mm_packs_epi32(c4, c4), c4);           /* their low 4 bytes */
    memcpy(&word, m, 4);
    word = _mm_cvtsi128_si32(_mm_max_epu8(c4, _mm_cvtsi32_si128(word)));
    memcpy(m, &word, 4);
}
#endif

/* Raise the mask of n pixels of a row from column col to their 8-bit coverage: a pixel centre
 * at distance d from the segment is covered clamp(reach - d, 0, 1); py = row + 0.5 - a's y. */
static void span_coverage(const Geom *g, unsigned char *m, int col, int n, double py)
{
    double pey = py * g->ey, pex = py * g->ex, pyy = py * py, qy = py - g->ey, qyy = qy * qy;
    int i = 0;
#if defined(__SSE2__)
    if (g->single) {
        const __m128 fpey = _mm_set1_ps((float)pey), fpex = _mm_set1_ps((float)pex);
        const __m128 fpyy = _mm_set1_ps((float)pyy), fqyy = _mm_set1_ps((float)qyy);
        const __m128 four = _mm_set1_ps(4.0f);
        __m128 px = _mm_add_ps(_mm_set1_ps((float)(col + 0.5 - g->ax)),
                               _mm_setr_ps(0.0f, 1.0f, 2.0f, 3.0f));
        for (; i + 4 <= n; i += 4, px = _mm_add_ps(px, four)) {
            int redo;
            __m128i c4 = quad_coverage(g, px, fpey, fpex, fpyy, fqyy, &redo);
            if (redo) {
                u32 c[4];
                _mm_storeu_si128((__m128i *)c, c4);
                for (int k = 0; k < 4; k++)
                    if (redo >> k & 1)
                        c[k] = pixel_coverage(g, col + i + k + 0.5 - g->ax, pey, pex, pyy, qyy);
                c4 = _mm_loadu_si128((const __m128i *)c);
            }
            raise4(m + i, c4);
        }
    }
    /* four pixels at a time, each max-combined as the scalar loop does */
    const __m128d vpey = _mm_set1_pd(pey), vpex = _mm_set1_pd(pex), vpyy = _mm_set1_pd(pyy);
    const __m128d vqyy = _mm_set1_pd(qyy), two = _mm_set1_pd(2.0);
    __m128d px = _mm_sub_pd(_mm_setr_pd(col + 0.5, col + 1.5), g->v_ax);
    for (; i + 4 <= n; i += 4) {
        __m128i lo = pair_coverage(g, px, vpey, vpex, vpyy, vqyy);
        px = _mm_add_pd(px, two);
        __m128i hi = pair_coverage(g, px, vpey, vpex, vpyy, vqyy);
        px = _mm_add_pd(px, two);
        raise4(m + i, _mm_unpacklo_epi64(lo, hi));
    }
#endif
    for (; i < n; i++) {
        u32 c8 = pixel_coverage(g, col + i + 0.5 - g->ax, pey, pex, pyy, qyy);
        if (c8 > m[i])
            m[i] = (unsigned char)c8;
    }
}

/* Round-capped segment a->b: each pixel's coverage is raised to the segment's, and the pixel is
 * blended by what the stroke's opacity gains (same colour over itself composes exactly).
 *
 * Only pixels whose centre is within reach are visited: the rows whose centre line meets the
 * capsule, and on each the span where it crosses the two end discs and the band beside the
 * segment (widened by a margin far above rounding, so the distance test alone decides every
 * pixel: the output is that of visiting the whole bounding box). */
static void capsule(const Stroke *s, double ax, double ay, double bx, double by, const int *clip)
{
    double reach = s->reach;
    int xa, ya, xb, yb;
    if (!clip_box(dmin(ax, bx) - reach, dmin(ay, by) - reach, dmax(ax, bx) + reach,
                  dmax(ay, by) + reach, clip, &xa, &ya, &xb, &yb))
        return;
    double ex = bx - ax, ey = by - ay, ee = ex * ex + ey * ey;
    double out2 = reach * reach, in = reach - 1.0 > 0.0 ? reach - 1.0 : 0.0;
    Geom g;
    g.ax = ax, g.ex = ex, g.ey = ey, g.ee = ee, g.inv_ee = ee > 0.0 ? 1.0 / ee : 0.0;
    g.reach = reach, g.out2 = out2, g.in2 = in * in;
#if defined(__SSE2__)
    g.v_ax = _mm_set1_pd(g.ax), g.v_ex = _mm_set1_pd(g.ex), g.v_ey = _mm_set1_pd(g.ey);
    g.v_ee = _mm_set1_pd(g.ee), g.v_inv_ee = _mm_set1_pd(g.inv_ee);
    g.v_reach = _mm_set1_pd(g.reach), g.v_out2 = _mm_set1_pd(g.out2), g.v_in2 = _mm_set1_pd(g.in2);
    {
        /* single precision's rounding (unit 2^-24) in (reach - d) * 255 + 0.5: the worst is
         * the cross product, ~8 units of |p| |e| over |e|, |p| at most |e| + reach + the 3
         * columns of rounding the span up; 2x that, then some for the rest */
        double tol = 255.0 * 0x1p-24 * (16.0 * (sqrt(ee) + 2.0 * reach + 6.0) + 64.0);
        g.single = ee >= 1e-6 && tol < 0.05;
        g.f_ex = _mm_set1_ps((float)ex), g.f_ey = _mm_set1_ps((float)ey);
        g.f_ee = _mm_set1_ps((float)ee), g.f_inv_ee = _mm_set1_ps((float)g.inv_ee);
        g.f_reach = _mm_set1_ps((float)reach), g.f_out2 = _mm_set1_ps((float)out2);
        g.f_in2 = _mm_set1_ps((float)g.in2), g.f_tol = _mm_set1_ps((float)tol);
    }
#endif
    double len = sqrt(ee), marg = 1e-6 * (1.0 + reach + len);
    /* every point within reach of a->b is in the band |cross| <= reach |e| beside it, which
     * crosses a row in a span linear in the row; that span within the box (the columns whose
     * centre is in it, with a margin far above rounding, so the distance test alone decides
     * every pixel: the output is that of visiting the whole box). A near-horizontal segment
     * takes the box's width instead of dividing by a tiny ey. */
    int flat = fabs(ey) < 1e-3;
    double inv_ey = flat ? 0.0 : 1.0 / ey, rl = reach * len;
    double slope = ex * inv_ey, half = fabs(rl * inv_ey) + marg;
    ya = imax(ya, iceil(dmin(ay, by) - reach - marg - 0.5));
    yb = imin(yb, ifloor(dmax(ay, by) + reach + marg - 0.5) + 1);
    double mid = (ya + 0.5 - ay) * slope + ax - 0.5;  /* the band's middle, less half a pixel */
    double box0 = xa, box1 = xb - 1;
    for (int row = ya; row < yb; row++, mid += slope) {
        int c0 = xa, c1 = xb;
        if (!flat) {
            c0 = iceil(dmin(dmax(mid - half, box0), box1 + 1.0));
            c1 = ifloor(dmin(dmax(mid + half, box0 - 1.0), box1)) + 1;
            if (c0 >= c1)
                continue;
        }
        double py = row + 0.5 - ay;
        unsigned char *ml = s->mask + (size_t)row * s->w;
        if (row + AHEAD < clip[3]) {
            /* the rows a few below are usually this line's next ones, not yet in the cache */
            PREFETCH(ml + (size_t)AHEAD * s->w + imin(imax(c0 + (int)(AHEAD * slope), clip[0]),
                                                      clip[2] - 1));
        }
        /* whole fours of columns where the clip leaves room: the extra ones, beyond the
         * capsule's reach, are raised by their coverage, 0 */
        c1 = imin(c0 + ((c1 - c0 + 3) & ~3), clip[2]);
        s->lo[row] = imin(s->lo[row], c0);
        s->hi[row] = imax(s->hi[row], c1);
        span_coverage(&g, ml + c0, c0, c1 - c0, py);
    }
}

/* Ask for the buffer's cache lines under the non-zero mask of a row ahead (16 mask bytes are
 * the 64 bytes of 16 pixels): the frame does not fit the L2 cache, and the lines' crossings of
 * a row are too far apart for the hardware's prefetcher. */
static inline void prefetch_row(const Stroke *s, int row)
{
    int c0 = s->lo[row], c1 = s->hi[row];
    const unsigned char *bl = s->buf + (size_t)row * s->w * 4;
    for (int col = c0; col < c1; col += 16) {
#if defined(__SSE2__)
        const unsigned char *ml = s->mask + (size_t)row * s->w;
        if (col + 16 <= c1 && _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(ml + col)), _mm_setzero_si128())) == 0xffff)
            continue;
#endif
        PREFETCH(bl + (size_t)col * 4);
        PREFETCH(bl + (size_t)imin(col + 15, c1 - 1) * 4);
    }
}

#define COMPOSITE_AHEAD 3   /* rows */

/* Blend each pixel of the rows' touched spans by its coverage in the mask, once, and clear the
 * mask behind. */
static void composite(const Stroke *s, int ya, int yb)
{
    for (int row = ya; row < imin(ya + COMPOSITE_AHEAD, yb); row++)
        prefetch_row(s, row);
    for (int row = ya; row < yb; row++) {
        if (row + COMPOSITE_AHEAD < yb)
            prefetch_row(s, row + COMPOSITE_AHEAD);
        int c0 = s->lo[row], c1 = s->hi[row];
        if (c0 >= c1)
            continue;
        unsigned char *ml = s->mask + (size_t)row * s->w;
        unsigned char *bl = s->buf + (size_t)row * s->w * 4;
        int col = c0;
#if defined(__SSE2__)
        /* four pixels at a time: blend8 in 16-bit lanes (c a + p (256 - a) + 128 < 2^16), the
         * same integers; an uncovered pixel's a = 0 leaves it as it was, and the opaque alpha
         * stays 255 */
        const __m128i zero = _mm_setzero_si128(), k128 = _mm_set1_epi16(128);
        const __m128i k256 = _mm_set1_epi16(256), opaque = _mm_set1_epi32((int)0xff000000u);
        const __m128i rgb = _mm_setr_epi16((short)s->r8, (short)s->g8, (short)s->b8, 255,
                                           (short)s->r8, (short)s->g8, (short)s->b8, 255);
        for (; col + 4 <= c1; col += 4) {
            /* most of a row's span between its lines is untouched: skip 16 columns at once */
            if (col + 16 <= c1 && _mm_movemask_epi8(_mm_cmpeq_epi8(
                    _mm_loadu_si128((const __m128i *)(ml + col)), zero)) == 0xffff) {
                col += 12;
                continue;
            }
            uint32_t word;
            memcpy(&word, ml + col, 4);
            if (!word)
                continue;
            unsigned char *px_ = bl + (size_t)col * 4;
            __m128i p = _mm_loadu_si128((const __m128i *)px_);
            if (_mm_movemask_epi8(_mm_cmpeq_epi32(_mm_and_si128(p, opaque), opaque)) != 0xffff)
                break;                              /* a translucent pixel: one by one below */
            const unsigned char *m = ml + col;
            __m128i a_lo = _mm_set_epi64x((long long)s->a256x4[m[1]], (long long)s->a256x4[m[0]]);
            __m128i a_hi = _mm_set_epi64x((long long)s->a256x4[m[3]], (long long)s->a256x4[m[2]]);
            memset(ml + col, 0, 4);
            __m128i lo = _mm_unpacklo_epi8(p, zero), hi = _mm_unpackhi_epi8(p, zero);
            lo = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(rgb, a_lo),
                                             _mm_mullo_epi16(lo, _mm_sub_epi16(k256, a_lo))), k128);
            hi = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(rgb, a_hi),
                                             _mm_mullo_epi16(hi, _mm_sub_epi16(k256, a_hi))), k128);
            _mm_storeu_si128((__m128i *)px_,
                             _mm_packus_epi16(_mm_srli_epi16(lo, 8), _mm_srli_epi16(hi, 8)));
        }
#endif
        for (; col < c1; col++) {
            int c8 = ml[col];
            if (!c8)
                continue;
            ml[col] = 0;
            unsigned char *px_ = bl + (size_t)col * 4;
            if (px_[3] == 255)
                blend8(px_, s->r8, s->g8, s->b8, s->a256[c8]);
            else
                blend(px_, s->r, s->g, s->b, s->alpha * c8 / 255.0);
        }
    }
}

static inline int finite2(const double *v, Py_ssize_t k)
{
    return isfinite(v[2 * k]) && isfinite(v[2 * k + 1]);
}

/* Whether every vertex strictly between a and b lies within 0.1 px of the chord a->b, and the
 * chord is at most PIECE_PX long. */
static int near_chord(const double *v, Py_ssize_t a, Py_ssize_t b)
{
    double ax = v[2 * a], ay = v[2 * a + 1];
    double ex = v[2 * b] - ax, ey = v[2 * b + 1] - ay, ee = ex * ex + ey * ey;
    if (ee > PIECE_PX * PIECE_PX || ee == 0.0)
        return 0;
    for (Py_ssize_t k = a + 1; k < b; k++) {
        double px = v[2 * k] - ax, py = v[2 * k + 1] - ay;
        double dot = px * ex + py * ey;         /* t = dot / ee in [0, 1], without dividing */
        if (dot < 0.0 || dot > ee)
            return 0;
        double cr = px * ey - py * ex;          /* distance * |e| */
        if (cr * cr > 0.01 * ee)
            return 0;
    }
    return 1;
}

static void polylines(unsigned char *buf, unsigned char *scratch, int w, int h,
                      const double *pts, Py_ssize_t nl, Py_ssize_t nv, const double *rgba,
                      double width, const int *clip)
{
    Stroke s = {buf, scratch + (size_t)h * 2 * sizeof(int), (int *)scratch,
                (int *)scratch + h, w, rgba[0], rgba[1], rgba[2], 0.0, 0.0};
    for (int row = clip[1]; row < clip[3]; row++)
        s.lo[row] = clip[2], s.hi[row] = clip[0];
    s.reach = dmax(width, 1.0) / 2.0 + 0.5;
    s.alpha = dmin(rgba[3], 1.0) * dmin(width, 1.0);   /* hairlines: fainter, not thinner */
    s.r8 = (int)(dmin(dmax(rgba[0], 0.0), 1.0) * 255.0 + 0.5);
    s.g8 = (int)(dmin(dmax(rgba[1], 0.0), 1.0) * 255.0 + 0.5);
    s.b8 = (int)(dmin(dmax(rgba[2], 0.0), 1.0) * 255.0 + 0.5);
    for (int c = 0; c < 256; c++) {
        s.a256[c] = (int)(s.alpha * c / 255.0 * 256.0 + 0.5);
        s.a256x4[c] = (uint64_t)s.a256[c] * 0x0001000100010001ull;
    }
    double m = s.reach + 1.0;
    double frame[4] = {clip[0] - m, clip[1] - m, clip[2] + m, clip[3] + m};
    for (Py_ssize_t li = 0; li < nl; li++) {
        const double *v = pts + 2 * nv * li;
        Py_ssize_t a = 0;
        while (a + 1 < nv) {
            Py_ssize_t b = a + 1;
            if (!finite2(v, a) || !finite2(v, b)) {
                a = b;
                continue;
            }
            /* densely sampled lines: merge vertices within a tenth of a pixel of the chord
             * (like Agg's path simplification), up to PIECE_PX per chord */
            while (b + 1 < nv && finite2(v, b + 1) && near_chord(v, a, b + 1))
                b++;
            double ax = v[2 * a], ay = v[2 * a + 1], bx = v[2 * b], by = v[2 * b + 1];
            double t0, t1;
            a = b;
            if (!clip_segment(ax, ay, bx, by, frame, &t0, &t1))
                continue;
            double dx = bx - ax, dy = by - ay;
            double sx = ax + t0 * dx, sy = ay + t0 * dy;
            double len = sqrt(dx * dx + dy * dy) * (t1 - t0);
            int n = (int)(len / PIECE_PX) + 1;
            double step = (t1 - t0) / n;
            for (int j = 0; j < n; j++) {
                double pa = j * step, pb = (j + 1) * step;
                capsule(&s, sx + pa * dx, sy + pa * dy, sx + pb * dx, sy + pb * dy, clip);
            }
        }
    }
    composite(&s, clip[1], clip[3]);
}

static int check_clip(const int *clip, int w, int h)
{
    if (clip[0] < 0 || clip[1] < 0 || clip[2] > w || clip[3] > h) {
        PyErr_SetString(PyExc_ValueError, "clip rectangle outside the buffer");
        return 0;
    }
    return 1;
}

static PyObject *py_discs(PyObject *self, PyObject *args)
{
    Py_buffer buf, xy, rgba;
    int w, h, clip[4];
    double radius;
    (void)self;
    if (!PyArg_ParseTuple(args, "w*iiy*y*d(iiii)", &buf, &w, &h, &xy, &rgba, &radius, &clip[0],
                          &clip[1], &clip[2], &clip[3]))
        return NULL;
    PyObject *res = NULL;
    Py_ssize_t n = xy.len / (Py_ssize_t)(2 * sizeof(double));
    if (buf.len != (Py_ssize_t)w * h * 4 || w <= 0 || h <= 0)
        PyErr_SetString(PyExc_ValueError, "buffer is not w*h*4 bytes");
    else if (rgba.len != n * (Py_ssize_t)(4 * sizeof(double)))
        PyErr_SetString(PyExc_ValueError, "need one RGBA per point");
    else if (check_clip(clip, w, h)) {
        Py_BEGIN_ALLOW_THREADS
        markers(buf.buf, w, xy.buf, rgba.buf, n, radius, NULL, NULL, NULL, 0, clip);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&xy);
    PyBuffer_Release(&rgba);
    return res;
}

static PyObject *py_markers(PyObject *self, PyObject *args)
{
    Py_buffer buf, xy, rgba, shape, polys, starts;
    int w, h, clip[4];
    double radius;
    (void)self;
    if (!PyArg_ParseTuple(args, "w*iiy*y*dy*y*y*(iiii)", &buf, &w, &h, &xy, &rgba, &radius,
                          &shape, &polys, &starts, &clip[0], &clip[1], &clip[2], &clip[3]))
        return NULL;
    PyObject *res = NULL;
    Py_ssize_t n = xy.len / (Py_ssize_t)(2 * sizeof(double));
    Py_ssize_t n_starts = starts.len / (Py_ssize_t)sizeof(int);
    Py_ssize_t n_verts = polys.len / (Py_ssize_t)(2 * sizeof(double));
    const int *st = starts.buf;
    int ok = n_starts >= 1 && st[0] == 0 && st[n_starts - 1] == n_verts;
    for (Py_ssize_t k = 1; ok && k < n_starts; k++)
        ok = st[k] >= st[k - 1];
    if (buf.len != (Py_ssize_t)w * h * 4 || w <= 0 || h <= 0)
        PyErr_SetString(PyExc_ValueError, "buffer is not w*h*4 bytes");
    else if (rgba.len != n * (Py_ssize_t)(4 * sizeof(double)))
        PyErr_SetString(PyExc_ValueError, "need one RGBA per point");
    else if (shape.len != n * (Py_ssize_t)sizeof(int))
        PyErr_SetString(PyExc_ValueError, "need one int32 shape per point");
    else if (!ok)
        PyErr_SetString(PyExc_ValueError, "starts must rise from 0 to the vertex count");
    else if (check_clip(clip, w, h)) {
        Py_BEGIN_ALLOW_THREADS
        markers(buf.buf, w, xy.buf, rgba.buf, n, radius, shape.buf, polys.buf, st,
                (int)(n_starts - 1), clip);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&xy);
    PyBuffer_Release(&rgba);
    PyBuffer_Release(&shape);
    PyBuffer_Release(&polys);
    PyBuffer_Release(&starts);
    return res;
}

static PyObject *py_polylines(PyObject *self, PyObject *args)
{
    Py_buffer buf, scratch, pts;
    int w, h, clip[4];
    Py_ssize_t nl, nv;
    double rgba[4], width;
    (void)self;
    if (!PyArg_ParseTuple(args, "w*iiw*y*nn(dddd)d(iiii)", &buf, &w, &h, &scratch, &pts, &nl,
                          &nv, &rgba[0], &rgba[1], &rgba[2], &rgba[3], &width, &clip[0],
                          &clip[1], &clip[2], &clip[3]))
        return NULL;
    PyObject *res = NULL;
    if (buf.len != (Py_ssize_t)w * h * 4 || w <= 0 || h <= 0)
        PyErr_SetString(PyExc_ValueError, "buffer is not w*h*4 bytes");
    else if (scratch.len != (Py_ssize_t)w * h + (Py_ssize_t)h * 2 * (Py_ssize_t)sizeof(int) ||
             ((uintptr_t)scratch.buf) % sizeof(int))
        PyErr_SetString(PyExc_ValueError, "scratch is not w*h + 8*h aligned bytes");
    else if (nl < 0 || nv < 0 || pts.len != nl * nv * (Py_ssize_t)(2 * sizeof(double)))
        PyErr_SetString(PyExc_ValueError, "points are not (lines, vertices, 2) float64");
    else if (check_clip(clip, w, h)) {
        Py_BEGIN_ALLOW_THREADS
        polylines(buf.buf, scratch.buf, w, h, pts.buf, nl, nv, rgba, width, clip);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&scratch);
    PyBuffer_Release(&pts);
    return res;
}

/* A straight-alpha RGBA image (iw x ih) composited "over" the buffer with its top-left pixel at
 * (left, top), inside clip: text sprites, decision regions, thumbnails. */
static void image(unsigned char *buf, int w, const unsigned char *img, int iw, int ih, int left,
                  int top, const int *clip)
{
    int c0 = imax(left, clip[0]), c1 = imin(left + iw, clip[2]);
    int r0 = imax(top, clip[1]), r1 = imin(top + ih, clip[3]);
    for (int row = r0; row < r1; row++) {
        const unsigned char *s = img + ((size_t)(row - top) * iw + (c0 - left)) * 4;
        unsigned char *d = buf + ((size_t)row * w + c0) * 4;
        for (int col = c0; col < c1; col++, s += 4, d += 4) {
            int a = s[3];
            if (a == 0)
                continue;
            if (d[3] != 255) {
                blend(d, s[0] / 255.0, s[1] / 255.0, s[2] / 255.0, a / 255.0);
                continue;
            }
            int k = 255 - a;
            d[0] = (unsigned char)((s[0] * a + d[0] * k + 127) / 255);
            d[1] = (unsigned char)((s[1] * a + d[1] * k + 127) / 255);
            d[2] = (unsigned char)((s[2] * a + d[2] * k + 127) / 255);
        }
    }
}

/* One colour over the box (x0, y0)-(x1, y1) (buffer pixels, floats); edge pixels by the
 * fraction of them it covers. */
static void rect(unsigned char *buf, int w, double x0, double y0, double x1, double y1,
                 const double *rgba, const int *clip)
{
    int xa, ya, xb, yb;
    if (!(x1 > x0 && y1 > y0) || !clip_box(x0, y0, x1, y1, clip, &xa, &ya, &xb, &yb))
        return;
    int r8 = (int)(dmin(dmax(rgba[0], 0.0), 1.0) * 255.0 + 0.5);
    int g8 = (int)(dmin(dmax(rgba[1], 0.0), 1.0) * 255.0 + 0.5);
    int b8 = (int)(dmin(dmax(rgba[2], 0.0), 1.0) * 255.0 + 0.5);
    for (int row = ya; row < yb; row++) {
        double cy = dmax(dmin(dmin(row + 1.0, y1) - dmax((double)row, y0), 1.0), 0.0);
        unsigned char *d = buf + ((size_t)row * w + xa) * 4;
        for (int col = xa; col < xb; col++, d += 4) {
            double cx = dmin(col + 1.0, x1) - dmax((double)col, x0);
            double a = rgba[3] * dmax(dmin(cx, 1.0), 0.0) * cy;
            if (a <= 0.0)
                continue;
            if (d[3] == 255)
                blend8(d, r8, g8, b8, (int)(a * 256.0 + 0.5));
            else
                blend(d, rgba[0], rgba[1], rgba[2], a);
        }
    }
}

static PyObject *py_image(PyObject *self, PyObject *args)
{
    Py_buffer buf, img;
    int w, h, iw, ih, left, top, clip[4];
    (void)self;
    if (!PyArg_ParseTuple(args, "w*iiy*iiii(iiii)", &buf, &w, &h, &img, &iw, &ih, &left, &top,
                          &clip[0], &clip[1], &clip[2], &clip[3]))
        return NULL;
    PyObject *res = NULL;
    if (buf.len != (Py_ssize_t)w * h * 4 || w <= 0 || h <= 0)
        PyErr_SetString(PyExc_ValueError, "buffer is not w*h*4 bytes");
    else if (iw < 0 || ih < 0 || img.len != (Py_ssize_t)iw * ih * 4)
        PyErr_SetString(PyExc_ValueError, "image is not iw*ih*4 bytes");
    else if (check_clip(clip, w, h)) {
        Py_BEGIN_ALLOW_THREADS
        image(buf.buf, w, img.buf, iw, ih, left, top, clip);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&img);
    return res;
}

static PyObject *py_rect(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    int w, h, clip[4];
    double x0, y0, x1, y1, rgba[4];
    (void)self;
    if (!PyArg_ParseTuple(args, "w*ii(dddd)(dddd)(iiii)", &buf, &w, &h, &x0, &y0, &x1, &y1,
                          &rgba[0], &rgba[1], &rgba[2], &rgba[3], &clip[0], &clip[1], &clip[2],
                          &clip[3]))
        return NULL;
    PyObject *res = NULL;
    if (buf.len != (Py_ssize_t)w * h * 4 || w <= 0 || h <= 0)
        PyErr_SetString(PyExc_ValueError, "buffer is not w*h*4 bytes");
    else if (check_clip(clip, w, h)) {
        Py_BEGIN_ALLOW_THREADS
        rect(buf.buf, w, x0, y0, x1, y1, rgba, clip);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&buf);
    return res;
}

/* RGBA (straight alpha over an opaque frame: alpha ignored) -> planar YUV 4:2:0, BT.709 limited
 * range, chroma the mean of each 2x2 block; what libx264 encodes, so ffmpeg converts nothing
 * and the pipe carries 1.5 bytes a pixel instead of 4. Fixed point, 16 fractional bits. */
/* Y = 16 + 219 / 255 * (.2126 R + .7152 G + .0722 B), in 16.16 fixed point */
static inline unsigned char luma(const unsigned char *p)
{
    return (unsigned char)((11966 * p[0] + 40254 * p[1] + 4064 * p[2] + (16 << 16) + 32768) >> 16);
}

/* U = 128 + 224 / 255 * (-.1146 R - .3854 G + .5 B),
 * V = 128 + 224 / 255 * (.5 R - .4542 G - .0458 B), on sums r, g, b of 4 pixels */
static inline unsigned char clamp8(int x) { return (unsigned char)(x < 0 ? 0 : (x > 255 ? 255 : x)); }
static inline void chroma(int r, int g, int b, unsigned char *u, unsigned char *v)
{
    *u = clamp8((-1649 * r - 5547 * g + 7196 * b + (128 << 16) + 32768) >> 16);
    *v = clamp8((7196 * r - 6536 * g - 660 * b + (128 << 16) + 32768) >> 16);
}

#if defined(__SSE2__)

/* (x0 + x1, x2 + x3, y0 + y1, y2 + y3) of int32 pairs: SSE2 has no horizontal add */
static inline __m128i pair_sums(__m128i x, __m128i y)
{
    __m128 xf = _mm_castsi128_ps(x), yf = _mm_castsi128_ps(y);
    __m128i even = _mm_castps_si128(_mm_shuffle_ps(xf, yf, _MM_SHUFFLE(2, 0, 2, 0)));
    __m128i odd = _mm_castps_si128(_mm_shuffle_ps(xf, yf, _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm_add_epi32(even, odd);
}

/* 4 pixels' Y numerators (int32) from 16 RGBA bytes: each pixel's words (R, G, B, A) become
 * (R, G, B, G) and one multiply-add with (11966, 20127, 4064, 20127) gives the exact integer
 * 11966 R + 40254 G + 4064 B of the scalar formula */
static inline __m128i luma4(__m128i px, __m128i k)
{
    __m128i z = _mm_setzero_si128();
    __m128i lo = _mm_unpacklo_epi8(px, z), hi = _mm_unpackhi_epi8(px, z);
    lo = _mm_shufflehi_epi16(_mm_shufflelo_epi16(lo, _MM_SHUFFLE(1, 2, 1, 0)), _MM_SHUFFLE(1, 2, 1, 0));
    hi = _mm_shufflehi_epi16(_mm_shufflelo_epi16(hi, _MM_SHUFFLE(1, 2, 1, 0)), _MM_SHUFFLE(1, 2, 1, 0));
    return pair_sums(_mm_madd_epi16(lo, k), _mm_madd_epi16(hi, k));
}
#endif

#if defined(HAVE_AVX2_PATH)
/* The SSE2 loop below, two iterations at once: each 128-bit lane does what one SSE2 iteration
 * does (every AVX2 operation used works lane by lane), lane 0 for chroma columns col..col+3,
 * lane 1 for col+4..col+7, so the bits are the same. Returns the columns done. */
__attribute__((target("avx2")))
static int yuv420_avx2(const unsigned char *a, const unsigned char *b, unsigned char *ya,
                       unsigned char *yb, unsigned char *ul, unsigned char *vl, int cols)
{
    const __m256i k = _mm256_setr_epi16(11966, 20127, 4064, 20127, 11966, 20127, 4064, 20127,
                                        11966, 20127, 4064, 20127, 11966, 20127, 4064, 20127);
    const __m256i ku = _mm256_setr_epi16(-1649, -5547, 7196, 0, -1649, -5547, 7196, 0,
                                         -1649, -5547, 7196, 0, -1649, -5547, 7196, 0);
    const __m256i kv = _mm256_setr_epi16(7196, -6536, -660, 0, 7196, -6536, -660, 0,
                                         7196, -6536, -660, 0, 7196, -6536, -660, 0);
    const __m256i yoff = _mm256_set1_epi32((16 << 16) + 32768);
    const __m256i coff = _mm256_set1_epi32((128 << 16) + 32768), z = _mm256_setzero_si256();
    int col = 0;
    for (; col + 8 <= cols; col += 8, a += 64, b += 64) {
        __m256i pa[2], pb[2], blk[2], ly[4];
        /* lanes (pixels 0-3 | 8-11) and (4-7 | 12-15) of each row's 16 pixels */
        __m256i a0 = _mm256_loadu_si256((const __m256i *)a);
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(a + 32));
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32));
        pa[0] = _mm256_permute2x128_si256(a0, a1, 0x20), pa[1] = _mm256_permute2x128_si256(a0, a1, 0x31);
        pb[0] = _mm256_permute2x128_si256(b0, b1, 0x20), pb[1] = _mm256_permute2x128_si256(b0, b1, 0x31);
        for (int half = 0; half < 2; half++) {
            __m256i lo = _mm256_add_epi16(_mm256_unpacklo_epi8(pa[half], z),
                                          _mm256_unpacklo_epi8(pb[half], z));
            __m256i hi = _mm256_add_epi16(_mm256_unpackhi_epi8(pa[half], z),
                                          _mm256_unpackhi_epi8(pb[half], z));
            lo = _mm256_add_epi16(lo, _mm256_srli_si256(lo, 8));
            hi = _mm256_add_epi16(hi, _mm256_srli_si256(hi, 8));
            blk[half] = _mm256_unpacklo_epi64(lo, hi);
        }
        const __m256i *src[4] = {&pa[0], &pa[1], &pb[0], &pb[1]};
        for (int i = 0; i < 4; i++) {          /* luma4 of each, as in the SSE2 path */
            __m256i lo = _mm256_unpacklo_epi8(*src[i], z), hi = _mm256_unpackhi_epi8(*src[i], z);
            lo = _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(lo, _MM_SHUFFLE(1, 2, 1, 0)),
                                        _MM_SHUFFLE(1, 2, 1, 0));
            hi = _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(hi, _MM_SHUFFLE(1, 2, 1, 0)),
                                        _MM_SHUFFLE(1, 2, 1, 0));
            __m256 xf = _mm256_castsi256_ps(_mm256_madd_epi16(lo, k));
            __m256 yf = _mm256_castsi256_ps(_mm256_madd_epi16(hi, k));
            __m256i sum = _mm256_add_epi32(
                _mm256_castps_si256(_mm256_shuffle_ps(xf, yf, _MM_SHUFFLE(2, 0, 2, 0))),
                _mm256_castps_si256(_mm256_shuffle_ps(xf, yf, _MM_SHUFFLE(3, 1, 3, 1))));
            ly[i] = _mm256_srai_epi32(_mm256_add_epi32(sum, yoff), 16);
        }
        __m256i y = _mm256_packus_epi16(_mm256_packs_epi32(ly[0], ly[1]),
                                        _mm256_packs_epi32(ly[2], ly[3]));
        __m128i y0 = _mm256_castsi256_si128(y), y1 = _mm256_extracti128_si256(y, 1);
        _mm_storel_epi64((__m128i *)(ya + 2 * col), y0);
        _mm_storel_epi64((__m128i *)(ya + 2 * col + 8), y1);
        _mm_storel_epi64((__m128i *)(yb + 2 * col), _mm_srli_si128(y0, 8));
        _mm_storel_epi64((__m128i *)(yb + 2 * col + 8), _mm_srli_si128(y1, 8));
        __m256i uv[2];
        const __m256i *kc[2] = {&ku, &kv};
        for (int c = 0; c < 2; c++) {
            __m256 xf = _mm256_castsi256_ps(_mm256_madd_epi16(blk[0], *kc[c]));
            __m256 yf = _mm256_castsi256_ps(_mm256_madd_epi16(blk[1], *kc[c]));
            __m256i sum = _mm256_add_epi32(
                _mm256_castps_si256(_mm256_shuffle_ps(xf, yf, _MM_SHUFFLE(2, 0, 2, 0))),
                _mm256_castps_si256(_mm256_shuffle_ps(xf, yf, _MM_SHUFFLE(3, 1, 3, 1))));
            uv[c] = _mm256_srai_epi32(_mm256_add_epi32(sum, coff), 16);
        }
        __m256i p = _mm256_packus_epi16(_mm256_packs_epi32(uv[0], uv[1]), z);
        __m128i p0 = _mm256_castsi256_si128(p), p1 = _mm256_extracti128_si256(p, 1);
        int32_t u0 = _mm_cvtsi128_si32(p0), v0 = _mm_cvtsi128_si32(_mm_srli_si128(p0, 4));
        int32_t u1 = _mm_cvtsi128_si32(p1), v1 = _mm_cvtsi128_si32(_mm_srli_si128(p1, 4));
        memcpy(ul + col, &u0, 4), memcpy(ul + col + 4, &u1, 4);
        memcpy(vl + col, &v0, 4), memcpy(vl + col + 4, &v1, 4);
    }
    return col;
}
#endif

/* One pass over each pair of rows: their Y, and the U, V of their 2x2 blocks. */
static void yuv420(const unsigned char *rgba, unsigned char *out, int w, int h)
{
#if defined(HAVE_AVX2_PATH)
    int avx2 = __builtin_cpu_supports("avx2");
#endif
    unsigned char *yp = out, *up = out + (size_t)w * h, *vp = up + (size_t)(w / 2) * (h / 2);
#if defined(__SSE2__)
    const __m128i k = _mm_setr_epi16(11966, 20127, 4064, 20127, 11966, 20127, 4064, 20127);
    const __m128i ku = _mm_setr_epi16(-1649, -5547, 7196, 0, -1649, -5547, 7196, 0);
    const __m128i kv = _mm_setr_epi16(7196, -6536, -660, 0, 7196, -6536, -660, 0);
    const __m128i yoff = _mm_set1_epi32((16 << 16) + 32768);
    const __m128i coff = _mm_set1_epi32((128 << 16) + 32768), z = _mm_setzero_si128();
#endif
    for (int row = 0; row < h / 2; row++) {
        const unsigned char *a = rgba + (size_t)(2 * row) * w * 4, *b = a + (size_t)w * 4;
        unsigned char *ya = yp + (size_t)(2 * row) * w, *yb = ya + w;
        unsigned char *ul = up + (size_t)row * (w / 2), *vl = vp + (size_t)row * (w / 2);
        int col = 0;        /* of the chroma planes: pixels 2 col, 2 col + 1 */
#if defined(HAVE_AVX2_PATH)
        if (avx2) {
            col = yuv420_avx2(a, b, ya, yb, ul, vl, w / 2);
            a += (size_t)col * 8, b += (size_t)col * 8;
        }
#endif
#if defined(__SSE2__)
        for (; col + 4 <= w / 2; col += 4, a += 32, b += 32) {
            __m128i pa[2], pb[2], blk[2];
            for (int half = 0; half < 2; half++) {   /* 4 pixels of each row: 2 blocks */
                pa[half] = _mm_loadu_si128((const __m128i *)(a + 16 * half));
                pb[half] = _mm_loadu_si128((const __m128i *)(b + 16 * half));
                __m128i lo = _mm_add_epi16(_mm_unpacklo_epi8(pa[half], z),
                                           _mm_unpacklo_epi8(pb[half], z));
                __m128i hi = _mm_add_epi16(_mm_unpackhi_epi8(pa[half], z),
                                           _mm_unpackhi_epi8(pb[half], z));
                lo = _mm_add_epi16(lo, _mm_srli_si128(lo, 8));   /* block sums in the low half */
                hi = _mm_add_epi16(hi, _mm_srli_si128(hi, 8));
                blk[half] = _mm_unpacklo_epi64(lo, hi);          /* (R G B A) of 2 blocks */
            }
            /* Y is in 16..235, so the saturating packs change nothing */
            __m128i y = _mm_packus_epi16(
                _mm_packs_epi32(_mm_srai_epi32(_mm_add_epi32(luma4(pa[0], k), yoff), 16),
                                _mm_srai_epi32(_mm_add_epi32(luma4(pa[1], k), yoff), 16)),
                _mm_packs_epi32(_mm_srai_epi32(_mm_add_epi32(luma4(pb[0], k), yoff), 16),
                                _mm_srai_epi32(_mm_add_epi32(luma4(pb[1], k), yoff), 16)));
            _mm_storel_epi64((__m128i *)(ya + 2 * col), y);
            _mm_storel_epi64((__m128i *)(yb + 2 * col), _mm_srli_si128(y, 8));
            __m128i u = _mm_srai_epi32(_mm_add_epi32(pair_sums(_mm_madd_epi16(blk[0], ku),
                                                               _mm_madd_epi16(blk[1], ku)), coff), 16);
            __m128i v = _mm_srai_epi32(_mm_add_epi32(pair_sums(_mm_madd_epi16(blk[0], kv),
                                                               _mm_madd_epi16(blk[1], kv)), coff), 16);
            /* the packs saturate to 0..255: the scalar clamp */
            __m128i uv = _mm_packus_epi16(_mm_packs_epi32(u, v), z);
            int32_t u4 = _mm_cvtsi128_si32(uv), v4 = _mm_cvtsi128_si32(_mm_srli_si128(uv, 4));
            memcpy(ul + col, &u4, 4);
            memcpy(vl + col, &v4, 4);
        }
#endif
        for (; col < w / 2; col++, a += 8, b += 8) {
            ya[2 * col] = luma(a), ya[2 * col + 1] = luma(a + 4);
            yb[2 * col] = luma(b), yb[2 * col + 1] = luma(b + 4);
            chroma(a[0] + a[4] + b[0] + b[4], a[1] + a[5] + b[1] + b[5], a[2] + a[6] + b[2] + b[6],
                   ul + col, vl + col);
        }
    }
}

static PyObject *py_yuv420(PyObject *self, PyObject *args)
{
    Py_buffer src, dst;
    int w, h;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*ii", &src, &dst, &w, &h))
        return NULL;
    PyObject *res = NULL;
    if (w <= 0 || h <= 0 || w % 2 || h % 2)
        PyErr_SetString(PyExc_ValueError, "width and height must be even and positive");
    else if (src.len != (Py_ssize_t)w * h * 4)
        PyErr_SetString(PyExc_ValueError, "source is not w*h*4 bytes");
    else if (dst.len != (Py_ssize_t)w * h * 3 / 2)
        PyErr_SetString(PyExc_ValueError, "destination is not w*h*3/2 bytes");
    else {
        Py_BEGIN_ALLOW_THREADS
        yuv420(src.buf, dst.buf, w, h);
        Py_END_ALLOW_THREADS
        res = Py_None;
        Py_INCREF(res);
    }
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    return res;
}

static PyMethodDef methods[] = {
    {"yuv420", py_yuv420, METH_VARARGS,
     "yuv420(rgba, out, w, h): RGBA to planar YUV 4:2:0, BT.709 limited range"},
    {"discs", py_discs, METH_VARARGS,
     "discs(buf, w, h, xy, rgba, radius, clip): antialiased discs, drawn in order"},
    {"markers", py_markers, METH_VARARGS,
     "markers(buf, w, h, xy, rgba, radius, shape, polys, starts, clip): class marker shapes"},
    {"image", py_image, METH_VARARGS,
     "image(buf, w, h, img, iw, ih, left, top, clip): a straight-alpha RGBA image, over"},
    {"rect", py_rect, METH_VARARGS,
     "rect(buf, w, h, (x0, y0, x1, y1), rgba, clip): one colour over a box, edges by coverage"},
    {"polylines", py_polylines, METH_VARARGS,
     "polylines(buf, w, h, scratch, pts, n_lines, n_verts, rgba, width, clip): one stroke;\n"
     "scratch: 8*h + w*h bytes, the last w*h zero (and left so)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Antialiased discs, polylines, boxes and images into RGBA buffers.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
