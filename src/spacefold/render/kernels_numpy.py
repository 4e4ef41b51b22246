"""The compiled kernels (``_kernels.c``) restated in numpy: the same five primitives with the
same coverage rule, arithmetic and rounding, for machines without a C compiler (or
``SPACEFOLD_NO_KERNELS=1``). :mod:`spacefold.render.rasterize` chooses between the two and
``tests/test_kernels_numpy.py`` holds them to the same pixels (to 2/255). The points (discs
and class markers) are in :mod:`.markers`, on the blending helpers here.

A polyline set is filled as one shape:
each pixel is blended once, by the largest coverage any capsule gives it, as the C kernel does
(it max-combines the coverage into a mask, then blends). Polylines are simplified as
the C kernel does (vertices within 0.1 px of a chord of at most ``PIECE_PX`` merged, chords
cut into pieces of at most ``PIECE_PX``), so they cover the same pixels.

Arguments are as the C functions take them, already checked by :mod:`.rasterize`: buffers
(H, W, 4) uint8 straight RGBA, row 0 at the top, coordinates in buffer pixels, clip
(col0, row0, col1, row1) half-open inside the buffer.
"""

from __future__ import annotations

import numpy as np

PIECE_PX = 16.0

Clip = tuple[int, int, int, int]


def _u8(c: float) -> int:
    """A [0, 1] channel as the C kernels' 8-bit value."""
    return int(min(max(c, 0.0), 1.0) * 255.0 + 0.5)


def _blend(px: np.ndarray, rgb: np.ndarray, a: np.ndarray) -> None:
    """``blend`` of the C kernels on pixels ``px`` (M, 4) uint8, in place: colours ``rgb``
    (M, 3) or (3,) floats, opacities ``a`` (M,)."""
    p = px.astype(np.float64)
    rgb = np.broadcast_to(np.asarray(rgb, dtype=np.float64), (len(px), 3))
    opaque = px[:, 3] == 255
    out = p.copy()
    if opaque.any():
        ao, k = a[opaque, None], 1.0 - a[opaque, None]
        out[opaque, :3] = np.floor(rgb[opaque] * 255.0 * ao + p[opaque, :3] * k + 0.5)
    t = ~opaque
    if t.any():
        ai = a[t]
        k = p[t, 3] / 255.0 * (1.0 - ai)
        oa = ai + k
        live = oa > 0.0
        s = 255.0 / np.where(live, oa, 1.0)
        col = np.floor((rgb[t] * ai[:, None] + p[t, :3] / 255.0 * k[:, None]) * s[:, None] + 0.5)
        alpha = np.floor(oa * 255.0 + 0.5)
        new = np.concatenate([col, alpha[:, None]], axis=1)
        sub = out[t]
        sub[live] = new[live]
        out[t] = sub
    px[:] = np.clip(out, 0, 255).astype(np.uint8)


def _blend8(px: np.ndarray, rgb8: np.ndarray, a256: np.ndarray) -> None:
    """``blend8``: opaque pixels ``px`` (M, 4), 8-bit colour, alpha in 0..256, in integers."""
    p = px[:, :3].astype(np.int32)
    a = a256.astype(np.int32)[:, None]
    px[:, :3] = ((np.asarray(rgb8, dtype=np.int32) * a + p * (256 - a) + 128) >> 8).astype(np.uint8)


def _over(buf: np.ndarray, rows: np.ndarray, cols: np.ndarray, rgb: np.ndarray,
          rgb8: np.ndarray, a_float: np.ndarray, a256: np.ndarray) -> None:
    """Blend unique pixels (rows, cols): integer ``blend8`` where the buffer is opaque, the
    float ``blend`` elsewhere, as the kernels do."""
    px = buf[rows, cols]
    opaque = px[:, 3] == 255
    if opaque.any():
        sub = px[opaque]
        _blend8(sub, rgb8 if np.ndim(rgb8) == 1 else rgb8[opaque], a256[opaque])
        px[opaque] = sub
    if not opaque.all():
        t = ~opaque
        sub = px[t]
        _blend(sub, rgb if np.ndim(rgb) == 1 else rgb[t], a_float[t])
        px[t] = sub
    buf[rows, cols] = px


