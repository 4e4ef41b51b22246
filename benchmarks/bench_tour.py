"""The whole tour (`spacefold tour`, every catalogue scene) as one process, with per-scene times.

    python benchmarks/bench_tour.py [--jobs 2] [--size 1280x720] [--fps 30] [--scenes a,b]

Prints each scene's build + render time (as the tour reports it), the CPU time of the whole
process tree (user + sys: steadier than wall time when other jobs load the machine), the
whole process's wall time and its ratio to the 45 s target (issue 14: 2 cores, 1280x720 @
30 fps, --jobs 2). These machines are noisy: the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bytecode import byte_compile

TARGET_S = 45.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", default="30")
    ap.add_argument("--scenes", default=None, help="comma-separated (default: the whole tour)")
    args = ap.parse_args()
    print(byte_compile(), flush=True)
    exe = Path(sys.executable).with_name("spacefold")
    with tempfile.TemporaryDirectory() as d:
        cmd = [str(exe), "tour", "-o", d, "--size", args.size, "--fps", args.fps,
               "--jobs", str(args.jobs)]
        if args.scenes:
            cmd += ["--scenes", args.scenes]
        load0 = os.getloadavg()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        if r.returncode != 0:
            raise SystemExit(r.stderr[-2000:])
    rows = []
    for line in r.stdout.splitlines():
        m = re.match(r"(\S+)\s+([\d.]+) s\s+(\d+) frames", line)
        if m:
            rows.append((m.group(1), float(m.group(2)), int(m.group(3))))
    print(f"spacefold tour --jobs {args.jobs} at {args.size}, {args.fps} fps; load average "
          f"{load0[0]:.2f} {load0[1]:.2f} at start, {os.getloadavg()[0]:.2f} at end, "
          f"{os.cpu_count()} cores")
    for name, s, n in sorted(rows, key=lambda x: -x[1]):
        print(f"  {name:18s} {s:6.1f} s  {n:5d} frames  {1000 * s / max(n, 1):6.1f} ms/frame")
    busy = sum(s for _, s, _ in rows)
    print(f"  sum of scene times {busy:6.1f} s over {args.jobs} jobs "
          f"(ideal wall {busy / args.jobs:.1f} s)")
    print(f"CPU (user + sys of the whole process tree: workers, encoders): {cpu:.1f} s, "
          f"{cpu / (os.cpu_count() or 1):.1f} s a core")
    print(f"whole process: {wall:.1f} s;  / {TARGET_S:g} s target = {wall / TARGET_S:.2f}x "
          f"({'met' if wall <= TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
