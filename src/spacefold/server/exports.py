"""``POST /api/export``: train a config to its last epoch in a thread, then trace it and write
the one-page HTML export. Bounded in work before it starts and in time while it runs."""

from __future__ import annotations

import threading
import time

import spacefold.limits as limits
from spacefold.errors import DataError, SpacefoldError
from spacefold.export import to_html
from spacefold.model.live import one_thread
from spacefold.server import running
from spacefold.server.config import Config
from spacefold.server.job import Job, Stopped
from spacefold.server.uploads import is_upload
from spacefold.trace import trace


class Export:
    """One ``/api/export``: trains a config in a thread, then traces it and writes the HTML.

    Bounded before it starts (``limits.EXPORT_WORK``) and while it runs (``EXPORT_SECONDS``);
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
                            f"{limits.EXPORT_WORK:.0e} here: use fewer epochs or points or a "
                            f"smaller network, or save the weights from the live session")
        self.page: str | None = None
        self.error: str | None = None
        self.done = threading.Event()
        self._stop = False
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        running.track(self)

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
        from spacefold.model.training import train

        one_thread()
        cfg = self.cfg
        try:
            job = Job(cfg, lambda _: None)       # the session's data and initial weights
            train(job.net, job.train_data, epochs=cfg.epochs, lr=cfg.lr,
                  batch_size=cfg.batch_size, weight_decay=cfg.l2, target_accuracy=None,
                  seed=cfg.seed, interrupt=self._check)
            self._check()
            self.page = to_html(trace(job.net, job.data), title=f"{cfg.dataset} · {cfg.arch}")
        except Stopped:
            self.error = "cancelled"
        except SpacefoldError as e:
            self.error = str(e)
        except Exception as e:  # pragma: no cover - reported, never a silent dead export
            self.error = f"export failed: {type(e).__name__}: {e}"
        finally:
            self.done.set()
            running.ended()
