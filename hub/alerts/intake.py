"""The hub's `AlertSink`: accepts alerts at once and records them in the background.

Camera workers and sensor ingest must never wait on the database, nor lose an
alert because it is briefly unreachable. `submit()` only appends to a bounded
queue (`hub.infra.retry_queue`); one thread hands each alert to `CaseSink.record`,
in order. A database that is down is retried with capped backoff, holding the
alert; a full queue drops its oldest waiting alert and counts it
(`gridhub_alerts_total{outcome="dropped"}`); an alert that fails for any other
reason is logged with its traceback, counted as `failed`, and the queue moves on.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import PoolTimeout

from hub.alerts.sink import CaseSink
from hub.infra.metrics import HubMetrics
from hub.infra.retry_queue import RetryPolicy, RetryQueue
from hub.model import Alert

log = logging.getLogger(__name__)


class AlertIntake(RetryQueue[Alert]):
    """A non-blocking front for `CaseSink`."""

    def __init__(self, sink: CaseSink, metrics: HubMetrics, limit: int = 100_000) -> None:
        retryable = (psycopg.OperationalError, PoolTimeout)
        policy = RetryPolicy(
            "alert-intake", limit, retryable, first_backoff_s=0.5, max_backoff_s=10.0
        )
        super().__init__(policy)
        self._sink = sink
        self._metrics = metrics

    def _apply(self, batch: list[Alert]) -> None:
        for alert in batch:
            self._sink.record(alert)

    def _held(self, batch: list[Alert], exc: BaseException) -> None:
        log.warning("database unavailable, holding %d alert(s): %s", self.pending, exc)

    def _failed(self, batch: list[Alert], exc: Exception) -> None:
        for alert in batch:
            log.exception("could not record a %s alert; skipped", alert.label)
            self._metrics.alerts.labels(alert.label, "failed").inc()

    def _dropped(self, item: Alert, overflow: int) -> None:
        self._metrics.alerts.labels(item.label, "dropped").inc()
        log.error("alert queue full: dropped a %s alert", item.label)
