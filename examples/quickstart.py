"""The README's Python example: train the 5-class spiral network, trace it, render it.

    python examples/quickstart.py [OUT_DIR]     # default: a new temporary folder
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import spacefold as sf


def main(out_dir: Path) -> Path:
    data = sf.dataset("spiral", classes=5, n=1000, noise=0.2, seed=0)  # .x (N, 2), .y (N,)
    model = sf.build("2-100-2-5", activation="relu")                   # a torch nn.Sequential
    history = sf.train(model, data, seed=0)                            # loss, accuracy per epoch
    print(f"training accuracy {history.accuracy[-1]:.1%} after {history.epochs} epochs")

    trace = sf.trace(model, data.x, labels=data.y)
    for k, stage in enumerate(trace.stages):
        print(f"stage {k}: {stage.name:<16} {stage.values.shape}")  # (N, d_k): the exact numbers

    # sf.render(trace, "out.mp4") gives 1280x720 at 30 fps; small and slow-paced here so the
    # example runs in seconds.
    return sf.render(trace, out_dir / "spiral.mp4", size=(320, 180), fps=5)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="spacefold-"))
    try:
        out.mkdir(parents=True, exist_ok=True)   # a missing output folder is made
    except OSError as e:
        print(f"error: cannot make the output folder {str(out)!r}: {e.strerror or e}",
              file=sys.stderr)
        raise SystemExit(2) from None
    print(f"wrote {main(out)}")
