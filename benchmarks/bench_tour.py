"""The whole tour at 1280x720, 30 fps, as one process (`spacefold tour`), with per-scene times.

    python benchmarks/bench_tour.py [--size 1280x720] [--fps 30] [--scenes a,b]

Prints each scene's build + render time (from the tour itself), the whole process's wall
time, and the 90 s target. These machines are noisy: the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", default="30")
    ap.add_argument("--scenes", default=None)
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("spacefold")
    with tempfile.TemporaryDirectory() as d:
        cmd = [str(exe), "tour", "-o", d, "--size", args.size, "--fps", args.fps]
        if args.scenes:
            cmd += ["--scenes", args.scenes]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        print(f"spacefold tour at {args.size}, {args.fps} fps "
              f"(load average {load0:.1f} -> {os.getloadavg()[0]:.1f}):")
        print(r.stdout.rstrip())
        print(f"whole process: {wall:.1f} s   (target <= 90 s)")


if __name__ == "__main__":
    main()
