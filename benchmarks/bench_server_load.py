"""Load test of ``spacefold serve`` (issue 13): N clients each train the maximum configuration
(5,000 points, 6x256 hidden layers; half at batch 1, half full batch), then close; also two
abandoned maximum-size exports. Prints the jobs started and stopped, the time until
/api/jobs says 0, and the server's RSS (its own and with the tracing processes) idle, at
peak and after.

    python benchmarks/bench_server_load.py --clients 10 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from typing import Any

import psutil

MAX_CFG = {"dataset": "spiral", "n": 5000, "arch": "2-256-256-256-256-256-256-5",
           "epochs": 100_000}
BIG_EXPORT = {"dataset": "spiral", "n": 5000, "arch": "2-256-256-5", "epochs": 70}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss(proc: psutil.Process) -> tuple[float, float]:
    """(server MB, server + children MB)."""
    own = proc.memory_info().rss
    kids = 0
    for c in proc.children(recursive=True):
        try:
            kids += c.memory_info().rss
        except psutil.Error:
            pass
    return own / 2**20, (own + kids) / 2**20


def running(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs", timeout=30) as r:
        return int(json.loads(r.read())["running"])


def client(stack: ExitStack, port: int, cfg: dict[str, Any]) -> Any:
    from websockets.sync.client import connect

    ws = stack.enter_context(connect(f"ws://127.0.0.1:{port}/ws",
                                     origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
                                     max_size=None, open_timeout=60))
    ws.send(json.dumps({"cmd": "config", "config": cfg}))
    ws.send(json.dumps({"cmd": "train"}))
    while True:
        m = ws.recv(timeout=120)
        if isinstance(m, str):
            msg = json.loads(m)
            if msg.get("state") == "training":
                return ws
            if msg["type"] == "error":
                raise SystemExit(f"job refused: {msg['message']}")


def wait_idle(port: int, limit: float = 60) -> float:
    t0 = time.monotonic()
    while running(port) and time.monotonic() - t0 < limit:
        time.sleep(0.02)
    return time.monotonic() - t0


def stop_latency(rounds: int) -> None:
    """In this process: how long after ``cancel()`` a training job's threads are gone, for
    the maximum configuration at batch 1 and full batch and for the default."""
    from spacefold.server import tracer
    from spacefold.server.config import Config
    from spacefold.server.job import Job

    for name, cfg in (("max, batch 1", {**MAX_CFG, "batch_size": 1}),
                      ("max, full batch", MAX_CFG), ("default 2-100-5", {})):
        waits = []
        for r in range(rounds):
            job = Job(Config(**cfg, seed=r), lambda m: None)
            job.start()
            job.train()
            time.sleep(2.0)
            t0 = time.perf_counter()
            job.cancel()
            while job.alive:
                time.sleep(0.001)
            waits.append(time.perf_counter() - t0)
        print(f"stop latency, {name}: " + ", ".join(f"{w * 1000:.0f} ms" for w in waits))
    tracer.close_workers()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5.0, help="training time before closing")
    ap.add_argument("--exports", type=int, default=2, help="abandoned exports")
    ap.add_argument("--latency-rounds", type=int, default=3,
                    help="stop-latency measurements per configuration (0: skip)")
    args = ap.parse_args()
    if args.latency_rounds:
        stop_latency(args.latency_rounds)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "spacefold", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL)
    proc = psutil.Process(server.pid)
    peak = [0.0, 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                own, total = rss(proc)
            except psutil.Error:
                return
            peak[0], peak[1] = max(peak[0], own), max(peak[1], total)
            time.sleep(0.1)

    try:
        for _ in range(600):
            try:
                running(port)
                break
            except OSError:
                time.sleep(0.1)
        with ExitStack() as stack:             # warm up: torch imported, tracers started
            client(stack, port, {"dataset": "xor", "n": 40, "arch": "2-4-2"})
            time.sleep(1)
        req = urllib.request.Request(    # and the export's modules
            f"http://127.0.0.1:{port}/api/export", method="POST",
            data=json.dumps({"dataset": "xor", "n": 40, "arch": "2-4-2", "epochs": 3}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=120).read()
        wait_idle(port)
        time.sleep(1)
        idle = rss(proc)
        threading.Thread(target=sample, daemon=True).start()
        with ExitStack() as stack:
            for i in range(args.clients):
                client(stack, port, {**MAX_CFG, "seed": i,
                                     "batch_size": 1 if i % 2 else None})
            started = running(port)
            time.sleep(args.seconds)
            during = running(port)
            t_close = time.monotonic()
        to_stop = wait_idle(port)
        stopped_at = time.monotonic() - t_close
        socks = []
        body = json.dumps(BIG_EXPORT).encode()
        for _ in range(args.exports):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"POST /api/export HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                      f"application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            socks.append(s)
        deadline = time.time() + 30
        while running(port) < args.exports and time.time() < deadline:
            time.sleep(0.02)
        exports = running(port)
        time.sleep(1)
        for s in socks:
            s.close()
        export_stop = wait_idle(port)
        time.sleep(2)
        after = rss(proc)
        stop.set()
        print(f"clients {args.clients}: jobs started {started}, running after "
              f"{args.seconds:g} s {during}, all stopped {to_stop:.2f} s after the last close "
              f"({stopped_at:.2f} s from closing)")
        print(f"abandoned exports: {exports} counted in /api/jobs, stopped {export_stop:.2f} s "
              f"after their clients closed")
        print(f"RSS server / server+tracers MB: idle {idle[0]:.0f} / {idle[1]:.0f}, peak "
              f"{peak[0]:.0f} / {peak[1]:.0f}, after {after[0]:.0f} / {after[1]:.0f} "
              f"({100 * (after[0] / idle[0] - 1):+.0f}% / {100 * (after[1] / idle[1] - 1):+.0f}%"
              f" of idle)")
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
