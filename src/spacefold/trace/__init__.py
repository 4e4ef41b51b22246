"""The trace: stages of a network's computation as plain numpy data (no drawing here)."""

from spacefold.trace.color_cache import ColorCache
from spacefold.trace.core import Regions, Stage, Trace, trace
from spacefold.trace.front import decompose
from spacefold.trace.geometry import GridSpec
from spacefold.trace.ops import Op
from spacefold.trace.project import Projection

__all__ = ["ColorCache", "GridSpec", "Op", "Projection", "Regions", "Stage", "Trace", "decompose",
           "trace"]
