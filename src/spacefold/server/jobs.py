"""The app's training sessions: a bounded config, and a job that trains in a thread and
publishes the live trace several times a second.

Pause and Step block inside the trainer's per-epoch ``progress`` callback, so one Adam
optimizer runs through the whole session; Stop raises out of it. Nothing here knows HTTP.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import os
import secrets
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import spacefold.limits as limits
from spacefold.data import Dataset
from spacefold.errors import DataError, SpacefoldError
from spacefold.export import pack, payload
from spacefold.server.config import Config
from spacefold.server.uploads import is_upload

# Bounds (points, widths, depth, epochs, jobs, uploads): spacefold.limits, read at each use.
UPDATE_INTERVAL = 0.06  # seconds between live updates (at most ≈16/s). Measured (bench_viewer
                        # --update-interval 0.075,0.06, 3 rounds, 2 cores at load 4.6-5.3, binary
                        # updates): 75 ms → 11.0-11.8 updates/s (the cap, 13.3, less updates
                        # that came back out of order), 60 ms → 10.9-14.6, epochs/s alike
LIVE_TRACERS = 2        # tracing processes (shared by all sessions), one publisher thread per
                        # tracer per job: while one traces update n the other traces n+1, so no
                        # process waits on this one's GIL between updates; an update that
                        # comes back after a newer one is dropped. Measured (bench_viewer,
                        # 2 shared cores, load 2.3-3.5): 1 → 8.1-8.6 updates/s, 2 → 8.5-9.5
STEP_EPOCHS = 10
LIVE_REGION_RES = 40    # region mesh vertices per side in live updates
UNIT_MAPS_EVERY = 4     # live updates carry the per-neuron heatmaps every this many (the page
                        # keeps the last ones): a third of an update's tracing time otherwise
TRAIN_NICE = 0          # niceness of the training thread (Linux: per thread); > 0 lets the
                        # live updates' tracing come first on a busy machine. Measured (bench_viewer
                        # --train-nice 0,10, 2 cores): +10 gave 2x the updates/s at load 5 but none
                        # at load 3-4, and 0.4-0.7x the epochs/s: off by default


class Stopped(Exception):
    """Raised inside the trainer's callback to end a job."""


JOBS: weakref.WeakSet[Job] = weakref.WeakSet()
LIVE: weakref.WeakValueDictionary[str, Job] = weakref.WeakValueDictionary()   # id → job


def find(key: str) -> Job | None:
    """The job with this id while its session holds it (the page is open), else None."""
    job = LIVE.get(key)
    return None if job is None or job._stop else job


def cancel_all() -> None:
    """Ask every job and export to stop (the server is shutting down); does not wait."""
    for j in list(JOBS):
        j.cancel()
    for e in list(EXPORTS):
        e.cancel()


def running_jobs() -> int:
    """Jobs with a thread alive in this process: training sessions (paused ones too) and
    exports (a test checks disconnects stop theirs)."""
    return sum(1 for j in list(JOBS) if j.alive) + sum(1 for e in list(EXPORTS) if e.alive)


