"""A Trace as data for the web viewer, and as one self-contained interactive .html file.

>>> import spacefold as sf
>>> from spacefold.export import payload
>>> d = sf.dataset("cloud", n=50)
>>> p = payload(sf.trace(sf.build("2-3-2", activation="relu"), d))
>>> [s["name"] for s in p["stages"]][:3], p["dims"]
(['input', 'layer 1 · W·x', 'layer 1 · +b'], 3)

The viewer only draws these numbers; it never redoes the maths. Positions are the trace's
``display(k, dims)`` (the true coordinates for stages of ≤ 3 units, the labelled PCA for
wider ones), sent as little-endian float32 in base64: exact to float32 and ~4x smaller than
decimal JSON. Between stages the viewer interpolates on a straight line, as ``Trace.at`` /
``Trace.display_at`` do.

The live app sends the same payload as one binary WebSocket message instead (:func:`pack`):
the JSON with each array's bytes replaced by an offset into a raw little-endian blob, so
nothing is base64-encoded, parsed as text or copied on the way into the viewer's typed arrays.

Modules: :mod:`~spacefold.export.data` (the payload), :mod:`~spacefold.export.binary` (its
packed form), :mod:`~spacefold.export.page` (the .html page and the viewer bundle).
"""

from spacefold.export.binary import pack, unpack
from spacefold.export.data import FORMAT, REGION_RES, payload
from spacefold.export.page import BUNDLE, STATIC, bundle, render, to_html, write_html
from spacefold.limits import VIEWER_MAX_POINTS as MAX_POINTS

__all__ = ["BUNDLE", "FORMAT", "MAX_POINTS", "REGION_RES", "STATIC", "bundle", "pack",
           "payload", "render", "to_html", "unpack", "write_html"]