def _box(lo_x: np.ndarray, lo_y: np.ndarray, hi_x: np.ndarray, hi_y: np.ndarray,
         clip: Clip) -> tuple[np.ndarray, ...]:
    """``clip_box``: (xa, ya, xb, yb, ok) integer pixel ranges of float boxes, clipped."""
    c0, r0, c1, r1 = clip
    with np.errstate(invalid="ignore"):
        ok = (hi_x > c0) & (lo_x < c1) & (hi_y > r0) & (lo_y < r1)
        lo_x, hi_x = np.where(ok, lo_x, c0), np.where(ok, hi_x, c0)
        lo_y, hi_y = np.where(ok, lo_y, r0), np.where(ok, hi_y, r0)
        xa = np.maximum(np.floor(np.maximum(lo_x, c0 - 1.0)), c0).astype(np.int64)
        xb = np.minimum(np.ceil(np.minimum(hi_x, c1 + 1.0)), c1).astype(np.int64)
        ya = np.maximum(np.floor(np.maximum(lo_y, r0 - 1.0)), r0).astype(np.int64)
        yb = np.minimum(np.ceil(np.minimum(hi_y, r1 + 1.0)), r1).astype(np.int64)
    ok &= (xa < xb) & (ya < yb)
    return xa, ya, xb, yb, ok