def release_memory() -> None:
    """Give freed memory back to the system once no job is left.

    Each training thread's tensors come from its own glibc malloc arena, and glibc keeps
    freed arena memory mapped: measured (benchmarks/bench_server_load.py, 10 maximum jobs),
    the server stayed ~36% above its idle RSS after every job had ended, and within a few
    percent with this ``malloc_trim(0)``. Elsewhere than glibc this does nothing.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def end(job: Job) -> None:
    """Stop ``job``, waiting for its threads; memory goes back once no job is left."""
    job.stop()
    _ended()


_JANITOR_DIRTY = threading.Event()
_JANITOR_LOCK = threading.Lock()
_JANITOR_THREAD: list[threading.Thread] = []


def _ended() -> None:
    """A job or export has ended: once none runs, :func:`release_memory` (a thread that
    looks twice a second, so jobs ending together cannot each leave it to the other)."""
    _JANITOR_DIRTY.set()
    with _JANITOR_LOCK:
        if not _JANITOR_THREAD:
            t = threading.Thread(target=_janitor, name="spacefold-janitor", daemon=True)
            _JANITOR_THREAD.append(t)
            t.start()


def _janitor() -> None:
    while True:
        _JANITOR_DIRTY.wait()
        time.sleep(0.5)
        if running_jobs() == 0:
            _JANITOR_DIRTY.clear()
            release_memory()


def busy_message() -> str:
    return (f"the server is running {running_jobs()} jobs, the most it runs at once "
            f"({limits.MAX_JOBS}); try again when one has ended")


EXPORTS: weakref.WeakSet[Export] = weakref.WeakSet()


class Export:
    """One ``/api/export``: trains a config in a thread, then traces it and writes the HTML.

    Bounded before it starts (``EXPORT_WORK``) and while it runs (``EXPORT_SECONDS``);
    :meth:`cancel` (the client went away) ends the training within a mini-batch. Raises
    :class:`DataError` from the constructor when the work is over the bound.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        spec = cfg.spec()
        weights = sum((a + 1) * b for a, b in zip(spec.widths, spec.widths[1:], strict=False))
        points = len(cfg.make_data()) if is_upload(cfg.dataset) else cfg.n
        points = max(int(points * (1 - cfg.test)), 1)
        work = float(weights) * points * cfg.epochs
        if work > limits.EXPORT_WORK:
            raise DataError(f"this export would train {weights:,} weights on {points:,} points "
                            f"for {cfg.epochs:,} epochs ({work:.1e}); at most "
                            f"{limits.EXPORT_WORK:.0e} "
                            f"here: use fewer epochs or points or a smaller network, or save "
                            f"the weights from the live session")
        self.page: str | None = None
        self.error: str | None = None
        self.done = threading.Event()
        self._stop = False
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        EXPORTS.add(self)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._deadline = time.monotonic() + limits.EXPORT_SECONDS
        self._thread = threading.Thread(target=self._main, name="spacefold-export",
                                        daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._stop = True

    def _check(self) -> None:
        if self._stop:
            raise Stopped()
        if time.monotonic() > self._deadline:
            raise DataError(f"the export's training took more than {limits.EXPORT_SECONDS:g} s on "
                            f"this server; use fewer epochs or a smaller network")

    def _main(self) -> None:
        import torch

        import spacefold as sf
        from spacefold.export import to_html

        torch.set_num_threads(1)
        cfg = self.cfg
        try:
            job = Job(cfg, lambda _: None)
            sf.train(job.net, job.train_data, epochs=cfg.epochs, lr=cfg.lr,
                     batch_size=cfg.batch_size, weight_decay=cfg.l2, target_accuracy=None,
                     seed=cfg.seed, interrupt=self._check)
            self._check()
            self.page = to_html(sf.trace(job.net, job.data),
                                title=f"{cfg.dataset} · {cfg.arch}")
        except Stopped:
            self.error = "cancelled"
        except SpacefoldError as e:
            self.error = str(e)
        except Exception as e:  # pragma: no cover - reported, never a silent dead export
            self.error = f"export failed: {type(e).__name__}: {e}"
        finally:
            self.done.set()
            _ended()


class Job:
    """One session's network: trains in a thread; ``emit(message)`` receives its updates.

    Starts paused with the initial weights shown. Messages are dicts: ``{"type": "update",
    "job", "epoch", "bin"}`` (``bin``: the update packed by :func:`live_message`, sent as a
    binary WebSocket message), ``{"type": "status", "state"}``, ``{"type": "error",
    "message"}``.
    """

    def __init__(self, cfg: Config, emit: Callable[[dict[str, Any]], None], *,
                 edited: tuple[Any, ...] | None = None, net: Any = None,
                 epoch: int = 0, budget: int | None = None) -> None:
        self.cfg = cfg
        self.emit = emit
        data = cfg.make_data()
        self.train_data: Dataset = data
        self.test_data: Dataset | None = None
        self.added = 0                    # the user's points: the last `added` training points
        if edited is not None:            # the user's points: training and held-out sets
            self.train_data, self.test_data = edited[0], edited[1]
            self.added = int(edited[2]) if len(edited) > 2 else 0
            data = self.train_data
        elif cfg.test > 0:
            self.train_data, self.test_data = data.split(cfg.test, seed=cfg.seed)
        if self.test_data is not None:
            # the points shown: training points first, then the held-out ones
            data = Dataset(np.concatenate([self.train_data.x, self.test_data.x]),
                           np.concatenate([self.train_data.y, self.test_data.y]),
                           data.name, max(self.train_data.classes, self.test_data.classes),
                           data.params)
        self.data = data
        self.spec = cfg.spec()
        self.state = "paused"
        self.epoch = epoch
        self._epoch0 = epoch     # epochs trained before an edit restarted the trainer
        # epochs this trainer runs: the config's remainder, or (after an edit) a fresh budget
        self.budget = max(cfg.epochs - epoch, 1) if budget is None else max(int(budget), 1)
        self.loss = math.nan
        self.acc = 0.0
        self._cv = threading.Condition()
        self._run = False        # training allowed to proceed
        self._budget = -1        # epochs left before pausing again (-1: unlimited)
        self._stop = False
        self._last = 0.0         # when the last update was started (perf_counter)
        self._cost = 0.0         # seconds the last update took to make
        self._thread: threading.Thread | None = None
        # Updates are traced on a second thread from a snapshot of the weights, so training
        # never waits for them (numpy releases the GIL: two cores, two jobs).
        self._snap: tuple[Any, int, float, str] | None = None
        self._publishers: list[threading.Thread] = []
        self._emit_lock = threading.Lock()
        self.updates = 0
        self.key = secrets.token_hex(8)      # the job's id in URLs (api/render/<id>)
        self.shown: tuple[Any, int] | None = None   # (network copy, epoch) last published
        self._shown_final = False    # the last update shown was a pause's or the end's
        import spacefold as sf

        self.net = net if net is not None else sf.build(self.spec.arch,
                                                        list(self.spec.activations),
                                                        seed=cfg.seed)
        JOBS.add(self)
        LIVE[self.key] = self

    def edited(self, add: Any = None,
               remove: Any = None) -> tuple[Dataset, Dataset | None, int]:
        """The data with a point added to the training set (``add`` = [x, y, label]) or the
        point nearest ``remove`` = [x, y] taken out (ConvNetJS's click / shift-click), and
        how many of the training points are the user's (they come last)."""
        train, test = self.train_data, self.test_data
        if train.dim != 2:
            raise DataError(f"points can only be added to or removed from a 2-D dataset "
                            f"({train.name} has {train.dim} inputs)")
        try:
            vals = [float(v) for v in (add if add is not None else remove)]
        except (TypeError, ValueError):
            raise DataError("edit needs add: [x, y, label] or remove: [x, y] numbers") from None
        if len(vals) != (3 if add is not None else 2) or \
                not all(math.isfinite(v) and abs(v) <= limits.APP_MAX_COORDINATE for v in vals):
            raise DataError(f"edit {vals}: need finite coordinates within ±10000 "
                            f"(and a label for add)")
        if add is not None:
            label = int(vals[2])
            if not (vals[2] == label and 0 <= label < max(self.spec.widths[-1], 2)):
                raise DataError(f"label {vals[2]:g} must be a class 0-"
                                f"{max(self.spec.widths[-1], 2) - 1}")
            if len(self.data) >= limits.APP_MAX_POINTS:
                raise DataError(f"already {len(self.data)} points; at most "
                                f"{limits.APP_MAX_POINTS}")
            x = np.concatenate([train.x, np.array([vals[:2]], dtype=train.x.dtype)])
            y = np.concatenate([train.y, np.array([label], dtype=train.y.dtype)])
            return (Dataset(x, y, train.name, max(train.classes, label + 1), train.params), test,
                    self.added + 1)
        sets = [train] + ([test] if test is not None else [])
        d2 = [((s.x - np.array(vals[:2])) ** 2).sum(axis=1) for s in sets]
        which = int(np.argmin([d.min() for d in d2]))
        keep = np.ones(len(sets[which]), dtype=bool)
        gone = int(np.argmin(d2[which]))
        keep[gone] = False
        added = self.added - (which == 0 and gone >= len(train) - self.added)
        if keep.sum() < 2 or len(self.data) - 1 < limits.APP_MIN_POINTS:
            raise DataError(f"cannot remove more points: at least {limits.APP_MIN_POINTS} "
                            f"stay, with 2 or more in each set")
        s = sets[which]
        out = Dataset(s.x[keep], s.y[keep], s.name, s.classes, s.params)
        return (out, test, added) if which == 0 else (train, out, added)

    def groups(self) -> tuple[int, int, int]:
        """(generated training, user-added training, held-out) point counts of ``data``."""
        n_train = len(self.train_data)
        return n_train - self.added, self.added, len(self.data) - n_train

    # -- commands (any thread) -------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return any(t is not None and t.is_alive() for t in (self._thread, *self._publishers))

    def start(self) -> None:
        """Start the threads; the first update (the initial weights) is traced by a
        publisher like every other, so a big network's first picture (seconds to trace)
        neither holds up the session's commands nor a stop."""
        for i in range(max(LIVE_TRACERS, 1)):   # start the tracing processes
            worker(i)
        self._offer(self.epoch, self.loss)
        self._thread = threading.Thread(target=self._main, name="spacefold-train", daemon=True)
        self._publishers = [threading.Thread(target=self._publish_loop, args=(i,),
                                             name=f"spacefold-trace-{i}", daemon=True)
                            for i in range(max(LIVE_TRACERS, 1))]
        self._thread.start()
        for t in self._publishers:
            t.start()

    def train(self, until: Any = None) -> None:
        """Train on; ``until``: pause at that epoch (a shared URL's run, reproduced)."""
        if until is None:
            self._command(run=True, budget=-1, state="training")
            return
        if isinstance(until, bool) or not isinstance(until, int) or \
                not self.epoch < until <= self._epoch0 + self.budget:
            raise DataError(f"train until epoch {until!r}: need a whole number after the "
                            f"current epoch {self.epoch}, at most {self._epoch0 + self.budget}")
        self._command(run=True, budget=until - self.epoch, state="training")

    def pause(self) -> None:
        self._command(run=False, budget=-1, state="paused")

    def step(self) -> None:
        self._command(run=True, budget=STEP_EPOCHS, state="training")

    def cancel(self) -> None:
        """Ask both threads to end, without waiting (safe from an event loop)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()

    def stop(self, wait: float = 5.0) -> None:
        """End the job and wait up to ``wait`` seconds per thread for it to finish."""
        self.cancel()
        for t in (self._thread, *self._publishers):
            if t is not None and t is not threading.current_thread():
                t.join(wait)

    def checkpoint(self) -> bytes:
        """The current weights as a spacefold checkpoint (safetensors + spec + data recipe)."""
        import spacefold as sf

        net = copy.deepcopy(self.net)      # a consistent copy while training goes on
        recipe: dict[str, Any] = {"name": self.cfg.dataset, "params": self.cfg.data_params()}
        if is_upload(self.cfg.dataset):
            recipe = {"upload": self.cfg.dataset}
        meta = {"data": recipe, "train": {"epochs": self.epoch, "lr": self.cfg.lr,
                                          "batch_size": self.cfg.batch_size,
                                          "weight_decay": self.cfg.l2, "seed": self.cfg.seed,
                                          "accuracy": self.acc, "source": "spacefold serve"}}
        with tempfile.TemporaryDirectory(prefix="spacefold-save-") as tmp:
            path = sf.save(net, Path(tmp) / "model.safetensors", spec=self.spec, meta=meta)
            return path.read_bytes()

    def _command(self, run: bool, budget: int, state: str) -> None:
        with self._cv:
            if self.state in ("done", "diverged", "stopped"):
                return
            self._run, self._budget = run, budget
            self.state = state
            self._cv.notify_all()
        self.emit({"type": "status", "state": state, "epoch": self.epoch})

    # -- the training thread ---------------------------------------------------------------
    def _main(self) -> None:
        import torch

        import spacefold as sf

        torch.set_num_threads(1)
        if TRAIN_NICE > 0:
            with contextlib.suppress(OSError, AttributeError):   # not on every platform
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAIN_NICE)
        try:
            if not self._wait():
                return
            sf.train(self.net, self.train_data, epochs=self.budget,
                     lr=self.cfg.lr,
                     batch_size=self.cfg.batch_size, weight_decay=self.cfg.l2,
                     target_accuracy=None, seed=self.cfg.seed, progress=self._progress,
                     interrupt=self._interrupt)
            self.state = "done"
            self.publish(remote=True)
            self.emit({"type": "status", "state": "done", "epoch": self.epoch})
        except Stopped:
            self.state = "stopped"
        except SpacefoldError as e:        # divergence: name the step and learning rate
            self.state = "diverged"
            self.emit({"type": "error", "message": str(e)})
            self.emit({"type": "status", "state": "diverged", "epoch": self.epoch})
        except Exception as e:  # pragma: no cover - reported, never a silent dead job
            self.state = "error"
            self.emit({"type": "error", "message": f"training failed: {e}"})

    def _wait(self) -> bool:
        """Block while paused; False once stopped."""
        with self._cv:
            while not self._run and not self._stop:
                self._cv.wait(0.5)
            return not self._stop

    def _interrupt(self) -> None:
        """Between mini-batches (and pieces of a big batch): stop within milliseconds,
        hold while paused, and keep the live view fresh during a long epoch."""
        if self._stop:
            raise Stopped()
        if self._snap is None and time.perf_counter() - self._last >= UPDATE_INTERVAL:
            self._offer(self.epoch, self.loss)
        if not self._wait():
            raise Stopped()

    def _offer(self, epoch: int, loss: float) -> None:
        """Put a snapshot of the weights in the publishers' slot (replacing a waiting one)."""
        snap = (self.snapshot(), epoch, loss, self.state)
        with self._cv:
            self._snap = snap
            self._last = time.perf_counter()
            self._cv.notify_all()

    def _progress(self, epoch: int, epochs: int, loss: float, acc: float) -> None:
        epoch += self._epoch0
        self.epoch, self.loss, self.acc = epoch, loss, acc
        if self._stop:
            raise Stopped()
        pause_now = False
        with self._cv:
            if self._budget > 0:
                self._budget -= 1
                if self._budget == 0:
                    self._run, self._budget, pause_now = False, -1, True
                    self.state = "paused"
        # the next update once UPDATE_INTERVAL has passed, and never before training has had
        # as much time as the last update took: a slow machine shows fewer updates, not a
        # stalled network
        now = time.perf_counter()
        if pause_now:
            self.publish(remote=True)   # a step's result is shown before the pause is announced
        elif now - self._last >= UPDATE_INTERVAL:
            # the next weights to show wait in one slot while the publisher traces the last
            # ones (a pipeline: it starts on them the moment it is free); a waiting snapshot
            # is replaced by a fresher one, never queued
            self._offer(epoch, loss)
        if pause_now:
            self.emit({"type": "status", "state": "paused", "epoch": epoch})
        if not self._wait():
            raise Stopped()

    def _publish_loop(self, which: int) -> None:
        while True:
            with self._cv:
                while self._snap is None and not self._stop:
                    self._cv.wait(0.5)
                if self._stop:
                    return
                snap, self._snap = self._snap, None     # the slot is free for the next one
            assert snap is not None
            self.publish(*snap, remote=True, which=which)

    def snapshot(self) -> Any:
        """The live weights as a torch-free :class:`Network` (a copy: training goes on)."""
        from spacefold.model.network import Network

        state = self.net.state_dict()
        return Network(self.spec, {k: v.detach().cpu().numpy().copy() for k, v in state.items()})

    def publish(self, net: Any = None, epoch: int | None = None, loss: float | None = None,
                state: str | None = None, remote: bool = False, which: int = 0) -> None:
        """Trace the network (default: a snapshot of the live one) and emit it with the
        metrics. ``remote``: in the worker process (see :func:`worker`), so tracing never
        competes with the training thread for this process's GIL; ``which`` of them."""
        t0 = time.perf_counter()
        net = self.snapshot() if net is None else net       # snapshots are never trained
        epoch = self.epoch if epoch is None else epoch
        loss = self.loss if loss is None else loss
        args = (net, self.data, len(self.train_data), self.test_data is not None,
                f"{self.cfg.dataset} · {self.spec.arch}", self.cfg.lr, self.key, epoch,
                loss, state or self.state, not remote or self.updates % UNIT_MAPS_EVERY == 0)
        pool = worker(which) if remote else None
        msg: dict[str, Any] | None = None
        if pool is not None:
            try:
                msg = pool.call(*args, as_bytes=True, added=self.added,
                                abort=lambda: self._stop)
            except Exception:     # a broken worker: trace here from now on
                _drop_worker()
            if msg is None and self._stop:
                return
        if msg is None:
            msg = live_message(*args, as_bytes=True, added=self.added)
        if msg["type"] != "update":
            if self.state not in ("diverged", "stopped"):   # else the job has said why
                self.emit(msg)
            return
        with self._emit_lock:
            final = (state or self.state) != "training"
            if remote and self.shown is not None and (
                    epoch < self.shown[1] or
                    (epoch == self.shown[1] and self._shown_final and not final)):
                return           # another tracer already sent a newer update, or this epoch
                                 # was shown at a pause or the end: a late "training" update
                                 # would make the page's button read Pause for good
            self.shown = (net, epoch)
            self._shown_final = final
            self.updates += 1
            self._cost = time.perf_counter() - t0
            self.emit(msg)


def live_message(net: Any, data: Dataset, n_train: int, has_test: bool, title: str,
                 lr: float, key: str, epoch: int, loss: float, state: str,
                 unit_maps: bool = True, as_bytes: bool = False,
                 added: int = 0) -> dict[str, Any]:
    """One live update: the trace's payload and the metrics (or an error message).

    ``added``: the last ``added`` of the ``n_train`` training points are the user's (the page
    draws generated, added and held-out points differently).
    ``as_bytes``: the update is packed here (in the worker process; export.pack: JSON
    metadata and raw float32 arrays, no base64) and travels as ``{"type": "update", "job",
    "epoch", "bin": bytes}``, which the session sends as one binary WebSocket message.
    """
    import spacefold as sf
    from spacefold.trace import GridSpec

    try:
        t = sf.trace(net, data, grid=GridSpec(lines=17, verts=48, regions=0))
        _reuse_colors(t)
        out = t.output
        if not np.isfinite(out).all():
            raise FloatingPointError
    except (FloatingPointError, np.linalg.LinAlgError, SpacefoldError):
        return {"type": "error", "message": f"the network's outputs are not finite at epoch "
                                            f"{epoch} (learning rate {lr:g}); nothing to show"}
    except (IndexError, ValueError) as e:    # e.g. too few points to project: say so
        return {"type": "error", "message": f"cannot trace this network on {len(data)} "
                                            f"points: {e}"[:300]}
    msg: dict[str, Any] = {"type": "update", "job": key, "epoch": epoch, "state": state,
                           "loss": loss if math.isfinite(loss) else None,
                           "trace": payload(t, title=title, region_res=LIVE_REGION_RES,
                                            unit_maps=unit_maps, raw=as_bytes,
                                            groups=(n_train - added, added,
                                                    len(data) - n_train))}
    msg.update(_metrics(t, out, data.y, slice(0, n_train), "train"))
    if has_test:
        msg.update(_metrics(t, out, data.y, slice(n_train, None), "test"))
    if not as_bytes:
        return msg
    try:
        blob = pack(msg)
    except ValueError:
        return {"type": "error", "message": "non-finite values in the network's output; "
                                            "training diverged"}
    return {"type": "update", "job": key, "epoch": epoch, "bin": blob}


_COLORS: dict[tuple[str, bytes], np.ndarray] = {}   # (mode, digest of the input) → colours


def _reuse_colors(t: Any) -> None:
    """Let ``t.colors`` reuse the colours of an earlier update of the same data.

    They depend only on the input points and labels (the same every update of a session),
    and the position colour map (medians, percentiles) was a fifth of an update's tracing
    time. The cached arrays are the very numbers ``Trace.colors`` returns.
    """
    labels = b"" if t.labels is None else np.ascontiguousarray(t.labels).tobytes()
    digest = hashlib.sha1(np.ascontiguousarray(t.stages[0].values).tobytes() + b"|" + labels,
                          usedforsecurity=False).digest()
    compute = t.colors

    def colors(by: str = "class") -> np.ndarray:
        key = (by, digest)
        got = _COLORS.get(key)
        if got is None:
            got = compute(by)
            if len(_COLORS) >= 32:
                _COLORS.clear()
            _COLORS[key] = got
        return got.copy()

    setattr(t, "colors", colors)  # noqa: B010 - an instance override of the method


# -- the worker process that traces live updates ----------------------------------------------
# One process for the whole server (all sessions share it: bounded), started on first use.
# Tracing is numpy on small arrays, mostly Python: in the training thread's process it would
# take turns with training for the GIL; in its own process it runs on the other core. It is
# ``python -m spacefold.server.tracer`` (not multiprocessing, whose spawn re-runs the user's
# main script), fed pickles over a pipe: our own child, so unpickling is safe.
LIVE_WORKER = os.environ.get("SPACEFOLD_LIVE_WORKER", "1") != "0"
_WORKER: list[Tracer] = []
_WORKER_LOCK = threading.Lock()


class Tracer:
    """A child process that runs :func:`live_message` calls one at a time.

    A call made for a job that stops meanwhile is abandoned within ~20 ms: the process is
    killed (a big network's update takes seconds to trace) and started again on the next
    call, so a stopped job never keeps a core busy.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc = self._spawn()
        self.restarts = 0

    @staticmethod
    def _spawn() -> subprocess.Popen[bytes]:
        import sys

        return subprocess.Popen([sys.executable, "-m", "spacefold.server.tracer"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, *args: Any, abort: Callable[[], bool] | None = None, **kw: Any) -> Any:
        """The result of ``live_message(*args, **kw)`` traced in the process; None when
        ``abort()`` became true before it came back."""
        import pickle
        import select

        while not self.lock.acquire(timeout=0.02):
            if abort is not None and abort():
                return None
        try:
            if abort is not None and abort():
                return None
            if self.proc.poll() is not None:      # killed by an abandoned call: a new one
                self.proc = self._spawn()
                self.restarts += 1
            assert self.proc.stdin is not None and self.proc.stdout is not None
            request = memoryview(pickle.dumps((args, kw), protocol=pickle.HIGHEST_PROTOCOL))
            fd = self.proc.stdin.fileno()
            while request:     # ~1 MB for a big job: the pipe takes 64 KB at a time, and a
                # process still starting (imports) reads nothing for a second or two
                _, writable, _ = select.select([], [fd], [], 0.02)
                if writable:
                    request = request[os.write(fd, request[:65536]):]
                elif abort is not None and abort():
                    return self._abandon()
            while abort is not None:
                ready, _, _ = select.select([self.proc.stdout], [], [], 0.02)
                if ready:
                    break
                if abort():
                    return self._abandon()
            ok, value = pickle.load(self.proc.stdout)
        finally:
            self.lock.release()
        if not ok:
            raise RuntimeError(value)
        return value

    def _abandon(self) -> None:
        """The call's job has stopped: end the process mid-call (started again next time)."""
        self.proc.kill()
        self.proc.wait(5)

    def close(self, wait: float = 5.0) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()      # the child ends at end of input
            self.proc.wait(wait)
        except (OSError, subprocess.TimeoutExpired):   # already dead, or stuck
            self.proc.kill()
            self.proc.wait(5)


def worker(which: int = 0) -> Tracer | None:
    """Shared tracing process ``which`` (started on first use), or None when disabled or
    broken."""
    if not LIVE_WORKER:
        return None
    with _WORKER_LOCK:
        while len(_WORKER) <= which:
            try:
                _WORKER.append(Tracer())
            except OSError:
                return None
        return _WORKER[which]


def close_workers() -> None:
    """End the tracing processes (the server is exiting: an update being traced is not
    waited for beyond half a second); they start again on next use."""
    with _WORKER_LOCK:
        while _WORKER:
            _WORKER.pop().close(wait=0.5)


def _drop_worker() -> None:
    global LIVE_WORKER
    with _WORKER_LOCK:
        LIVE_WORKER = False
        while _WORKER:
            _WORKER.pop().close()


def _metrics(t: Any, out: np.ndarray, y: np.ndarray, sel: slice,
             name: str) -> dict[str, float | None]:
    """Cross-entropy on the logits and accuracy for the points ``sel``."""
    z = out[sel].astype(np.float64)
    yy = np.asarray(y)[sel]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-logp[np.arange(len(yy)), yy].mean())
    acc = float((t.predict(out[sel]) == yy).mean())
    return {f"{name}_loss": loss if math.isfinite(loss) else None, f"{name}_acc": acc}
