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