def _pairs(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (box, row, col) of boxes [xa, xb) x [ya, yb), box by box, rows then columns."""
    nx, ny = xb - xa, yb - ya
    counts = nx * ny
    owner = np.repeat(np.arange(len(xa)), counts)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    nxo = nx[owner]
    return owner, ya[owner] + local // nxo, xa[owner] + local % nxo


def _chords(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chords the C kernel draws for polylines ``pts`` (L, V, 2), as (line, start, end)
    vertex indices: non-finite vertices break a line, and vertices within 0.1 px of a chord
    of at most ``PIECE_PX`` are merged into it (greedily, from each line's first vertex).
    All lines advance together, one chord each per step."""
    n_lines, nv = pts.shape[:2]
    fin = np.isfinite(pts).all(axis=2)
    a = np.zeros(n_lines, dtype=np.int64)
    lines = np.arange(n_lines)
    got: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while True:
        act = np.flatnonzero(a + 1 < nv)
        if not len(act):
            break
        aa = a[act]
        good = fin[act, aa] & fin[act, aa + 1]
        nxt = aa + 1
        if good.any():
            gl, ga = lines[act][good], aa[good]
            gb = ga + 1 + _extend(pts, fin, gl, ga)
            nxt[good] = gb
            got.append((gl, ga, gb))
        a[act] = nxt
    if not got:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    return tuple(np.concatenate(x) for x in zip(*got, strict=True))  # type: ignore[return-value]


def _extend(pts: np.ndarray, fin: np.ndarray, ln: np.ndarray, a: np.ndarray) -> np.ndarray:
    """For chords starting at vertex ``a`` of line ``ln`` (both (n,)): how many vertices past
    ``a + 1`` each takes in (the C kernel's ``near_chord`` loop)."""
    nv = pts.shape[1]
    out = np.zeros(len(a), dtype=np.int64)
    todo = np.arange(len(a))
    width = 8
    while len(todo):
        la, aa = ln[todo], a[todo]
        j = np.arange(1, width + 1)
        c = aa[:, None] + 1 + j[None, :]                     # candidate chord ends (n, W)
        cc = np.minimum(c, nv - 1)
        va = pts[la, aa]                                     # (n, 2)
        e = pts[la[:, None], cc] - va[:, None, :]            # (n, W, 2)
        ee = e[..., 0] * e[..., 0] + e[..., 1] * e[..., 1]
        ok = (c < nv) & fin[la[:, None], cc] & (ee <= PIECE_PX * PIECE_PX) & (ee != 0.0)
        k = np.minimum(aa[:, None] + j[None, :], nv - 1)    # vertex a+i, i = 1..W
        p = pts[la[:, None], k] - va[:, None, :]             # (n, W, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            dot = p[:, None, :, 0] * e[:, :, None, 0] + p[:, None, :, 1] * e[:, :, None, 1]
            t = dot / ee[:, :, None]                         # (n, chord j, vertex i)
            cr = p[:, None, :, 0] * e[:, :, None, 1] - p[:, None, :, 1] * e[:, :, None, 0]
            bad = (t < 0.0) | (t > 1.0) | (cr * cr > 0.01 * ee[:, :, None])
        bad &= j[None, None, :] <= j[None, :, None]         # only vertices before the end
        ok &= ~bad.any(axis=2)
        lead = np.cumprod(ok, axis=1).sum(axis=1)
        more = (lead == width) & (aa + 1 + width < nv - 1)
        out[todo] = lead
        todo = todo[more]
        width *= 2
    return out


def _clip_segments(s: np.ndarray, r: tuple[float, float, float, float]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liang-Barsky (``clip_segment``) for segments (N, 4): (t0, t1, inside)."""
    ax, ay, bx, by = s.T
    dx, dy = bx - ax, by - ay
    t0, t1 = np.zeros(len(s)), np.ones(len(s))
    inside = np.ones(len(s), dtype=bool)
    for p, q in ((-dx, ax - r[0]), (dx, r[2] - ax), (-dy, ay - r[1]), (dy, r[3] - ay)):
        zero = p == 0.0
        inside &= ~(zero & (q < 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = q / np.where(zero, 1.0, p)
        neg, pos = ~zero & (p < 0.0), ~zero & (p > 0.0)
        inside &= ~(neg & (t > t1)) & ~(pos & (t < t0))
        t0 = np.where(neg & (t > t0), t, t0)
        t1 = np.where(pos & (t < t1), t, t1)
    return t0, t1, inside


def polylines(buf: np.ndarray, pts: np.ndarray, rgba: tuple[float, float, float, float],
              width: float, clip: Clip) -> None:
    reach = max(width, 1.0) / 2.0 + 0.5
    alpha = min(rgba[3], 1.0) * min(width, 1.0)     # hairlines: fainter, not thinner
    m = reach + 1.0
    frame = (clip[0] - m, clip[1] - m, clip[2] + m, clip[3] + m)
    ln, ia, ib = _chords(pts)
    if not len(ln):
        return
    order = np.lexsort((ia, ln))                    # line by line, as the C kernel draws
    ln, ia, ib = ln[order], ia[order], ib[order]
    s = np.concatenate([pts[ln, ia], pts[ln, ib]], axis=1)
    t0, t1, inside = _clip_segments(s, frame)
    s, t0, t1 = s[inside], t0[inside], t1[inside]
    if not len(s):
        return
    d = s[:, 2:] - s[:, :2]
    start = s[:, :2] + t0[:, None] * d
    length = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) * (t1 - t0)
    n = (length / PIECE_PX).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(s)), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    step = ((t1 - t0) / n)[seg]
    pa, pb = j * step, (j + 1) * step
    a = start[seg] + pa[:, None] * d[seg]
    b = start[seg] + pb[:, None] * d[seg]
    _capsules(buf, a, b, reach, alpha, rgba, clip)


def _capsules(buf: np.ndarray, a: np.ndarray, b: np.ndarray, reach: float, alpha: float,
              rgba: tuple[float, float, float, float], clip: Clip) -> None:
    """Round-capped segments a->b (N, 2) filled as one shape: each pixel blended once by the
    largest coverage any of them gives it."""
    lo, hi = np.minimum(a, b) - reach, np.maximum(a, b) + reach
    xa, ya, xb, yb, ok = _box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], clip)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return
    # rows of each capsule's box, then only the columns near the part of a->b within reach of
    # the row (as the C kernel narrows them; the pixels it skips are all out of reach)
    xa, ya, xb, yb = xa[idx], ya[idx], xb[idx], yb[idx]
    n_rows = yb - ya
    own = np.repeat(idx, n_rows)
    row = np.repeat(ya, n_rows) + (np.arange(int(n_rows.sum()))
                                  - np.repeat(np.cumsum(n_rows) - n_rows, n_rows))
    ax, ay = a[own, 0], a[own, 1]
    ex, ey = b[own, 0] - ax, b[own, 1] - ay
    py = row + 0.5 - ay
    c0, c1 = np.repeat(xa, n_rows), np.repeat(xb, n_rows)
    tilt = ey != 0.0
    inv_ey = 1.0 / np.where(tilt, ey, 1.0)
    ta, tb = (py - reach) * inv_ey, (py + reach) * inv_ey
    lo, hi = np.maximum(np.minimum(ta, tb), 0.0), np.minimum(np.maximum(ta, tb), 1.0)
    xl = ax + np.minimum(lo * ex, hi * ex) - reach
    xr = ax + np.maximum(lo * ex, hi * ex) + reach
    with np.errstate(invalid="ignore"):
        c0 = np.where(tilt, np.maximum(c0, np.floor(xl)), c0).astype(np.int64)
        c1 = np.where(tilt, np.minimum(c1, np.ceil(xr)), c1).astype(np.int64)
    n_cols = np.maximum(c1 - c0, 0)
    pick = np.repeat(np.arange(len(row)), n_cols)
    cols = np.repeat(c0, n_cols) + (np.arange(int(n_cols.sum()))
                                    - np.repeat(np.cumsum(n_cols) - n_cols, n_cols))
    rows, cap = row[pick], own[pick]
    ax, ay = a[cap, 0], a[cap, 1]
    ex, ey = b[cap, 0] - ax, b[cap, 1] - ay
    ee = ex * ex + ey * ey
    inv_ee = np.where(ee > 0.0, 1.0 / np.where(ee > 0.0, ee, 1.0), 0.0)
    px, py = cols + 0.5 - ax, rows + 0.5 - ay
    dot = px * ex + py * ey
    qx, qy = px - ex, py - ey
    cr = px * ey - py * ex
    d2 = np.where(dot <= 0.0, px * px + py * py,
                  np.where(dot >= ee, qx * qx + qy * qy, cr * cr * inv_ee))
    out2 = reach * reach
    inner = max(reach - 1.0, 0.0)
    near = d2 < out2
    d2, rows, cols = d2[near], rows[near], cols[near]
    c8 = np.where(d2 <= inner * inner, 255,
                  ((reach - np.sqrt(d2)) * 255.0 + 0.5).astype(np.int64)).astype(np.uint8)
    k0, q0, k1, q1 = clip                           # clip columns k, rows q
    at = (rows - q0, cols - k0)
    cov = np.zeros((q1 - q0, k1 - k0), dtype=np.uint8)
    np.maximum.at(cov, at, c8)
    rr, cc = np.nonzero(cov)
    c_max = cov[rr, cc]
    table = np.floor(alpha * np.arange(256) / 255.0 * 256.0 + 0.5)
    rgb = np.array(rgba[:3], dtype=np.float64)
    rgb8 = np.array([_u8(x) for x in rgba[:3]], dtype=np.int32)
    _over(buf, rr + q0, cc + k0, rgb, rgb8, alpha * c_max / 255.0, table[c_max])


def image(buf: np.ndarray, img: np.ndarray, left: int, top: int, clip: Clip) -> None:
    ih, iw = img.shape[:2]
    c0, c1 = max(left, clip[0]), min(left + iw, clip[2])
    r0, r1 = max(top, clip[1]), min(top + ih, clip[3])
    if c1 <= c0 or r1 <= r0:
        return
    src = img[r0 - top:r1 - top, c0 - left:c1 - left].reshape(-1, 4)
    dst = buf[r0:r1, c0:c1].reshape(-1, 4).copy()
    a = src[:, 3].astype(np.int32)
    lit = a > 0
    opaque = lit & (dst[:, 3] == 255)
    if opaque.any():
        s, d, ao = src[opaque, :3].astype(np.int32), dst[opaque, :3].astype(np.int32), a[opaque]
        dst[opaque, :3] = ((s * ao[:, None] + d * (255 - ao[:, None]) + 127) // 255).astype(
            np.uint8)
    t = lit & ~opaque
    if t.any():
        sub = dst[t]
        _blend(sub, src[t, :3] / 255.0, a[t] / 255.0)
        dst[t] = sub
    buf[r0:r1, c0:c1] = dst.reshape(r1 - r0, c1 - c0, 4)


def rect(buf: np.ndarray, box: tuple[float, float, float, float],
         rgba: tuple[float, float, float, float], clip: Clip) -> None:
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        return
    xa, ya, xb, yb, ok = _box(np.array([x0]), np.array([y0]), np.array([x1]), np.array([y1]),
                              clip)
    if not ok[0]:
        return
    rows = np.arange(ya[0], yb[0])
    cols = np.arange(xa[0], xb[0])
    cy = np.clip(np.minimum(rows + 1.0, y1) - np.maximum(rows.astype(np.float64), y0), 0.0, 1.0)
    cx = np.clip(np.minimum(cols + 1.0, x1) - np.maximum(cols.astype(np.float64), x0), 0.0, 1.0)
    a = rgba[3] * cx[None, :] * cy[:, None]
    rr, cc = np.nonzero(a > 0.0)
    af = a[rr, cc]
    rgb = np.array(rgba[:3], dtype=np.float64)
    rgb8 = np.array([_u8(x) for x in rgba[:3]], dtype=np.int32)
    _over(buf, rows[rr], cols[cc], rgb, rgb8, af, np.floor(af * 256.0 + 0.5))


def yuv420(rgba: np.ndarray, out: np.ndarray) -> None:
    h, w = rgba.shape[:2]
    p = rgba[..., :3].astype(np.int32)
    r, g, b = p[..., 0], p[..., 1], p[..., 2]
    y = (11966 * r + 40254 * g + 4064 * b + (16 << 16) + 32768) >> 16
    out[:w * h] = y.astype(np.uint8).ravel()
    s = p[0::2, 0::2] + p[0::2, 1::2] + p[1::2, 0::2] + p[1::2, 1::2]   # sums of 2x2 blocks
    r, g, b = s[..., 0], s[..., 1], s[..., 2]
    u = (-1649 * r - 5547 * g + 7196 * b + (128 << 16) + 32768) >> 16
    v = (7196 * r - 6536 * g - 660 * b + (128 << 16) + 32768) >> 16
    q = (w // 2) * (h // 2)
    out[w * h:w * h + q] = np.clip(u, 0, 255).astype(np.uint8).ravel()
    out[w * h + q:] = np.clip(v, 0, 255).astype(np.uint8).ravel()
