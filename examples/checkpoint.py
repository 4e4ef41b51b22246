"""Train, save, load and render by scene name: what ``spacefold train`` and
``spacefold render layers --model FILE`` do, in Python.

    python examples/checkpoint.py [OUT_DIR]     # default: a new temporary folder
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import spacefold as sf


def main(out_dir: Path) -> Path:
    data = sf.dataset("circles", n=500, seed=0)
    model = sf.build("2-8-2", activation="relu", seed=0)
    sf.train(model, data, seed=0)
    # the spec goes into the file with the weights; meta is free-form JSON (here: the data)
    path = sf.save(model, out_dir / "circles.safetensors", meta={"data": data.params})

    loaded, spec, meta = sf.load(path)   # safetensors: loading never runs code
    print(f"loaded {spec.arch} ({', '.join(spec.activations)}), trained on {meta['data']}")
    again = sf.dataset("circles", **meta["data"])
    return sf.render("layers", out_dir / "circles.gif", model=loaded, data=again,
                     size=(320, 180), fps=5)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="spacefold-"))
    try:
        out.mkdir(parents=True, exist_ok=True)   # a missing output folder is made
    except OSError as e:
        print(f"error: cannot make the output folder {str(out)!r}: {e.strerror or e}",
              file=sys.stderr)
        raise SystemExit(2) from None
    print(f"wrote {main(out)}")
