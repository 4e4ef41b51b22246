"""A RegionLayer (the exact decision map of a view) is painted by the 2-D backend at the
panel's own pixels: one source pixel per display pixel, with the C and the numpy primitives."""

from __future__ import annotations

import numpy as np

from spacefold.trace.regions import pixel_centres


def test_both_backends_paint_a_region_layer_at_the_panels_own_pixels() -> None:
    """A RegionLayer is asked for exactly the display pixels the panel shows, and what it
    paints lands one source pixel per display pixel (no resampling)."""
    from spacefold.render import rasterize
    from spacefold.render.frame import Frame, RegionLayer, Space
    from spacefold.render.kernel2d import KernelBackend

    calls: list[tuple[tuple[float, ...], tuple[int, int]]] = []

    def paint(ext: tuple[float, float, float, float], size: tuple[int, int]) -> np.ndarray:
        calls.append((ext, size))
        xs, ys = pixel_centres(ext, size)
        img = np.zeros((size[1], size[0], 4), dtype=np.uint8)
        img[..., 0] = np.where(xs[None, :] > 0.1, 255, 0)      # red right of x = 0.1
        img[..., 1] = np.where(ys[:, None] > -0.3, 255, 0)     # green above y = -0.3
        img[..., 3] = 255
        return img

    frame = Frame([((0.1, 0.1, 0.8, 0.8), Space(view=(-1, 1, -1, 1), regions=RegionLayer(paint),
                                                 axes=False))])
    for backend in (KernelBackend((400, 300)), KernelBackend((400, 300), rasterize.NUMPY)):
        calls.clear()
        buf = backend.draw(frame)[..., :3].astype(int)
        assert len(calls) == 1
        (x0, x1, y0, y1), (w, h) = calls[0]
        assert 200 <= w <= 400 and 200 <= h <= 300
        # the view (widened to the panel's aspect) within a pixel
        assert x0 <= -1 + 1 / w and x1 >= 1 - 1 / w and y0 <= -1 + 1 / h and y1 >= 1 - 1 / h
        red = (buf[..., 0] > 200).any(axis=0)
        cols = np.flatnonzero(red)
        # first red column: where x = 0.1 lies, to one pixel
        left = np.flatnonzero((buf[..., 1] > 200).any(axis=0))[0]       # the panel's left
        want = left + (0.1 - x0) / (x1 - x0) * w
        assert abs(cols[0] - want) <= 1.0, type(backend).__name__
        green_rows = np.flatnonzero((buf[..., 1] > 200).any(axis=1))
        top = green_rows[0]
        want_bottom = top + (y1 - (-0.3)) / (y1 - y0) * h
        assert abs(green_rows[-1] + 1 - want_bottom) <= 1.0, type(backend).__name__
        backend.draw(frame)
        assert len(calls) == 1, "an unchanged view is painted once"
