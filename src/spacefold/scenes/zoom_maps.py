"""Decision regions for a view that zooms out from the data: one map per zoom level, exact
at the panel's pixels (:class:`~spacefold.scenes.regionmaps.ZoomedRegions`), or the coarse
raster of each level the scene drew before (kept as the benchmark's baseline)."""

from __future__ import annotations

import math

import numpy as np

from spacefold.render.frame import Extent, Image, RegionLayer
from spacefold.scenes.planes import scale_extent
from spacefold.scenes.regionmaps import ExactRegions, ZoomedRegions
from spacefold.scenes.story import regions_image
from spacefold.trace import Trace
from spacefold.trace.analysis import raster, stage_regions

EXACT_STEP = 2                   # zoom levels per exact region map (ZoomMaps.image)


class ZoomMaps:
    """Decision regions of a network over views zooming out from ``base`` by up to
    ``max_zoom``, one raster per zoom level (cached): level i covers ``base`` × zoom_i with
    zoom_i = max_zoom ** (i / levels), and a view at zoom z uses the first level ≥ z, so the
    raster always covers the view. Each raster is drawn at its own extent: it is exactly the
    network's decision on its pixel centres."""

    def __init__(self, tr: Trace, base: Extent, max_zoom: float = 16.0, levels: int = 24,
                 res: int = 160, start: int = 0) -> None:
        self.tr, self.base, self.max_zoom, self.start = tr, base, max_zoom, start
        self.levels, self.res = levels, res
        self._labels: dict[int, np.ndarray] = {}
        self._images: dict[int, Image] = {}
        self._exact: ZoomedRegions | None = None

    def level(self, zoom: float) -> int:
        t = math.log(max(zoom, 1.0)) / math.log(self.max_zoom)
        return min(self.levels, math.ceil(t * self.levels - 1e-9))

    def zoom(self, level: int) -> float:
        return float(self.max_zoom ** (level / self.levels))

    def extent(self, level: int) -> Extent:
        return scale_extent(self.base, self.zoom(level))

    def samples(self, level: int) -> np.ndarray:
        """(res·res, 2) input points of level ``level``'s raster (row 0 = ymin)."""
        return raster(self.extent(level), self.res, self.res)

    def labels(self, level: int) -> np.ndarray:
        """(res, res) argmax of the network at :meth:`samples`."""
        if level not in self._labels:
            self._labels[level] = stage_regions(self.tr, self.start, self.extent(level),
                                                self.res)
        return self._labels[level]

    def image(self, zoom: float) -> RegionLayer:
        """What the panel draws at ``zoom``: the exact map of its level, computed at the
        panel's pixel density (spacefold.scenes.regionmaps.ZoomedRegions)."""
        if self._exact is None:
            # every EXACT_STEP-th level: each map covers a zoom range at ≥ 1 texel per
            # pixel and evaluates only its ring outside the level before
            self._exact = ZoomedRegions(ExactRegions(self.tr, alpha=0.55, dim=0.6,
                                                     start=self.start),
                                        [self.extent(min(i, self.levels)) for i in
                                         range(0, self.levels + EXACT_STEP, EXACT_STEP)])
        return self._exact.layers[-(-self.level(zoom) // EXACT_STEP)]

    def coarse_image(self, zoom: float) -> Image:
        """The level's res×res raster as an image (:meth:`labels`)."""
        lv = self.level(zoom)
        if lv not in self._images:
            self._images[lv] = regions_image(self.labels(lv), self.extent(lv), alpha=0.55,
                                             dim=0.6)
        return self._images[lv]
