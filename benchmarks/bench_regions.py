"""The exact pictures' speed, as ratios from one run on one core (issue 11):

- ``Trace.region_map`` over 1280×720 pixel centres of a trained 2-100-100-5 spiral net, against
  one float32 torch forward pass over the same pixels (target ≤ 1.5×);
- ``Trace.linear_regions`` of the trained 2-100-2-5 spiral net (the zoo's) over its data box,
  in a fresh trace (target < 2 s);
- with ``--extrapolation``: the whole ``extrapolation`` render at 1280×720 with the exact
  per-level maps against the coarse 160² rasters it drew before (target ≤ 1.3×).

    .venv/bin/python benchmarks/bench_regions.py [--rounds 5] [--extrapolation]
    .venv/bin/python benchmarks/bench_regions.py --only-extrapolation --rounds 4

Rounds alternate the two sides of each ratio, and the best of each is taken, so the load of a
shared machine falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import spacefold as sf
from spacefold.scenes.zoo import spiral_net
from spacefold.trace.regions import pixel_centres

SIZE = (1280, 720)


def best(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def region_map_ratio(rounds: int) -> None:
    d = sf.dataset("spiral", classes=5, n=1000, seed=0)
    net = sf.build("2-100-100-5", activation="relu", seed=0)
    sf.train(net, d, epochs=200, lr=0.02, seed=0)
    tr = sf.trace(net, d, grid=False)
    extent = (-1.6, 1.6, -0.9, 0.9)
    xs, ys = pixel_centres(extent, SIZE)
    gx, gy = np.meshgrid(xs, ys)
    pix = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))
    net.eval()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(best(lambda: tr.region_map(extent, SIZE), 1))
        with torch.no_grad():
            theirs.append(best(lambda: net(pix), 1))
    lab = tr.region_map(extent, SIZE)
    with torch.no_grad():
        ref = net.double()(pix.double()).numpy()
    top = np.sort(ref, axis=1)
    margin = (top[:, -1] - top[:, -2]).reshape(SIZE[1], SIZE[0])
    wrong = lab != ref.argmax(axis=1).reshape(SIZE[1], SIZE[0])
    print(f"region_map 1280×720, 2-100-100-5: {min(ours) * 1e3:.0f} ms; one float32 torch "
          f"forward: {min(theirs) * 1e3:.0f} ms; ratio {min(ours) / min(theirs):.2f}× "
          f"(target ≤ 1.5×); pixels differing from float64 torch: {int(wrong.sum())} "
          f"({int((wrong & (margin >= 1e-6)).sum())} with margin ≥ 1e-6)")


def linear_regions_time(rounds: int) -> None:
    model, data, _ = spiral_net("2-100-2-5")
    times, n = [], 0
    for _ in range(rounds):
        tr = sf.trace(model, data, grid=False)         # fresh: nothing cached on the trace
        x = data.x.astype(np.float64)
        box = (float(x[:, 0].min()), float(x[:, 0].max()), float(x[:, 1].min()),
               float(x[:, 1].max()))
        t = time.perf_counter()
        pieces = tr.linear_regions(box)
        times.append(time.perf_counter() - t)
        n = len(pieces)
    print(f"linear_regions of the trained 2-100-2-5 over its data box: {n} pieces in "
          f"{min(times):.2f} s (target < 2 s; first run {times[0]:.2f} s)")


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its finished children (the encoder)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def extrapolation_ratio(rounds: int) -> None:
    from spacefold.scenes import extrapolation as sp
    from spacefold.scenes import render
    from spacefold.scenes.zoom_maps import ZoomMaps

    exact = ZoomMaps.image
    out = Path(tempfile.mkdtemp()) / "x.mp4"
    spiral_net("2-100-5")                                # train the zoo nets outside the timing
    for arch, act, kw in sp.EXTRAPOLATORS:
        spiral_net(arch, act, **kw)
    sides = {"coarse 160² rasters": ZoomMaps.coarse_image, "exact per-level maps": exact}
    render("extrapolation", out, size=(320, 180))      # imports, fonts, kernels: untimed
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    # ABBA order, so a load that rises or falls during the run weighs on both sides alike
    order = [name for r in range(rounds) for name in (list(sides) if r % 2 == 0
                                                       else list(sides)[::-1])]
    for name in order:
        ZoomMaps.image = sides[name]                  # type: ignore[method-assign]
        t, c = time.perf_counter(), _cpu()
        render("extrapolation", out, size=SIZE)
        wall[name].append(time.perf_counter() - t)
        cpu[name].append(_cpu() - c)
    ZoomMaps.image = exact                            # type: ignore[method-assign]
    a, b = (min(wall[n]) for n in sides)
    ca, cb = (min(cpu[n]) for n in sides)
    print(f"extrapolation render 1280×720 (best of {rounds}, ABBA): coarse {a:.1f} s wall "
          f"{ca:.1f} s CPU, exact {b:.1f} s wall {cb:.1f} s CPU; ratio {b / a:.2f}× wall, "
          f"{cb / ca:.2f}× CPU (target ≤ 1.3×); load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--extrapolation", action="store_true")
    ap.add_argument("--only-extrapolation", action="store_true",
                    help="skip the region_map and linear_regions figures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        if not args.only_extrapolation:
            region_map_ratio(args.rounds)
            linear_regions_time(max(1, args.rounds // 2))
        if args.extrapolation or args.only_extrapolation:
            extrapolation_ratio(max(2, args.rounds // 2))


if __name__ == "__main__":
    main()
