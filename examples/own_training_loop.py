"""Your own nn.Module, trained in your own PyTorch loop, recorded with ``sf.Recorder``: the
training as a movie, and three catalogue scenes told about your network.

    python examples/own_training_loop.py [OUT_DIR]      # default: a new temporary folder

Writes training.mp4 (your training, epoch by epoch), run.safetensors (the recording, for
``spacefold render training --recording run.safetensors``), model.pth (a plain state dict),
and bottleneck.png, surfaces-argmax.png and fold-232.png of your network.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

import spacefold as sf


class FoldNet(nn.Module):
    """2 → 3 (ReLU) → 32 (ReLU) → 2 (tanh) → 4: a 3-unit layer reading the plane (fold-232),
    and a 2-unit plane before the last layer (the bottleneck and the surfaces)."""

    def __init__(self) -> None:
        super().__init__()
        self.fold = nn.Linear(2, 3)
        self.hidden = nn.Linear(3, 32)
        self.plane = nn.Linear(32, 2)
        self.classify = nn.Linear(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fold(x))
        h = torch.relu(self.hidden(h))
        return self.classify(torch.tanh(self.plane(h)))


def main(out_dir: Path) -> list[Path]:
    torch.manual_seed(0)
    data = sf.dataset("gauss", classes=4, n=600, seed=0)
    model = FoldNet()
    optimiser = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=1e-4)
    x, y = torch.as_tensor(data.x), torch.as_tensor(data.y)

    rec = sf.Recorder(model, data=data)          # reads the layout: 2-3-32-2-4, relu, relu, tanh
    for epoch in range(400):                     # your loop, your optimiser, your loss
        loss = nn.functional.cross_entropy(model(x), y)
        if epoch % 2 == 0:
            rec.snapshot(epoch, loss=float(loss.detach()))   # a copy of the weights
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x).argmax(1) == y).float().mean())
    print(f"{rec.describe()}: {len(rec)} snapshots ({rec.nbytes / 1e6:.2f} MB), "
          f"accuracy {accuracy:.1%}")

    written = [rec.save(out_dir / "run.safetensors")]
    torch.save(model.state_dict(), out_dir / "model.pth")     # what the CLI reads too
    written.append(out_dir / "model.pth")
    written.append(sf.render("training", out_dir / "training.mp4", recording=rec,
                             size=(640, 360), fps=15))
    for scene in ("bottleneck", "surfaces-argmax", "fold-232"):
        written.append(sf.render(scene, out_dir / f"{scene}.png", model=model, data=data,
                                 size=(640, 360), still="poster"))
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="spacefold-"))
    try:
        out.mkdir(parents=True, exist_ok=True)   # a missing output folder is made
    except OSError as e:
        print(f"error: cannot make the output folder {str(out)!r}: {e.strerror or e}",
              file=sys.stderr)
        raise SystemExit(2) from None
    for path in main(out):
        print(f"wrote {path}")
