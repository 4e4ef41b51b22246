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
"""

from spacefold.data import DATASETS, Dataset, dataset, from_csv, from_npz
from spacefold.errors import SpacefoldError
from spacefold.model import ACTIVATIONS, ArchSpec, History, Sine, build, load, save, train
from spacefold.trace import GridSpec, Stage, Trace, trace

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "ArchSpec",
    "DATASETS",
    "Dataset",
    "GridSpec",
    "History",
    "Sine",
    "SpacefoldError",
    "Stage",
    "Trace",
    "build",
    "dataset",
    "from_csv",
    "from_npz",
    "load",
    "save",
    "trace",
    "train",
]
