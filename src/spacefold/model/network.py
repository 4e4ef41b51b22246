"""A network as plain numpy weights plus its spec — what a checkpoint holds, torch-free.

``sf.trace`` accepts a :class:`Network` directly, so rendering a saved model needs neither
torch nor its import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacefold.errors import SpecError
from spacefold.model.spec import ArchSpec
from spacefold.model.tensor_files import first_line


@dataclass(frozen=True)
class Network:
    """``params`` are the ``nn.Sequential`` state-dict arrays ("0.weight", "0.bias", ...)."""

    spec: ArchSpec
    params: dict[str, np.ndarray] = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (idx, _), d_in, d_out in zip(self.spec.module_layout(), self.spec.widths[:-1],
                                         self.spec.widths[1:], strict=True):
            for name, want, required in (("weight", (d_out, d_in), True),
                                         ("bias", (d_out,), False)):
                a = self.params.get(f"{idx}.{name}")
                if (a is None and required) or (a is not None and a.shape != want):
                    got = None if a is None else tuple(a.shape)
                    raise SpecError(f"weights do not match spec {self.spec.arch}: layer "
                                    f"{idx}.{name} is {got}, expected {want}")

    def layers(self) -> Iterator[tuple[np.ndarray, np.ndarray | None, str | None]]:
        """(W (out, in), b (out,) or None, activation after it or None) per Linear."""
        for idx, act in self.spec.module_layout():
            yield self.params[f"{idx}.weight"], self.params.get(f"{idx}.bias"), act

    def activation_params(self, layer: int) -> dict[str, Any]:
        """The parameters of the activation after Linear ``layer`` (0-based; the last
        Linear's is the head's), as the spec gives them, defaults included."""
        return self.spec.layer_params(layer)

    def to_torch(self) -> Any:
        """The same network as an ``nn.Sequential`` in eval mode (imports torch)."""
        import torch

        from spacefold.model.torch_build import build_spec

        model = build_spec(self.spec)
        state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.params.items()}
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise SpecError(f"weights do not match spec {self.spec.arch}: "
                            f"{first_line(e)}") from None
        return model.eval()
