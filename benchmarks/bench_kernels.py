"""The C kernels' polylines and discs on the calls a real render makes (fold-222 at 1280x720),
this tree's build against another's, side by side.

    python benchmarks/bench_kernels.py                 (capture, then replay on this tree)
    python benchmarks/bench_kernels.py capture CALLS.npz [--every 30]
    python benchmarks/bench_kernels.py replay CALLS.npz [--old OTHER/src] [--repeats 15]
    python benchmarks/bench_kernels.py fold [--old OTHER/src] [--repeats 3]

``capture`` renders fold-222 with the encoder replaced by a sink and saves the arguments of
every ``every``-th call of each kind of polylines / discs / markers call (the buffer as it was
before the call). ``replay`` runs the saved calls on this tree's extension and, with ``--old``,
on another tree's built extension (``OTHER/src/spacefold/render/_kernels*.so``), alternating,
and prints each kind's median per-call time, the ratio new / old and the largest difference of
any channel of any pixel between the two outputs. ``fold`` runs the sink render in fresh
processes, alternating between the trees (PYTHONPATH), and prints the process CPU time and the
time spent in the polylines / discs / markers kernels. The machine is noisy: compare ratios
from one run; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

KINDS = ("polylines", "discs", "markers")
FOLD = ["spacefold", "render", "fold-222", "-o", "/tmp/bench_kernels_sink.mp4",
        "--size", "1280x720"]


def _sink_render() -> None:
    """fold-222 through the CLI, its frames drawn and dropped instead of encoded."""
    from spacefold.render import encode

    def sink(path: Any, frames: Any, size: Any, fps: Any, **kw: Any) -> int:
        return sum(1 for _ in frames)

    encode.write_mp4 = sink  # type: ignore[assignment]
    from spacefold.cli import main
    argv, sys.argv = sys.argv, list(FOLD)
    try:
        main()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    finally:
        sys.argv = argv


def capture(out: Path, every: int) -> None:
    from spacefold.render import rasterize
    comp = rasterize.COMPILED
    assert comp is not None, "the extension is not built"
    saved: dict[str, np.ndarray] = {}
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    n_saved = 0

    def wrap(name: str) -> None:
        f = getattr(comp, name)

        def g(buf: np.ndarray, *a: Any) -> None:
            nonlocal n_saved
            arr = a[0]
            key = (name, arr.shape, round(float(a[2]), 3) if name == "polylines" else 0)
            k = seen[key]
            seen[key] += 1
            if k % every == 0:
                p = f"c{n_saved:04d}_{name}_"
                saved[p + "buf"] = buf.copy()
                saved[p + "clip"] = np.array(a[-1], dtype=np.int64)
                if name == "polylines":
                    saved[p + "pts"] = a[0]
                    saved[p + "rgba"] = np.array(a[1], dtype=np.float64)
                    saved[p + "width"] = np.array(a[2], dtype=np.float64)
                else:
                    saved[p + "xy"] = a[0].copy()
                    saved[p + "rgba"] = a[1].copy()
                    saved[p + "radius"] = np.array(a[2], dtype=np.float64)
                    if name == "markers":
                        for j, nm in enumerate(("shape", "polys", "starts")):
                            saved[p + nm] = a[3 + j].copy()
                n_saved += 1
            f(buf, *a)

        setattr(comp, name, g)

    for name in KINDS:
        wrap(name)
    _sink_render()
    np.savez_compressed(out, **saved)
    print(f"{n_saved} calls saved to {out}")


def load_ext(src: Path) -> ModuleType:
    """A tree's built extension, under a name of its own (two builds side by side)."""
    so = sorted((src / "spacefold" / "render").glob("_kernels*.so"))
    if not so:
        raise SystemExit(f"no built _kernels in {src}/spacefold/render")
    spec = importlib.util.spec_from_file_location(f"_kernels_{abs(hash(str(src)))}._kernels",
                                                  so[0])
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Runner:
    """Calls one extension's kernels as rasterize does, whichever polylines scratch it takes
    (a uint32 stamped buffer the size of the frame, or a uint8 mask one)."""

    def __init__(self, ext: ModuleType) -> None:
        self.ext = ext
        self.stamped = "stamp" in (ext.polylines.__doc__ or "")
        self.scratch: np.ndarray | None = None
        self.stamp = 0

    def polylines(self, buf: np.ndarray, pts: np.ndarray, rgba: tuple[float, ...], width: float,
                  clip: tuple[int, ...]) -> None:
        h, w = buf.shape[:2]
        if self.stamped:
            if self.scratch is None or self.scratch.shape != (h, w):
                self.scratch = np.zeros((h, w), dtype=np.uint32)
            self.stamp += 1
            self.ext.polylines(buf, w, h, self.scratch, self.stamp, pts, pts.shape[0],
                               pts.shape[1], rgba, width, clip)
        else:
            n = w * h + 8 * h
            if self.scratch is None or self.scratch.size != n:
                self.scratch = np.zeros(n, dtype=np.uint8)
            self.ext.polylines(buf, w, h, self.scratch, pts, pts.shape[0], pts.shape[1], rgba,
                               width, clip)

    def call(self, c: dict[str, Any], buf: np.ndarray) -> None:
        h, w = buf.shape[:2]
        clip = tuple(int(v) for v in c["clip"])
        if c["kind"] == "polylines":
            self.polylines(buf, c["pts"], tuple(float(v) for v in c["rgba"]),
                           float(c["width"]), clip)
        elif c["kind"] == "discs":
            self.ext.discs(buf, w, h, c["xy"], c["rgba"], float(c["radius"]), clip)
        else:
            self.ext.markers(buf, w, h, c["xy"], c["rgba"], float(c["radius"]), c["shape"],
                             c["polys"], c["starts"], clip)


