"""spacefold: see what a neural network does inside.

Points and the grid of the plane, carried through every layer — ``W·x``, ``+b``, the
activation — drawn as video, pictures and interactive views.

>>> import spacefold as sf
>>> data = sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)
>>> model = sf.build("2-100-2-5", activation="relu")
>>> history = sf.train(model, data, seed=0)
>>> trace = sf.trace(model, data)
>>> trace.stages[-1].values.shape
(1000, 5)

Names are imported on first use, so ``import spacefold`` is instant and a command that only
needs numpy never pays for importing torch or Matplotlib.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spacefold._lazy import attach as _attach
from spacefold._threads import in_command as _in_command
from spacefold._threads import one_thread_each as _one_thread_each

# before numpy loads its BLAS: in the command, a second BLAS thread costs ~0.12 CPU-s to start
# and contends with the encoder (`spacefold render fold-222`, 6 alternating runs: our process
# used 1.66 CPU-s with one thread, 1.82 with two)
if _in_command():
    _one_thread_each()

__version__ = "0.1.0"

# public name → the module that defines it
_EXPORTS = {
    "ACTIVATIONS": "spacefold.model",
    "ArchSpec": "spacefold.model",
    "DATASETS": "spacefold.data",
    "Dataset": "spacefold.data",
    "GridSpec": "spacefold.trace",
    "History": "spacefold.model",
    "Network": "spacefold.model",
    "Recorder": "spacefold.model",
    "SCENES": "spacefold.scenes",
    "Sine": "spacefold.model",
    "SpacefoldError": "spacefold.errors",
    "Stage": "spacefold.trace",
    "Timeline": "spacefold.render.timeline",
    "Trace": "spacefold.trace",
    "build": "spacefold.model",
    "dataset": "spacefold.data",
    "from_csv": "spacefold.data",
    "from_npz": "spacefold.data",
    "load": "spacefold.model",
    "load_model": "spacefold.model",
    "load_network": "spacefold.model",
    "save": "spacefold.model",
    "trace": "spacefold.trace",
    "train": "spacefold.model",
    "view": "spacefold.server.notebook",
}

__all__ = [
    "ACTIVATIONS",
    "ArchSpec",
    "DATASETS",
    "Dataset",
    "GridSpec",
    "History",
    "Network",
    "Recorder",
    "SCENES",
    "Sine",
    "SpacefoldError",
    "Stage",
    "Timeline",
    "Trace",
    "build",
    "dataset",
    "from_csv",
    "from_npz",
    "load",
    "load_model",
    "load_network",
    "render",
    "save",
    "trace",
    "train",
    "view",
]

# The subpackage ``spacefold.trace`` and the function ``trace`` share a name: importing the
# subpackage first, then binding the function, keeps ``sf.trace`` the function for good.
# Likewise ``spacefold.render`` (the backends) and ``render`` (the function): import the
# subpackage, then bind the function; the scenes (and Matplotlib) load on the first call.
import spacefold.render as _render_backends  # noqa: E402,F401
from spacefold.trace import GridSpec, Stage, Trace, trace  # noqa: E402


def render(target: Any, path: str | os.PathLike[str], **options: Any) -> Path:
    """Render a Trace, a Timeline or a scene name to ``path`` (format from the suffix).

    See :func:`spacefold.scenes.api.render` for the options (size, fps, color_by, still);
    .html pages are written by :func:`spacefold.export.write_html`.
    """
    from spacefold.export import render as render_

    return render_(target, path, **options)


def _register_ipython() -> None:
    """Inside a notebook kernel, show a bare ``Trace`` (a cell's last expression) in the
    viewer. The formatter lives with the viewer (spacefold.server.notebook, imported only
    when a trace is displayed), so ``spacefold.trace`` never imports drawing code."""
    ipython = sys.modules.get("IPython")      # never import IPython ourselves
    shell = ipython.get_ipython() if ipython is not None else None
    fmt = getattr(shell, "display_formatter", None)
    if fmt is None or "text/html" not in getattr(fmt, "active_types", ()):
        return

    def show(tr: Trace) -> Any:
        from spacefold.server.notebook import mimebundle

        return mimebundle(tr)

    fmt.mimebundle_formatter.for_type(Trace, show)


_register_ipython()

if TYPE_CHECKING:
    from spacefold.data import DATASETS, Dataset, dataset, from_csv, from_npz
    from spacefold.errors import SpacefoldError
    from spacefold.model import (
        ACTIVATIONS,
        ArchSpec,
        History,
        Network,
        Recorder,
        Sine,
        build,
        load,
        load_model,
        load_network,
        save,
        train,
    )
    from spacefold.render.timeline import Timeline
    from spacefold.scenes import SCENES
    from spacefold.server.notebook import view


__getattr__, __dir__ = _attach(__name__, _EXPORTS)
