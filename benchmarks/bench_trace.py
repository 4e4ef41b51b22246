"""Tracing a residual model vs one float32 torch forward over the same points.

The model is 2-64-64-64-5 with residual blocks (``x + relu(W·x + b)`` at width 64), traced
on 5,000 data points with its 200×200 decision regions (``GridSpec(regions=200)``), so the
trace carries 5,000 points + the grid's vertices + 40,000 region samples through every stage
and stores every stage's values. The baseline is one ``torch.no_grad()`` float32 forward of
the same model over the same rows (points, grid vertices and region samples, built the same
way), i.e. what computing the output alone costs in torch. Both get the same thread budget:
``--threads`` sets torch's threads and numpy's BLAS threads (threadpoolctl). Runs are
interleaved and the median is reported; the ratio is trace / forward (the target is ≤ 2).

    python benchmarks/bench_trace.py [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

import spacefold as sf
from spacefold.trace.geometry import GridSpec, auto_extent, grid_lines, plane_samples


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.fc(x))


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), Block(64), Block(64),
                         nn.Linear(64, 5)).eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier timing)")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--regions", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads, user_api="blas"):
        run(args)


def run(args: argparse.Namespace) -> None:

    net = model()
    data = sf.dataset("spiral", classes=5, n=args.n, seed=0)
    spec = GridSpec(regions=args.regions)
    ext = auto_extent(data.x)
    rows = np.concatenate([data.x, grid_lines(ext, spec.lines, spec.verts).reshape(-1, 2),
                           plane_samples(ext, args.regions)]).astype(np.float32)
    xt = torch.from_numpy(rows)
    t = sf.trace(net, data, grid=spec)                         # warm-up (imports, fx)
    stages = len(t.stages)
    with torch.no_grad():
        net(xt)

    traces, forwards = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        sf.trace(net, data, grid=spec)
        traces.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with torch.no_grad():
            net(xt)
        forwards.append(time.perf_counter() - t0)
    tr, fw = statistics.median(traces), statistics.median(forwards)
    print(f"2-64-64-64-5 residual · {args.n} points + grid + {args.regions}×{args.regions} "
          f"regions = {len(rows)} rows · {stages} stages · torch {torch.__version__}, "
          f"{args.threads} thread(s) · median of {args.repeats}")
    print(f"trace          {tr * 1e3:8.1f} ms")
    print(f"torch forward  {fw * 1e3:8.1f} ms  (float32, no_grad, the same rows)")
    print(f"ratio          {tr / fw:8.2f}×  (target ≤ 2×)")


if __name__ == "__main__":
    main()
