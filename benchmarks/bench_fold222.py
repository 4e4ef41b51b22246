"""`spacefold render fold-222` (the whole process) against its floor: interpreter start plus
encoding the same finished frames with the same settings (issue 14: within 1.25x).

    python benchmarks/bench_fold222.py [--repeats 3] [--size 1280x720]

Each repeat runs, side by side: the command itself; `python -c pass`; and _fold222_floor.py,
which captures the frames the command encodes and times only their encoding. Medians, the
ratio ours / (start + floor) and the load average are printed: compare ratios from one run.
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

from _bytecode import byte_compile

HERE = Path(__file__).resolve().parent
TARGET = 1.25


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return dt, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    print(byte_compile(), flush=True)
    py = sys.executable
    exe = str(Path(py).with_name("spacefold"))
    load0 = os.getloadavg()
    ours, start, floor = [], [], []
    frames = 0
    with tempfile.TemporaryDirectory() as d:
        for _ in range(args.repeats):
            ours.append(timed([exe, "render", "fold-222", "-o", f"{d}/ours.mp4",
                               "--size", args.size])[0])
            start.append(timed([py, "-c", "pass"])[0])
            s = timed([py, str(HERE / "_fold222_floor.py"), args.size, f"{d}/floor.mp4"])[1]
            secs, n = s.split()[-2:]
            floor.append(float(secs))
            frames = int(n)
    med = {k: statistics.median(v) for k, v in
           (("spacefold render fold-222", ours), ("interpreter start", start),
            (f"encode floor ({frames} frames)", floor))}
    print(f"spacefold render fold-222 at {args.size}; load average {load0[0]:.2f} "
          f"{load0[1]:.2f} at start, {os.getloadavg()[0]:.2f} at end, {os.cpu_count()} cores")
    for k, runs in zip(med, (ours, start, floor), strict=True):
        print(f"  {k:30s} median {med[k]:7.3f} s   ({', '.join(f'{x:.3f}' for x in runs)})")
    o, s0, f0 = med.values()
    r = o / (s0 + f0)
    # each repeat's three runs are back to back, so their ratio sees one load: the median of
    # those paired ratios drifts less than the ratio of medians when other jobs come and go
    paired = sorted(a / (b + c) for a, b, c in zip(ours, start, floor, strict=True))
    print(f"ours / (start + encode floor) = {r:.2f}x (ratio of medians); paired per repeat "
          f"{', '.join(f'{x:.2f}' for x in paired)}, median {statistics.median(paired):.2f}x  "
          f"(target <= {TARGET}x: {'met' if r <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
