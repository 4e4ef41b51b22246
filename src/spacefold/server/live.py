"""One live update of a training session: the trace of the network as it is now, packed for the
page, with the loss and accuracy of the training and held-out points.

Made in a tracing process (:mod:`spacefold.server.tracer`) or, failing that, in the job's own
publisher thread; either way by :func:`live_message`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spacefold.data import Dataset
from spacefold.errors import SpacefoldError
from spacefold.export import pack, payload
from spacefold.trace import ColorCache, GridSpec, Trace, trace

LIVE_REGION_RES = 40    # region mesh vertices per side in live updates
LIVE_GRID = GridSpec(lines=17, verts=48, regions=0)   # the plane's grid in live updates
# The point colours of a session's data, kept between its updates: they depend only on the
# points and labels, and the position colour map (medians, percentiles) was a fifth of an
# update's tracing time. One cache per process (a tracer process, or the app's own).
COLORS = ColorCache(size=32)


def live_message(net: Any, data: Dataset, n_train: int, has_test: bool, title: str,
                 lr: float, key: str, epoch: int, loss: float, state: str,
                 unit_maps: bool = True, as_bytes: bool = False,
                 added: int = 0) -> dict[str, Any]:
    """One live update: the trace's payload and the metrics (or an error message).

    ``added``: the last ``added`` of the ``n_train`` training points are the user's (the page
    draws generated, added and held-out points differently).
    ``as_bytes``: the update is packed here (in the worker process; export.pack: JSON
    metadata and raw float32 arrays, no base64) and travels as ``{"type": "update", "job",
    "epoch", "bin": bytes}``, which the session sends as one binary WebSocket message.
    """
    try:
        t = trace(net, data, grid=LIVE_GRID, color_cache=COLORS)
        out = t.output
        if not np.isfinite(out).all():
            raise FloatingPointError
    except (FloatingPointError, np.linalg.LinAlgError, SpacefoldError):
        return {"type": "error", "message": f"the network's outputs are not finite at epoch "
                                            f"{epoch} (learning rate {lr:g}); nothing to show"}
    except (IndexError, ValueError) as e:    # e.g. too few points to project: say so
        return {"type": "error", "message": f"cannot trace this network on {len(data)} "
                                            f"points: {e}"[:300]}
    msg: dict[str, Any] = {"type": "update", "job": key, "epoch": epoch, "state": state,
                           "loss": loss if math.isfinite(loss) else None,
                           "trace": payload(t, title=title, region_res=LIVE_REGION_RES,
                                            unit_maps=unit_maps, raw=as_bytes,
                                            linear_regions=state != "training",
                                            groups=(n_train - added, added,
                                                    len(data) - n_train))}
    msg.update(metrics(t, out, data.y, slice(0, n_train), "train"))
    if has_test:
        msg.update(metrics(t, out, data.y, slice(n_train, None), "test"))
    if not as_bytes:
        return msg
    try:
        blob = pack(msg)
    except ValueError:
        return {"type": "error", "message": "non-finite values in the network's output; "
                                            "training diverged"}
    return {"type": "update", "job": key, "epoch": epoch, "bin": blob}


def metrics(t: Trace, out: np.ndarray, y: np.ndarray, sel: slice,
            name: str) -> dict[str, float | None]:
    """Cross-entropy on the logits and accuracy for the points ``sel``."""
    z = out[sel].astype(np.float64)
    yy = np.asarray(y)[sel]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-logp[np.arange(len(yy)), yy].mean())
    acc = float((t.predict(out[sel]) == yy).mean())
    return {f"{name}_loss": loss if math.isfinite(loss) else None, f"{name}_acc": acc}
