"""The hub's `AlertSink`: accepts alerts at once and records them in the background.

Camera workers and sensor ingest must never wait on the database, nor lose an
alert because it is briefly unreachable. `submit()` only appends to a bounded
queue; one thread hands each alert to `CaseSink.record`, in order. A database
that is down is retried with capped backoff, holding the alert; a full queue
drops its oldest alert and counts it (`gridhub_alerts_total{outcome="dropped"}`);
an alert that fails for any other reason is logged with its traceback, counted
as `failed`, and the queue moves on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

import psycopg
from psycopg_pool import PoolTimeout

from hub.alerts.sink import CaseSink
from hub.infra.metrics import HubMetrics
from hub.model import Alert

log = logging.getLogger(__name__)


class AlertIntake:
    """A non-blocking front for `CaseSink`."""

    def __init__(self, sink: CaseSink, metrics: HubMetrics, limit: int = 100_000) -> None:
        self._sink = sink
        self._metrics = metrics
        self._queue: deque[Alert] = deque()
        self._limit = limit
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="alert-intake", daemon=True)
        self.max_backoff_s = 10.0

    def submit(self, alert: Alert) -> None:
        with self._cond:
            if len(self._queue) >= self._limit:
                dropped = self._queue.popleft()
                self._metrics.alerts.labels(dropped.kind, "dropped").inc()
                log.error("alert queue full: dropped a %s alert", dropped.kind)
            self._queue.append(alert)
            self._cond.notify()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Record what is queued (within `timeout_s`), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        backoff = 0.5
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                alert = self._queue[0]
            if self._record(alert):
                with self._cond:
                    self._queue.popleft()
                backoff = 0.5
                continue
            with self._cond:
                if self._stopping:
                    return  # the database is down at shutdown: nothing more to be done
                self._cond.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    def _record(self, alert: Alert) -> bool:
        """True when the alert is dealt with (recorded, or failed for good)."""
        try:
            self._sink.record(alert)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            log.warning("database unavailable, holding %d alert(s): %s", len(self._queue), exc)
            return False
        except Exception:
            log.exception("could not record a %s alert; skipped", alert.label)
            self._metrics.alerts.labels(alert.label, "failed").inc()
        return True
