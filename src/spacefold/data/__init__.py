"""Datasets: a registry of seeded generators plus CSV / NPZ loading.

>>> import spacefold as sf
>>> d = sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)
>>> d.x.shape, d.y.shape, d.classes
((1000, 2), (1000,), 5)
"""

from spacefold.data.datasets import DATASETS, Dataset, dataset
from spacefold.data.files import from_csv, from_npz, load_file

__all__ = ["DATASETS", "Dataset", "dataset", "from_csv", "from_npz", "load_file"]