def load_calls(path: Path) -> list[dict[str, Any]]:
    z = np.load(path)
    calls: dict[str, dict[str, Any]] = {}
    for key in z.files:
        tag, kind, field = key.split("_", 2)
        calls.setdefault(tag, {"kind": kind})[field] = z[key]
    return [calls[t] for t in sorted(calls)]


def describe(c: dict[str, Any]) -> str:
    if c["kind"] == "polylines":
        return f"polylines {tuple(c['pts'].shape)} w={float(c['width']):.3g}"
    return f"{c['kind']} n={len(c['xy'])} r={float(c['radius']):.3g}"


def replay(path: Path, old: Path | None, repeats: int) -> None:
    from spacefold.render import _kernels  # type: ignore[attr-defined]
    runners = {"new": Runner(_kernels)}
    if old is not None:
        runners["old"] = Runner(load_ext(old))
    calls = load_calls(path)
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    worst: dict[str, int] = defaultdict(int)
    work = {name: [c["buf"].copy() for c in calls] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():     # alternate: drift hits both alike
            for i, c in enumerate(calls):
                buf = work[name][i]
                np.copyto(buf, c["buf"])
                t0 = time.perf_counter()
                run.call(c, buf)
                times[describe(c)][name].append(time.perf_counter() - t0)
    if old is not None:
        for i, c in enumerate(calls):
            d = np.abs(work["new"][i].astype(int) - work["old"][i].astype(int)).max()
            worst[describe(c)] = max(worst[describe(c)], int(d))
    print(f"{'call':34s} {'n':>3s} {'new ms':>8s}" + (f" {'old ms':>8s} {'new/old':>8s} "
                                                     f"{'max diff':>8s}" if old else ""))
    count: dict[str, int] = defaultdict(int)
    for c in calls:
        count[describe(c)] += 1
    for key in sorted(times, key=lambda k: -statistics.median(times[k]["new"])):
        t = {n: statistics.median(v) * 1e3 for n, v in times[key].items()}
        line = f"{key:34s} {count[key]:3d} {t['new']:8.3f}"
        if old is not None:
            line += f" {t['old']:8.3f} {t['new'] / t['old']:8.2f} {worst[key]:8d}"
        print(line)


def _fold_child() -> None:
    """One sink render in this process: its CPU time and the kernels' own time, as JSON."""
    from spacefold.render import rasterize
    comp = rasterize.COMPILED
    assert comp is not None
    spent: dict[str, float] = defaultdict(float)

    def wrap(name: str) -> None:
        f = getattr(comp, name)

        def g(*a: Any) -> None:
            t0 = time.perf_counter()
            f(*a)
            spent[name] += time.perf_counter() - t0

        setattr(comp, name, g)

    for name in KINDS:
        wrap(name)
    _sink_render()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": ru.ru_utime + ru.ru_stime, **spent}))


def fold(old: Path | None, repeats: int) -> None:
    here = Path(__file__).resolve()
    trees = {"new": here.parent.parent / "src"}
    if old is not None:
        trees["old"] = old
    got: dict[str, list[dict[str, float]]] = defaultdict(list)
    for _ in range(repeats):
        for name, src in trees.items():
            env = {**os.environ, "PYTHONPATH": str(src)}
            r = subprocess.run([sys.executable, str(here), "_fold"], capture_output=True,
                               text=True, env=env, cwd="/tmp")
            if r.returncode:
                raise SystemExit(r.stderr[-2000:])
            got[name].append(json.loads(r.stdout.strip().splitlines()[-1]))
    keys = ["cpu", *KINDS]
    print(f"{'tree':5s} " + " ".join(f"{k + ' s':>12s}" for k in keys))
    med = {n: {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}
           for n, runs in got.items()}
    for n in trees:
        print(f"{n:5s} " + " ".join(f"{med[n][k]:12.3f}" for k in keys))
    if old is not None:
        print("saved " + " ".join(f"{med['old'][k] - med['new'][k]:12.3f}" for k in keys))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")     # none (as `make bench` runs it): capture, replay
    c = sub.add_parser("capture")
    c.add_argument("out", type=Path)
    c.add_argument("--every", type=int, default=30)
    r = sub.add_parser("replay")
    r.add_argument("calls", type=Path)
    r.add_argument("--old", type=Path)
    r.add_argument("--repeats", type=int, default=15)
    f = sub.add_parser("fold")
    f.add_argument("--old", type=Path)
    f.add_argument("--repeats", type=int, default=3)
    sub.add_parser("_fold")
    args = ap.parse_args()
    if args.cmd is None:
        with tempfile.TemporaryDirectory() as d:
            capture(Path(d) / "calls.npz", 30)
            replay(Path(d) / "calls.npz", None, 9)
    elif args.cmd == "capture":
        capture(args.out, args.every)
    elif args.cmd == "replay":
        replay(args.calls, args.old, args.repeats)
    elif args.cmd == "fold":
        fold(args.old, args.repeats)
    else:
        _fold_child()


if __name__ == "__main__":
    main()
