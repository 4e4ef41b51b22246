"""The web viewer's speed in headless Chromium (software WebGL, SwiftShader):

* frame rate while the stage animates, with 5,000 points and the full grid (21 lines × 200
  vertices) and the decision-region mesh, for a 2-D network and a 3-D (PCA) one;
* the live app's update rate while training the 5-class spiral (updates drawn per second
  in the browser, and epochs trained per second meanwhile).

    .venv/bin/python benchmarks/bench_viewer.py [--seconds 5] [--publisher both] [--rounds 2]
        [--no-fps] [--no-live] [--train-nice 0,10] [--update-interval 0.075,0.06]
        [--baseline OLD_VIEWER.js]   # the frame rates of another build too, side by side
        # e.g. git show HEAD~1:src/spacefold/server/static/viewer.js > /tmp/old.js

Targets (issue 5): ≥ 50 fps, ≥ 10 updates/s. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import spacefold as sf  # noqa: E402
from spacefold.export import bundle, write_html  # noqa: E402
from spacefold.server import browser  # noqa: E402


def _trace(arch: str, n: int) -> sf.Trace:
    d = sf.dataset("spiral", classes=5, n=n, noise=0.2, seed=0)
    net = sf.build(arch, activation="relu", seed=0)
    sf.train(net, d, epochs=100, lr=0.02, seed=0)
    return sf.trace(net, d)


def viewer_fps(ctx: object, html: Path, seconds: float) -> tuple[float, float]:
    """(fps while playing, seconds to first frame)."""
    page = ctx.new_page()  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    page.goto(html.as_uri())
    page.wait_for_function("window.__spacefold && window.__spacefold.frames > 0",
                           timeout=60_000)
    first = time.perf_counter() - t0
    page.evaluate("__spacefold.play(true)")
    page.wait_for_timeout(500)
    f0, t0 = page.evaluate("__spacefold.frames"), time.perf_counter()
    page.wait_for_timeout(seconds * 1000)
    f1, t1 = page.evaluate("__spacefold.frames"), time.perf_counter()
    page.close()
    return (f1 - f0) / (t1 - t0), first


def live_updates(ctx: object, seconds: float, process: bool = True,
                 nice: int | None = None, interval: float | None = None) -> tuple[float, float]:
    """(updates drawn per second, epochs per second) training spiral 5 / 2-100-5.

    ``process``: trace the updates in the server's tracing process (the default); False
    traces them in a thread of the training process (what the app did before).
    """
    import socket

    import uvicorn

    from spacefold.server import job, tracer
    from spacefold.server.app import WS_OPTIONS, create_app

    tracer.LIVE_WORKER = process
    if nice is not None:
        job.TRAIN_NICE = nice
    if interval is not None:
        job.UPDATE_INTERVAL = interval

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                       log_level="warning", **WS_OPTIONS))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        page = ctx.new_page()  # type: ignore[attr-defined]
        page.goto(f"http://127.0.0.1:{port}/?dataset=spiral&classes=5&n=1000&arch=2-100-5"
                  f"&epochs=100000&stage=3")
        page.wait_for_function("window.__spacefoldApp && window.__spacefoldApp.updates > 0",
                               timeout=60_000)
        page.locator("button.sf-train").click()
        page.wait_for_timeout(1000)
        epoch = "Number(/epoch (\\d+)/.exec(document.querySelector('.sf-metrics')" \
                ".textContent)[1])"
        u0, e0, t0 = page.evaluate("__spacefoldApp.updates"), page.evaluate(epoch), \
            time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        u1, e1, t1 = page.evaluate("__spacefoldApp.updates"), page.evaluate(epoch), \
            time.perf_counter()
        page.close()
    finally:
        srv.should_exit = True
        th.join(10)
    return (u1 - u0) / (t1 - t0), (e1 - e0) / (t1 - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--no-live", action="store_true", help="skip the live app's update rate")
    ap.add_argument("--no-fps", action="store_true", help="skip the viewer's frame rates")
    ap.add_argument("--publisher", choices=["both", "process", "thread"], default="both",
                    help="where the live updates are traced (both: side by side)")
    ap.add_argument("--rounds", type=int, default=2, help="live measurements per publisher")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another viewer bundle (viewer.js) whose frame rates to measure too, "
                         "alternating with this one's")
    ap.add_argument("--update-interval", default=None,
                    help="comma-separated seconds between live updates to compare "
                         "(server/job.py UPDATE_INTERVAL), e.g. 0.075,0.06")
    ap.add_argument("--train-nice", default=None,
                    help="comma-separated niceness values for the training thread to compare "
                         "(server/job.py TRAIN_NICE), e.g. 0,10")
    args = ap.parse_args()
    why = browser.missing()
    if why:
        raise SystemExit(f"cannot benchmark the viewer: {why}")
    folder = Path(tempfile.mkdtemp(prefix="spacefold-bench-"))
    pages = {}
    for name, arch in () if args.no_fps else (("2-D  (2-2-5, 5000 points)", "2-2-5"),
                                               ("3-D  (2-100-5 via PCA, 5000 points)",
                                                "2-100-5")):
        tr = _trace(arch, 5000)
        g = tr.stages[0].grid
        assert g is not None
        pages[name] = write_html(tr, folder / f"{arch}.html")
        print(f"{name}: {len(tr.stages)} stages, grid {g.shape[0]}x{g.shape[1]}, "
              f"page {pages[name].stat().st_size / 1e6:.1f} MB")
        if args.baseline is not None:
            old = folder / f"{arch}-baseline.html"
            old.write_text(pages[name].read_text(encoding="utf-8").replace(
                bundle(), args.baseline.read_text(encoding="utf-8")), encoding="utf-8")
            pages[name + " [baseline]"] = old
    with browser.chromium(1280, 720) as ctx:
        for _ in range(args.rounds if args.baseline is not None else 1):
            for name, html in pages.items():
                fps, first = viewer_fps(ctx, html, args.seconds)
                print(f"viewer {name}: {fps:5.1f} fps while animating (target >= 50); "
                      f"first frame after {first:.2f} s")
        if args.no_live:
            return
        modes = {"both": (True, False), "process": (True,), "thread": (False,)}[args.publisher]
        nices = [int(v) for v in args.train_nice.split(",")] if args.train_nice else [None]
        intervals = [float(v) for v in args.update_interval.split(",")] \
            if args.update_interval else [None]
        for _ in range(args.rounds):         # alternated: the machine's load drifts
            for process in modes:
                for nice in nices:
                    for interval in intervals:
                        ups, eps = live_updates(ctx, args.seconds, process, nice, interval)
                        where = "tracing process" if process else "tracing thread "
                        if nice is not None:
                            where += f", training nice {nice:+d}"
                        if interval is not None:
                            where += f", every {1000 * interval:.0f} ms"
                        print(f"live app (spiral 5, 2-100-5, 1000 points, {where}): "
                              f"{ups:4.1f} updates/s drawn (target >= 10), {eps:.0f} epochs/s "
                              f"trained meanwhile; load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
