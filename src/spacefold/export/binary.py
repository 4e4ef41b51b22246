"""The binary form of a message (the live app's updates): a JSON header and the arrays' raw
bytes, which the viewer's typed arrays view in place."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

MAGIC = b"SFB1"
ALIGN = 8         # every array starts at a multiple of 8 bytes: typed arrays view it in place


def pack(message: dict[str, Any]) -> bytes:
    """A message holding ``payload(..., raw=True)`` arrays as one binary blob.

    Layout: ``b"SFB1"``, the header's length (uint32, little-endian), the header (UTF-8 JSON:
    the message with each array as ``{"dtype", "shape", "offset", "nbytes"}``), zero padding
    to a multiple of 8, then the arrays' bytes, each at ``offset`` from there (a multiple of
    8). Raises ValueError for NaN or infinity in the JSON part, as ``json.dumps`` does.
    """
    chunks: list[bytes] = []
    size = 0

    def walk(v: Any) -> Any:
        nonlocal size
        if isinstance(v, dict):
            if "raw" in v:
                data = v["raw"]
                pad = -size % ALIGN
                if pad:
                    chunks.append(bytes(pad))
                    size += pad
                chunks.append(data)
                ref = {"dtype": v["dtype"], "shape": v["shape"], "offset": size,
                       "nbytes": len(data)}
                size += len(data)
                return ref
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    header = json.dumps(walk(message), allow_nan=False, separators=(",", ":"),
                        default=str).encode()
    head = MAGIC + struct.pack("<I", len(header)) + header
    return b"".join([head, bytes(-len(head) % ALIGN), *chunks])


def unpack(data: bytes) -> dict[str, Any]:
    """The message of :func:`pack` with its arrays in the JSON form (``"b64"``), as
    :func:`payload` gives them (for tests and Python clients)."""
    if data[:4] != MAGIC:
        raise ValueError(f"not a packed spacefold message (starts with {data[:4]!r})")
    (n,) = struct.unpack_from("<I", data, 4)
    head = 8 + n
    base = head + (-head % ALIGN)
    blob = memoryview(data)[base:]

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if "offset" in v and "nbytes" in v and "dtype" in v:
                raw = blob[v["offset"]:v["offset"] + v["nbytes"]]
                return {"dtype": v["dtype"], "shape": v["shape"],
                        "b64": base64.b64encode(raw).decode("ascii")}
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    out: dict[str, Any] = walk(json.loads(bytes(data[8:head])))
    return out
