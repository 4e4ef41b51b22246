"""Render speed on the reference workload (benchmarks/reference_scene222.py, the project's
copy of the shared definition, so a fresh clone runs it).

Prints, measured side by side in one run (interleaved repeats, medians):
  - spacefold: the whole process rendering the 300-frame 1280x720 reference video, with its
    compiled kernels and without them (SPACEFOLD_NO_KERNELS=1: the same primitives in numpy)
  - the encode floor: the same 300 finished frames piped into the same encoder settings
  - interpreter start (python -c pass) and spacefold's import of what rendering needs
    (plane views are drawn without Matplotlib: render/kernel2d.py)
  - ManimCE on manim_scene222.py, when --manim-venv points at a venv with manim installed
and the ratios. These machines are noisy: compare ratios from one run, not absolute times.

    python benchmarks/bench_render.py [--repeats 3] [--numpy] [--manim-venv PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _bytecode import byte_compile

HERE = Path(__file__).resolve().parent
BENCH = HERE   # reference_scene222.py and manim_scene222.py live beside this file


def setup(tmp: Path) -> tuple[Path, Path]:
    """The reference network as a spacefold checkpoint and its 1000 points as an .npz."""
    import torch
    from torch import nn

    sys.path.insert(0, str(BENCH))
    import reference_scene222 as ref

    import spacefold as sf

    model = sf.build("2-2-2", "relu", head="sigmoid")
    with torch.no_grad():
        for lin, w, b in ((model[0], ref.W1, ref.B1), (model[2], ref.W2, ref.B2)):
            assert isinstance(lin, nn.Linear)
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
    ckpt = sf.save(model, tmp / "ref222.safetensors")
    pts = tmp / "ref222.npz"
    np.savez(pts, x=ref.P0.astype(np.float32), y=np.zeros(len(ref.P0), dtype=np.int64))
    return ckpt, pts


def timed(cmd: list[str], cwd: Path | None = None,
          env: dict[str, str] | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd,
                       env=None if env is None else {**os.environ, **env})
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return dt, r.stdout


def frames_of(path: Path) -> tuple[int, int, int]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return n, s.codec_context.width, s.codec_context.height


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--manim-venv", type=Path, default=None,
                    help="a venv with ManimCE 0.22 installed (see ../shared/bench/README.md)")
    ap.add_argument("--numpy", action="store_true",
                    help="also time the numpy primitives (SPACEFOLD_NO_KERNELS=1): ~2 min a "
                         "repeat, so off by default (make bench)")
    args = ap.parse_args()
    print(byte_compile(), flush=True)
    py = sys.executable
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ckpt, pts = setup(tmp)
        runs: dict[str, list[float]] = {"spacefold (whole process)": [],
                                        "spacefold, numpy primitives": [],
                                        "encode floor (300 frames)": [],
                                        "interpreter start": [],
                                        "import for rendering": []}
        manim = None
        if args.manim_venv is not None:
            manim = args.manim_venv / "bin" / "manim"
            runs["ManimCE -qm (whole process)"] = []
        for _ in range(args.repeats):
            out = tmp / "ours.mp4"
            runs["spacefold (whole process)"].append(
                timed([py, str(HERE / "_ref222_ours.py"), str(ckpt), str(pts), str(out)])[0])
            _, s = timed([py, str(HERE / "_encode_floor.py"), str(ckpt), str(pts),
                          str(tmp / "floor.mp4")])
            runs["encode floor (300 frames)"].append(float(s.strip().splitlines()[-1]))
            runs["interpreter start"].append(timed([py, "-c", "pass"])[0])
            if args.numpy:
                runs["spacefold, numpy primitives"].append(timed(
                    [py, str(HERE / "_ref222_ours.py"), str(ckpt), str(pts),
                     str(tmp / "numpy.mp4")], env={"SPACEFOLD_NO_KERNELS": "1"})[0])
            runs["import for rendering"].append(timed(
                [py, "-c", "import spacefold as sf; sf.load; sf.trace; sf.render;"
                           "import spacefold.render.kernel2d, spacefold.render.encode"])[0])
            if manim is not None:
                runs["ManimCE -qm (whole process)"].append(timed(
                    [str(manim), "-qm", "--disable_caching", str(BENCH / "manim_scene222.py"),
                     "Scene222"], cwd=tmp)[0])
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        n, w, h = frames_of(tmp / "ours.mp4")
        print(f"reference workload: 1000 points, 42 grid lines x 200 vertices, "
              f"{n} frames {w}x{h} @ 30 fps (decoded back)")
        med = {k: statistics.median(v) for k, v in runs.items() if v}
        for k, v in runs.items():
            if v:
                print(f"  {k:34s} median {med[k]:7.3f} s   "
                      f"({', '.join(f'{x:.3f}' for x in v)})")
        ours, floor = med["spacefold (whole process)"], med["encode floor (300 frames)"]
        start = med["interpreter start"]
        print(f"  ours / encode floor               {ours / floor:7.2f}x")
        if args.numpy:
            print(f"  numpy primitives / ours           "
                  f"{med['spacefold, numpy primitives'] / ours:7.2f}x")
        else:
            print("  numpy primitives: not measured (pass --numpy; ~2 min a repeat)")
        print(f"  ours / (1.5 x floor + start)      {ours / (1.5 * floor + start):7.2f}"
              f"   (<= 1.00 meets the target)")
        # each repeat runs ours and the floor back to back: their ratio shares the load
        paired = [o / (1.5 * f + st) for o, f, st in zip(runs["spacefold (whole process)"],
                                                       runs["encode floor (300 frames)"],
                                                       runs["interpreter start"], strict=True)]
        print(f"  the same, paired per repeat       {statistics.median(paired):7.2f}"
              f"   ({', '.join(f'{x:.2f}' for x in paired)})")
        if "ManimCE -qm (whole process)" in med:
            print(f"  ManimCE / ours                    "
                  f"{med['ManimCE -qm (whole process)'] / ours:7.2f}x   (target >= 10x)")
            pm = [m / o for m, o in zip(runs["ManimCE -qm (whole process)"],
                                        runs["spacefold (whole process)"], strict=True)]
            print(f"  the same, paired per repeat       {statistics.median(pm):7.2f}x  "
                  f"({', '.join(f'{x:.2f}' for x in pm)})")
        else:
            print("  ManimCE: not measured (pass --manim-venv; the shared README measured 31 s "
                  f"here, i.e. {31 / ours:.1f}x ours — a cross-run figure, indicative only)")


if __name__ == "__main__":
    main()
