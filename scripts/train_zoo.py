"""Train the zoo's shipped networks from their recipes and write their weights.

    .venv/bin/python scripts/train_zoo.py [--check]

Every recipe of ``spacefold.scenes.zoo.shipped()`` is trained from scratch (torch, seeded)
and written to ``src/spacefold/scenes/zoo_weights/<kind>-<hash>.safetensors`` (the recipe,
the spec, the training record and the weights at each kept epoch inside); files of recipes
no longer shipped are removed. Run it after changing a recipe or the training code, and
commit the files. ``--check`` writes nothing and says which files are missing or stale.
"""

from __future__ import annotations

import argparse
import sys
import time

from safetensors.numpy import save

from spacefold._atomic import atomic_path
from spacefold.scenes.zoo import load_shipped, shipped, train
from spacefold.scenes.zoo_store import WEIGHTS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report missing or stale files")
    args = ap.parse_args()
    recipes = shipped()
    if args.check:
        bad = [r.file.name for r in recipes if load_shipped(r) is None]
        print("\n".join(f"missing or stale: {b}" for b in bad) or "all shipped weights present")
        sys.exit(1 if bad else 0)
    WEIGHTS.mkdir(exist_ok=True)
    for r in recipes:
        t0 = time.perf_counter()
        arrays, meta = train(r).to_tensors()
        with atomic_path(r.file) as tmp, open(tmp, "wb") as f:
            f.write(save(arrays, metadata=meta))
        print(f"{r.file.name}: {r.as_dict()} ({time.perf_counter() - t0:.1f} s, "
              f"{r.file.stat().st_size // 1024} KiB)")
    keep = {r.file.name for r in recipes}
    for f in WEIGHTS.glob("*.safetensors"):
        if f.name not in keep:
            f.unlink()
            print(f"removed {f.name}")


if __name__ == "__main__":
    main()
