"""Your own PyTorch network, traced stage by stage; the last stage is exactly ``model(x)``.

    python examples/own_model.py [OUT_DIR]      # default: a new temporary folder
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

import spacefold as sf


def main(out_dir: Path) -> Path:
    torch.manual_seed(0)
    model = nn.Sequential(          # any chain of Linear layers and elementwise activations
        nn.Linear(2, 3), nn.Tanh(),
        nn.Linear(3, 2), nn.LeakyReLU(0.1),
        nn.Linear(2, 2),
    )
    data = sf.dataset("moons", n=400, noise=0.1, seed=0)
    history = sf.train(model, data, lr=0.03, epochs=500, seed=0)
    print(f"training accuracy {history.accuracy[-1]:.1%}")

    trace = sf.trace(model, data.x, labels=data.y)
    for stage in trace.stages:
        print(f"{stage.name:<20} dimension {stage.dim}")

    with torch.no_grad():
        expected = model(torch.as_tensor(data.x)).numpy()
    np.testing.assert_allclose(trace.stages[-1].values, expected, rtol=1e-5, atol=1e-6)
    print("last stage == model(x)")

    # every stage side by side in one picture (the 3-D layer is shown by an honest projection)
    return sf.render(trace, out_dir / "own_model.png", size=(480, 270))


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="spacefold-"))
    try:
        out.mkdir(parents=True, exist_ok=True)   # a missing output folder is made
    except OSError as e:
        print(f"error: cannot make the output folder {str(out)!r}: {e.strerror or e}",
              file=sys.stderr)
        raise SystemExit(2) from None
    print(f"wrote {main(out)}")
