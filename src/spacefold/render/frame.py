"""What a frame shows, as plain data: the vocabulary shared by scenes and backends.

A scene computes a :class:`Frame` for every instant; a backend only draws it. Panels are
positioned by ``rect`` (figure fractions ``(left, bottom, width, height)``); the same slot
keeps the same panel type through a timeline so backends can reuse their artists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Extent = tuple[float, float, float, float]   # (xmin, xmax, ymin, ymax) in data units
Rect = tuple[float, float, float, float]     # (left, bottom, width, height) figure fractions


@dataclass
class Line:
    """A polyline in data units: (M, 2) vertices."""

    xy: np.ndarray
    color: str | tuple[float, ...] = "#ffffff"
    width: float = 2.0        # px
    style: str = "-"
    label: str = ""           # drawn next to the line's last vertex when set


@dataclass
class Text:
    """Text at ``xy`` in panel fractions (0..1), e.g. a matrix shown on screen."""

    xy: tuple[float, float]
    text: str
    size: float = 14.0        # pt at 720p; backends scale with the frame height
    color: str | tuple[float, ...] = "#e8e8ee"
    ha: str = "left"
    va: str = "top"
    family: str = "sans-serif"


@dataclass
class Image:
    """An RGBA raster (H, W, 4) uint8 placed on ``extent`` in data units (row 0 = ymin)."""

    rgba: np.ndarray
    extent: Extent


@dataclass
class RegionLayer:
    """A raster painted for the panel's own pixels (decision regions at full resolution).

    ``paint(extent, (w, h))`` returns the (h, w, 4) uint8 RGBA image of ``extent`` (row 0 =
    ymin), one value per display pixel centre; a backend calls it with the part of
    ``extent`` (None: the whole view) that shows, at the pixel size it is drawn at, so every
    view and zoom gets its own exact picture.
    """

    paint: Callable[[Extent, tuple[int, int]], np.ndarray]
    extent: Extent | None = None


@dataclass
class Space:
    """A 2-D view of a plane: points, the deformed grid, regions, lines, in data units."""

    view: Extent
    points: np.ndarray | None = None        # (N, 2)
    colors: np.ndarray | None = None        # (N, 3) or (N, 4) floats in [0, 1]
    classes: np.ndarray | None = None       # (N,) class of each point: its marker shape when
                                            # the look's markers are "shapes"
    grid: np.ndarray | None = None          # (L, V, 2) polylines
    regions: Image | RegionLayer | None = None   # drawn under everything
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    title: str = ""
    subtitle: str = ""
    point_size: float = 4.0                 # disc radius, px at 720p
    grid_alpha: float = 0.9
    axes: bool = True                       # faint fixed x / y axes through the origin
    thumbnails: list[Image] = field(default_factory=list)  # small images over the points
    kind: str = field(default="space", init=False)


@dataclass
class Bars:
    """A bar chart: ``values`` (K,), e.g. scores, one-hot, probabilities."""

    values: np.ndarray
    colors: np.ndarray | None = None        # (K, 3)
    ylim: tuple[float, float] = (0.0, 1.0)
    texts: list[Text] = field(default_factory=list)
    title: str = ""
    subtitle: str = ""
    xlabels: list[str] | None = None
    kind: str = field(default="bars", init=False)


@dataclass
class Plot:
    """Function curves y = f(x): each line is a :class:`Line` in data units."""

    view: Extent
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    title: str = ""
    subtitle: str = ""
    kind: str = field(default="plot", init=False)


@dataclass
class Diagram:
    """The network as columns of nodes with weighted edges.

    ``weights[i]`` is layer i+1's (out, in) matrix from column i's units, or None where
    layer i+1 does not read column i (a parallel branch: no edges); ``highlight`` is the
    1-based layer whose stage is playing (0: input) and ``stage_kind`` its kind ("linear",
    "bias", "relu", ...).
    ``links`` are the graph's edges that skip columns: (from column, to column, label), a
    residual sum ("+ skip") or a branch joining a concatenation ("cat"), drawn as arcs.
    """

    widths: list[int]
    weights: list[np.ndarray | None]
    biases: list[np.ndarray | None]
    activations: list[str]
    highlight: int = 0
    stage_kind: str = "input"
    title: str = ""
    subtitle: str = ""
    texts: list[Text] = field(default_factory=list)
    links: list[tuple[int, int, str]] = field(default_factory=list)
    kind: str = field(default="diagram", init=False)


# -- 3-D -----------------------------------------------------------------------------------------

Box = tuple[float, float, float, float, float, float]   # (xmin, xmax, ymin, ymax, zmin, zmax)


@dataclass
class Camera:
    """Where a 3-D view looks from. Angles in degrees; ``azimuth`` turns around +z (0: looking
    from +x), ``elevation`` 90 is the top view (with azimuth -90: x right, y up, as in 2-D)."""

    azimuth: float = -60.0
    elevation: float = 25.0
    distance: float = 3.0                  # from the target, in half-diagonals of the view box
    target: tuple[float, float, float] | None = None   # data units; None: the box centre
    fov: float = 30.0                      # vertical field of view


@dataclass
class Mesh:
    """Triangles with per-vertex colours: ``vertices`` (V, 3) data units, ``triangles`` (T, 3)
    vertex indices, ``colors`` (V, 4) RGBA in [0, 1]. Translucent meshes are blended in true
    depth order, triangle by triangle, also where surfaces intersect."""

    vertices: np.ndarray
    triangles: np.ndarray
    colors: np.ndarray
    shade: bool = True                     # darken by the angle to the viewer (shape cue)
    normals: np.ndarray | None = None      # (V, 3) data-space normals; None: from the faces
    # (W (K, 2), b (K,), rgb (K, 3)): each pixel coloured by the class of argmax(W·(x, y) + b)
    # at its own (x, y), exact at any tessellation (alpha still from ``colors``); K ≤ 10
    argmax: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass
class Line3D:
    """A polyline in 3-D data units: (M, 3) vertices, ``width`` px at 720p."""

    xyz: np.ndarray
    color: str | tuple[float, ...] = "#ffffff"
    width: float = 2.0


@dataclass
class Label3D:
    """Text anchored at a 3-D point (data units); drawn like every other text."""

    xyz: tuple[float, float, float]
    text: str
    size: float = 12.0
    color: str | tuple[float, ...] = "#e8e8ee"
    ha: str = "center"
    va: str = "bottom"


@dataclass
class Space3D:
    """A 3-D view: points, polylines, translucent surfaces, seen by a camera.

    ``box`` is what the camera frames; ``stretch`` (sx, sy, sz) shows the box with those
    relative side lengths (None: true proportions, one unit is one unit on every axis).
    """

    box: Box
    camera: Camera = field(default_factory=Camera)
    points: np.ndarray | None = None        # (N, 3)
    colors: np.ndarray | None = None        # (N, 3) or (N, 4) floats in [0, 1]
    classes: np.ndarray | None = None       # (N,) class of each point (marker shapes)
    grid: np.ndarray | None = None          # (L, V, 3) polylines
    grid_alpha: float = 0.9
    lines: list[Line3D] = field(default_factory=list)
    meshes: list[Mesh] = field(default_factory=list)
    labels: list[Label3D] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    title: str = ""
    subtitle: str = ""
    point_size: float = 4.0                 # disc radius, px at 720p
    axes: bool = True                       # faint x, y, z axes through the origin
    stretch: tuple[float, float, float] | None = None
    kind: str = field(default="space3d", init=False)


Panel = Space | Bars | Plot | Diagram | Space3D


@dataclass
class Frame:
    """One picture: panels in figure-fraction rects, a heading and a caption."""

    panels: Sequence[tuple[Rect, Panel]]
    heading: str = ""
    caption: str = ""


FULL: Rect = (0.04, 0.06, 0.92, 0.84)
