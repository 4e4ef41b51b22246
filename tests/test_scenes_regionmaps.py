"""scenes/regionmaps.py: the exact regions of a trace painted in the class colours, mixed only
on the boundary pixels."""

from __future__ import annotations

import numpy as np

import spacefold as sf


def test_exact_regions_paint_the_class_colours_and_mix_only_boundaries() -> None:
    from spacefold.colors import CLASS_COLORS
    from spacefold.scenes.regionmaps import ExactRegions

    d = sf.dataset("spiral", classes=3, n=150, seed=0)
    tr = sf.trace(sf.build("2-16-3", activation="relu", seed=2), d, grid=False)
    ext, size = (-1.2, 1.2, -1.0, 1.0), (96, 80)
    reg = ExactRegions(tr, alpha=0.5, dim=0.6)
    img = reg.layer().paint(ext, size)
    lab = tr.region_map(ext, size)
    assert img.shape == (80, 96, 4) and (img[..., 3] == 128).all()
    want = np.round(CLASS_COLORS[lab] * 0.6 * 255)
    same = (np.abs(img[..., :3] - want) <= 1).all(axis=2)
    interior = np.ones_like(same)
    interior[:, 1:] &= lab[:, 1:] == lab[:, :-1]
    interior[:, :-1] &= lab[:, 1:] == lab[:, :-1]
    interior[1:] &= lab[1:] == lab[:-1]
    interior[:-1] &= lab[1:] == lab[:-1]
    assert same[interior].all() and not same.all()   # boundaries are mixed colours
    assert reg.layer(0.5).paint(ext, size)[0, 0, 3] == 64


def test_a_zoom_level_evaluates_its_ring_and_takes_the_inside_from_the_levels_before() -> None:
    """Level 2's map equals the full map on its ring (antialiasing included); each pixel
    inside is the pixel of the level whose ring holds it, nearest to its centre."""
    from spacefold.scenes.regionmaps import ExactRegions, ZoomedRegions

    d = sf.dataset("spiral", classes=4, n=150, seed=0)
    tr = sf.trace(sf.build("2-24-4", activation="relu", seed=3), d, grid=False)
    exts = [(-1.0 * z, 1.2 * z, -0.8 * z, 0.9 * z) for z in (1.0, 1.5, 2.25)]
    regions = ExactRegions(tr, alpha=0.5, dim=0.6)
    zoom = ZoomedRegions(regions, exts)
    sizes = [(90, 70), (120, 94), (160, 124)]
    for level, size in enumerate(sizes):
        zoom.layers[level].paint(exts[level], size)
    full = [regions.paint(e, s, 0.5).view(np.uint32)[..., 0] for e, s in
            zip(exts, sizes, strict=True)]
    maps = [zoom._maps[i][2] for i in range(3)]
    assert np.array_equal(maps[0], full[0])               # the first level: a whole map

    def centres(e: tuple, s: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        return (e[0] + (np.arange(s[0]) + 0.5) * (e[1] - e[0]) / s[0],
                e[2] + (np.arange(s[1]) + 0.5) * (e[3] - e[2]) / s[1])

    def owner_pixel(k: int, x: float, y: float) -> int:
        e, (w, h) = exts[k], sizes[k]
        c = min(max(int((x - e[0]) / (e[1] - e[0]) * w), 0), w - 1)
        r = min(max(int((y - e[2]) / (e[3] - e[2]) * h), 0), h - 1)
        return int(maps[k][r, c])

    for level in (1, 2):
        xs, ys = centres(exts[level], sizes[level])
        rings = 0
        for r, y in enumerate(ys):
            for c, x in enumerate(xs):
                owner = min([k for k in range(level) if exts[k][0] <= x <= exts[k][1]
                             and exts[k][2] <= y <= exts[k][3]], default=None)
                if owner is None:                          # the ring: evaluated here
                    rings += 1
                    assert maps[level][r, c] == full[level][r, c]
                else:                                      # from the ring that holds it
                    assert maps[level][r, c] == owner_pixel(owner, x, y)
        assert 0 < rings < sizes[level][0] * sizes[level][1]
