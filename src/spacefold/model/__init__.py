"""Networks: architecture specs, ``build``, ``train`` and safetensors checkpoints.

>>> import spacefold as sf
>>> sf.build("2-3-2", activation="relu")
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
  (2): Linear(in_features=3, out_features=2, bias=True)
)
"""

from spacefold.model.checkpoint import load, save
from spacefold.model.spec import ACTIVATIONS, ArchSpec, Sine, build, parse_arch
from spacefold.model.train import History, train

__all__ = ["ACTIVATIONS", "ArchSpec", "History", "Sine", "build", "load", "parse_arch", "save",
           "train"]
