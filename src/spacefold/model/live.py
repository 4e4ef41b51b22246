"""A network trained while it is watched (the app's sessions): torch kept on one thread, and
torch-free snapshots of the weights to trace while training goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spacefold.model.network import Network
from spacefold.model.spec import ArchSpec

if TYPE_CHECKING:
    from torch import nn


def one_thread() -> None:
    """Torch's intra-op pool at one thread for the rest of the process.

    Many small networks train at once on shared cores, where more threads only contend.
    :func:`spacefold.model.train` does this itself for small networks but restores the
    caller's count when it returns, so with jobs ending at different times another job
    would go on with the default.
    """
    import torch

    torch.set_num_threads(1)


def snapshot(model: nn.Module, spec: ArchSpec) -> Network:
    """``model``'s weights now, as a torch-free :class:`Network` (a copy: training goes on)."""
    state = model.state_dict()
    return Network(spec, {k: v.detach().cpu().numpy().copy() for k, v in state.items()})
