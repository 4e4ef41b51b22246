"""A session's network: trains in a thread and publishes the live trace several times a second.

Pause and Step block inside the trainer's per-epoch ``progress`` callback, so one Adam
optimizer runs through the whole session; Stop raises out of it. Nothing here knows HTTP.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from spacefold.data import Dataset
from spacefold.errors import DataError, SpacefoldError
from spacefold.model import recipe
from spacefold.model.live import one_thread, snapshot
from spacefold.model.network import Network
from spacefold.server import points, running, tracer
from spacefold.server.config import Config
from spacefold.server.live import live_message
from spacefold.server.uploads import is_upload

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
UNIT_MAPS_EVERY = 4     # live updates carry the per-neuron heatmaps every this many (the page
                        # keeps the last ones): a third of an update's tracing time otherwise
TRAIN_NICE = 0          # niceness of the training thread (Linux: per thread); > 0 lets the
                        # live updates' tracing come first on a busy machine. Measured (bench_viewer
                        # --train-nice 0,10, 2 cores): +10 gave 2x the updates/s at load 5 but none
                        # at load 3-4, and 0.4-0.7x the epochs/s: off by default


class Stopped(Exception):
    """Raised inside the trainer's callback to end a job (or an export)."""


LIVE: weakref.WeakValueDictionary[str, Job] = weakref.WeakValueDictionary()   # id → job


def find(key: str) -> Job | None:
    """The job with this id while its session holds it (the page is open), else None."""
    job = LIVE.get(key)
    return None if job is None or job._stop else job


class Job:
    """One session's network: trains in a thread; ``emit(message)`` receives its updates.

    Starts paused with the initial weights shown. Messages are dicts: ``{"type": "update",
    "job", "epoch", "bin"}`` (``bin``: the update packed by :func:`live_message`, sent as a
    binary WebSocket message), ``{"type": "status", "state"}``, ``{"type": "error",
    "message"}``.
    """

    def __init__(self, cfg: Config, emit: Callable[[dict[str, Any]], None], *,
                 edited: points.Sets | None = None, net: Any = None,
                 epoch: int = 0, budget: int | None = None) -> None:
        self.cfg = cfg
        self.emit = emit
        self.train_data: Dataset = cfg.make_data()
        self.test_data: Dataset | None = None
        self.added = 0                    # the user's points: the last `added` training points
        if edited is not None:            # the user's points: training and held-out sets
            self.train_data, self.test_data, self.added = edited
        elif cfg.test > 0:
            self.train_data, self.test_data = self.train_data.split(cfg.test, seed=cfg.seed)
        self.data = points.shown(self.train_data, self.test_data)
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
        self._show_pause = False  # Pause was pressed: show the weights it stopped at
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
        if net is None:          # torch loads here, off the event loop, not when the app starts
            from spacefold.model.torch_build import build

            net = build(self.spec.arch, list(self.spec.activation_texts), seed=cfg.seed)
        self.net = net
        running.track(self)
        LIVE[self.key] = self

    def edited(self, add: Any = None, remove: Any = None) -> points.Sets:
        """The training and held-out sets with the user's edit (:func:`points.edit`), and
        how many of the training points are the user's (they come last)."""
        return points.edit((self.train_data, self.test_data, self.added),
                           max(self.spec.widths[-1], 2), add=add, remove=remove)

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
            tracer.worker(i)
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
        self._check_open("train")
        if until is None:
            self._command(run=True, budget=-1, state="training")
            return
        if isinstance(until, bool) or not isinstance(until, int) or \
                not self.epoch < until <= self._epoch0 + self.budget:
            raise DataError(f"train until epoch {until!r}: need a whole number after the "
                            f"current epoch {self.epoch}, at most {self._epoch0 + self.budget}")
        self._command(run=True, budget=until - self.epoch, state="training")

    def pause(self) -> None:
        self._check_open("pause")
        with self._cv:
            self._show_pause = self._run      # a running trainer shows where it stopped
        self._command(run=False, budget=-1, state="paused")

    def step(self) -> None:
        self._check_open("step")
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
        cfg = self.cfg
        data = {"upload": cfg.dataset} if is_upload(cfg.dataset) else \
            recipe.named(cfg.dataset, cfg.data_params())
        train = recipe.training(epochs=self.epoch, lr=cfg.lr, batch_size=cfg.batch_size,
                                weight_decay=cfg.l2, seed=cfg.seed, accuracy=self.acc,
                                source="spacefold serve")
        return recipe.checkpoint_bytes(self.net, self.spec, {"data": data, "train": train})

    FINISHED = ("done", "diverged", "error", "stopped")   # states no command moves on from

    def _check_open(self, what: str) -> None:
        """Raise :class:`DataError` (the session's one-line reply) when the run is over."""
        state, epoch = self.state, self.epoch
        if state not in self.FINISHED:
            return
        why = {"done": "its last epoch; raise epochs to train on, or press Reset",
               "diverged": "it diverged; press Reset (a lower learning rate may help)",
               "error": "its training failed; press Reset",
               "stopped": "it was stopped; send a config"}[state]
        raise DataError(f"cannot {what}: the run is finished at epoch {epoch} ({why})")

    def _command(self, run: bool, budget: int, state: str) -> None:
        with self._cv:
            if self.state in self.FINISHED:
                return
            self._run, self._budget = run, budget
            self.state = state
            self._cv.notify_all()
        self.emit({"type": "status", "state": state, "epoch": self.epoch})

    # -- the training thread ---------------------------------------------------------------
    def _main(self) -> None:
        from spacefold.model.training import train

        one_thread()
        if TRAIN_NICE > 0:
            with contextlib.suppress(OSError, AttributeError):   # not on every platform
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAIN_NICE)
        try:
            if not self._wait():
                return
            train(self.net, self.train_data, epochs=self.budget, lr=self.cfg.lr,
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
        """Block while paused; False once stopped. The training thread, stopping for a Pause,
        first offers the weights it stopped at: that update is a paused one, so it carries
        what a view at rest shows (the linear regions), and none of the running ones did."""
        with self._cv:
            if self._show_pause and not self._run and not self._stop:
                self._show_pause = False
                self._offer(self.epoch, self.loss)
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

    def snapshot(self) -> Network:
        """The live weights as a torch-free :class:`Network` (a copy: training goes on)."""
        return snapshot(self.net, self.spec)

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
        pool = tracer.worker(which) if remote else None
        msg: dict[str, Any] | None = None
        if pool is not None:
            try:
                msg = pool.call(*args, as_bytes=True, added=self.added,
                                abort=lambda: self._stop)
            except Exception:     # a broken worker: trace here from now on
                tracer.drop_workers()
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
