"""What a torch module's state means for its trace, checked before it is read: weights on the
'meta' device have no values (refused); a module in training mode is traced as in eval mode,
and one in half precision in float64 (each said in a warning, as the trace is still exact)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from spacefold.errors import TraceError

# modules whose training-mode forward is not what the trace computes
TRAINING_DIFFERS = (nn.Dropout, nn.Dropout1d, nn.AlphaDropout, nn.FeatureAlphaDropout,
                    nn.BatchNorm1d, nn.RReLU)
HALF = (torch.float16, torch.bfloat16)


def check_state(model: nn.Module, name: str) -> None:
    """Refuse empty weights; warn (at the caller's caller) of what the trace reads otherwise."""
    tensors = (*model.named_parameters(), *model.named_buffers())
    empty = [k for k, t in tensors if t.is_meta]
    if empty:
        raise TraceError(f"{name}'s weights {', '.join(empty[:3])}{', ...' * (len(empty) > 3)} "
                         f"have no values (they live on the 'meta' device); load them first")
    if any(m.training and isinstance(m, TRAINING_DIFFERS) for m in model.modules()):
        warnings.warn(f"{name} is in training mode; spacefold traces it as in eval mode "
                      f"(BatchNorm uses its running statistics, dropout is off); call "
                      f"model.eval() to match", stacklevel=4)
    half = sorted({str(t.dtype).removeprefix("torch.") for _, t in tensors if t.dtype in HALF})
    if half:
        warnings.warn(f"{name} holds {' and '.join(half)} weights; spacefold traces their "
                      f"values in float64, so its stages differ from {name}'s own {half[0]} "
                      f"arithmetic by that format's rounding (~1e-3)", stacklevel=4)
